"""Git states what the API server stores (Argo CD shows any difference as drift): every quantity in
its canonical form and no zero value that the server drops, over every object of the reference app
and of the every-option variant.

The rules are the API server's, checked against two sources independent of the library:
- Where quantities are: the Kubernetes OpenAPI schema that kubernetes-validate ships (every field
  whose schema is `io.k8s.apimachinery.pkg.api.resource.Quantity`); their canonical form is
  apimachinery's `Quantity.String()` (resource/quantity.go, `CanonicalizeBytes`), restated below
  without the library's code.
- Which zero values the server keeps: encoding/json drops a plain-value field tagged `omitempty`
  (k8s.io/api types.go) and keeps pointers (`*bool`, `*int32`, `*intstr.IntOrString`), structs and
  fields without `omitempty`. STORED_ZEROS lists the pointer and required fields a zero may sit in;
  custom resources are stored as written (structural schemas keep zero values), so they are exempt.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from conftest import Synthesis, read_tree
from gates import CRD_GROUPS, api_group
from shared_apps import every_option_on

from langflow_cdk8s.tooling.synth import synth

SCHEMAS = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / "v1.37.0-local"
QUANTITY = "#/$defs/io.k8s.apimachinery.pkg.api.resource.Quantity"

STORED_ZEROS = frozenset({
    # *bool in k8s.io/api core/v1: PodSpec, ServiceAccount, SecurityContext
    "automountServiceAccountToken", "enableServiceLinks", "setHostnameAsFQDN", "shareProcessNamespace",
    "allowPrivilegeEscalation", "privileged", "readOnlyRootFilesystem", "runAsNonRoot",
    # *intstr.IntOrString (RollingUpdateDeployment, PodDisruptionBudgetSpec), *int32 (HPAScalingRules,
    # RollingUpdateStatefulSetStrategy, DeploymentSpec.replicas)
    "maxUnavailable", "maxSurge", "minAvailable", "stabilizationWindowSeconds", "partition", "replicas",
    # structs without omitempty semantics: NetworkPolicySpec.podSelector (select all), Namespace.spec
    "podSelector", "spec",
})


def canonical(value: str) -> str:
    """apimachinery's canonical form: binary suffixes for whole byte counts of 1024 or more given in
    a binary suffix, else decimal SI with the exponent a multiple of three (largest that keeps the
    mantissa whole)."""
    match = re.fullmatch(r"([0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?", value)
    assert match, f"{value!r} is not a quantity this test knows"
    number, suffix = Decimal(match.group(1)), match.group(2) or ""
    binary = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
    decimal = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
    if suffix in binary:
        amount = number * 1024 ** binary[suffix]
        if amount >= 1024 and amount == int(amount):
            power = 0
            while amount % 1024 == 0 and power < 6:
                amount, power = amount / 1024, power + 1
            return f"{int(amount)}{['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][power]}"
        exponent_value = amount
    else:
        exponent_value = number * Decimal(10) ** decimal[suffix]
    names = {v: k for k, v in decimal.items()}
    exponent = -9
    while exponent < 18 and (exponent_value / Decimal(10) ** exponent) % 1000 == 0 and exponent_value:
        exponent += 3
    return f"{int(exponent_value / Decimal(10) ** exponent)}{names[exponent]}"


@cache
def _definitions() -> dict[str, Any]:
    return json.loads((SCHEMAS / "_definitions.json").read_text())["$defs"]


def _schema(obj: dict[str, Any]) -> dict[str, Any] | None:
    group, _, version = obj["apiVersion"].rpartition("/")
    name = f"{obj['kind'].lower()}-{group.split('.')[0] + '-' if group else ''}{version}.json"
    path = SCHEMAS / name
    return json.loads(path.read_text()) if path.exists() else None


def quantities(value: Any, schema: dict[str, Any], path: str) -> Iterator[tuple[str, str]]:
    """(path, value) of every quantity in `value`, found through its schema."""
    while "$ref" in schema:
        if schema["$ref"] == QUANTITY:
            yield path, value
            return
        schema = _definitions()[schema["$ref"].rsplit("/", 1)[1]]
    if isinstance(value, dict):
        for key, item in value.items():
            sub = schema.get("properties", {}).get(key) or schema.get("additionalProperties")
            if isinstance(sub, dict):
                yield from quantities(item, sub, f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from quantities(item, schema["items"], f"{path}[{index}]")


def zeros(value: Any, path: str = "") -> Iterator[str]:
    """Paths of fields (not list items) whose value is a zero value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if item in (False, 0, "", [], {}) and item is not None and key not in STORED_ZEROS:
                yield f"{path}.{key}"
            yield from zeros(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from zeros(item, f"{path}[{index}]")


@pytest.fixture(scope="module")
def every_option(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    out = tmp_path_factory.mktemp("every-option")
    assert synth(every_option_on, outdir=str(out), stream=io.StringIO()) == 0
    return Synthesis(outdir=out, files=read_tree(out))


@pytest.mark.parametrize("variant", ["reference", "every-option"])
def test_every_object_is_stored_as_written(variant: str, ref: Synthesis, every_option: Synthesis) -> None:
    synthesis = ref if variant == "reference" else every_option
    checked, problems = 0, []
    for obj in synthesis.objects():
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if api_group(obj["apiVersion"]) in CRD_GROUPS:
            continue
        schema = _schema(obj)
        assert schema is not None, f"{where}: no schema for {obj['apiVersion']}"
        for path, amount in quantities(obj, schema, ""):
            checked += 1
            if canonical(str(amount)) != str(amount):
                problems.append(f"{where}{path}: {amount!r} is stored as {canonical(str(amount))!r}")
        problems += [f"{where}{path}: a zero value the server drops" for path in zeros(obj)]
    assert checked > 10
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("written, stored", [
    ("2048Mi", "2Gi"), ("1536Mi", "1536Mi"), ("1Gi", "1Gi"), ("0.5Gi", "512Mi"), ("1000m", "1"), ("0.5", "500m"),
    ("2", "2"), ("250m", "250m"), ("2000", "2k"), ("1500", "1500"), ("65536Mi", "64Gi"),
])
def test_the_rules_themselves(written: str, stored: str) -> None:
    """The library's canonical form agrees with this test's, which follows apimachinery."""
    from langflow_cdk8s.mechanics.canonical import canonical_quantity

    assert canonical(written) == stored
    assert canonical_quantity(written) == stored


def test_the_zero_rule_catches_what_cdk8s_plus_writes() -> None:
    """A check that cannot fail is no check: the three fields cdk8s-plus writes are caught by the rule."""
    written = yaml.safe_load("spec: {minReadySeconds: 0, template: {spec: {hostNetwork: false}}, externalIPs: []}")
    assert sorted(zeros(written)) == [".spec.externalIPs", ".spec.minReadySeconds", ".spec.template.spec.hostNetwork"]
