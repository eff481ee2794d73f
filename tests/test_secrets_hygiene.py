"""Secret values never enter dist/: Secrets are referenced by name, and the app lists which must exist."""

import re

from conftest import Synthesis

from langflow_cdk8s.tooling.inventory import required_secrets

CREDENTIAL_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|API_KEY|APIKEY|PRIVATE_KEY|CREDENTIAL)", re.I)
CREDENTIAL_VALUE = re.compile(r"(://[^:/\s]+:[^@$\s]+@|sk-[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|-----BEGIN)")


def leaks(objects: list[dict]) -> list[str]:
    """Secrets with data, and env values that look like credentials."""
    found = []
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "Secret" and (obj.get("data") or obj.get("stringData")):
            found.append(f"{where} carries secret data")
        spec = obj.get("spec", {}).get("template", {}).get("spec", {})
        for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
            for entry in container.get("env", []):
                value = entry.get("value")
                if value is None:
                    continue
                if CREDENTIAL_NAME.search(entry["name"]) and not entry["name"].endswith(("_FILE", "_SOURCE")):
                    found.append(f"{where} sets {entry['name']} as a plain value")
                if CREDENTIAL_VALUE.search(value):
                    found.append(f"{where} {entry['name']} looks like it embeds a credential")
    return found


def test_no_secret_value_in_dist(ref: Synthesis) -> None:
    assert leaks(ref.objects()) == []


def test_the_leak_check_catches_what_it_should() -> None:
    bad = [
        {"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": "hunter2"}},
        {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"env": [
            {"name": "LANGFLOW_SUPERUSER_PASSWORD", "value": "hunter2"},
            {"name": "LANGFLOW_DATABASE_URL", "value": "postgresql://lf:hunter2@db:5432/lf"},
            {"name": "OPENAI", "value": "sk-abcdefghijklmnopqrstuvwx"},
        ]}]}}}},
    ]
    assert len(leaks(bad)) == 4


def test_the_assembled_database_url_is_not_a_leak() -> None:
    ok = [{"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"env": [
        {"name": "LANGFLOW_DATABASE_URL", "value": "postgresql://lf:$(LANGFLOW_DATABASE_PASSWORD)@db:5432/lf"}]}]}}}}]
    assert leaks(ok) == []


def test_required_secrets_per_environment(example: Synthesis) -> None:
    assert required_secrets(example.objects("prod")) == {
        "astra-db": {"api-endpoint", "application-token"},
        "langflow-runtime-auth": {"api-key"},   # every example flow runs on Engine.lfx(): no database or superuser
        "llm-api-keys": {"openai"},
    }
    assert set(required_secrets(example.objects("dev"))) == {"astra-db", "langflow-ide-auth", "llm-api-keys"}
