"""The public constructs: Environment, LangflowIDE, LangflowRuntime, GitOps."""
