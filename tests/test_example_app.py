"""In the template repository, tests/example_app.py is main.py as shipped: the README quotes it and
the snapshots guard it, so it must synthesize exactly what main.py does. Once a team points main.py
at its own repository (the README's first adoption step), main.py is theirs and this check stands down."""

import example_app
import pytest
from conftest import Synthesis

import main

TEMPLATE_REPO = example_app.REPO


def test_the_example_app_is_main_py_as_shipped(ref: Synthesis, example: Synthesis) -> None:
    defaults = main.build.__kwdefaults__ or {}
    if defaults.get("repo_url") != TEMPLATE_REPO:
        pytest.skip("main.py follows another repository: it is a team's own, not the template's")
    differ = sorted(path for path in set(ref.files) | set(example.files) if ref.files.get(path) != example.files.get(path))
    assert not differ, (f"main.py and tests/example_app.py synthesize differently in {differ[:10]}: change "
                        "tests/example_app.py (and tests/fixtures/flows/) with main.py (and flows/)")
