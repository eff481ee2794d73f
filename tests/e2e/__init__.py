"""make e2e: the pods of dist/ run with real Langflow 1.13.0 (see README, "What make e2e proves")."""
