"""`cdk8s synth` is as safe as `make synth`, however it is started: in a copy of the repository with
a broken main.py, `npx cdk8s synth`, the locked CLI (node_modules/.bin/cdk8s), `python main.py` and
`make synth` each exit 2, print exactly the two-line error (make adds its own `make: ***` line), no
Node stack and no jsii banner, and leave dist/ and docs/ byte-identical. On success `npx cdk8s synth`
prints the same summary as `make synth`. Runs in a user's environment: no JSII_* variables set."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from repo_copy import NESTED, copy_repository, make, run, tree

pytestmark = pytest.mark.skipif(os.environ.get(NESTED) == "1", reason="already inside a copy of the repository")

ENTRY = 'if __name__ == "__main__":'
NOISE = re.compile(r"^\s+at .+\(.*:\d+:\d+\)$|Traceback|jsii|end-of-life|!!!|node:internal|Error: command", re.M)
ENTRY_POINTS = {
    "npx": ("npx", "--no-install", "cdk8s", "synth"),
    "locked-cli": ("node_modules/.bin/cdk8s", "synth"),
    "python": (".venv/bin/python", "main.py"),
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repository(tmp_path_factory.mktemp("cdk8s-synth") / "repo")


def outputs(repo: Path) -> dict[str, bytes]:
    return {**{f"dist/{k}": v for k, v in tree(repo / "dist").items()},
            **{f"docs/{k}": v for k, v in tree(repo / "docs").items()}}


def with_mistake(repo: Path, mistake: str) -> str:
    """main.py with `mistake` run first inside build() (however the team has shaped build())."""
    original = (repo / "main.py").read_text(encoding="utf-8")
    if ENTRY not in original:
        pytest.skip(f"main.py has no `{ENTRY}` block to run")
    wrapper = f"_build = build\n\n\ndef build(app, **options):\n    {mistake}\n    return _build(app, **options)\n\n\n"
    (repo / "main.py").write_text(original.replace(ENTRY, wrapper + ENTRY), encoding="utf-8")
    return original


def synthesize(repo: Path, entry: str):
    return make(repo, "synth") if entry == "make" else run(repo, *ENTRY_POINTS[entry], timeout=300)


@pytest.mark.parametrize("entry", [*ENTRY_POINTS, "make"])
def test_a_broken_main_py_prints_two_lines_and_keeps_dist_and_docs(repo: Path, entry: str) -> None:
    before = outputs(repo)
    original = with_mistake(repo, 'from langflow_cdk8s import IngressOptions; IngressOptions(host="flows_example.com")')
    try:
        done = synthesize(repo, entry)
    finally:
        (repo / "main.py").write_text(original, encoding="utf-8")
    line = next(n for n, text in enumerate((repo / "main.py").read_text().splitlines(), 1) if text.startswith(ENTRY)) + 4
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stdout + done.stderr
    assert lines[:2] == [f"error: main.py:{line}: ingress.host: 'flows_example.com' is not a DNS host name",
                         "  fix: use lowercase dot-separated labels such as 'langflow.example.com'"], done.stderr
    assert lines[2:] == ([] if entry != "make" else [lines[2]]) and (entry != "make" or lines[2].startswith("make: ***"))
    assert not NOISE.search(done.stdout + done.stderr), done.stdout + done.stderr
    assert outputs(repo) == before


def test_a_name_error_through_npx_cdk8s_synth_names_main_py(repo: Path) -> None:
    before = outputs(repo)
    original = with_mistake(repo, "Flwo.from_folder('flows')")
    try:
        done = synthesize(repo, "npx")
    finally:
        (repo / "main.py").write_text(original, encoding="utf-8")
    assert done.returncode == 2, done.stderr
    assert re.fullmatch(r"error: main\.py:\d+: NameError: name 'Flwo' is not defined\n  fix: .+\n", done.stderr), done.stderr
    assert outputs(repo) == before


@pytest.mark.parametrize(("entry", "mistake", "expected"), [
    ("locked-cli", "from langflow_cdk8s import SecretKey; SecretKey(name='llm-api-keys', key='open ai')",
     "secret 'llm-api-keys' key: 'open ai' is not a valid Secret key"),
    ("npx", "import pathlib; pathlib.Path('flows/gone.json').symlink_to('nowhere.json')",
     "flows/gone.json: is a broken symbolic link (to nowhere.json)"),
    # cdk8s.yaml runs the app with -O: the wrong type is caught by jsii's kernel, not by typeguard.
    ("npx", "import cdk8s_plus_27; cdk8s_plus_27.EnvValue.from_value(1)",
     "Passed to parameter value of static method cdk8s-plus-27.EnvValue.fromValue: Unable to deserialize value as string"),
], ids=["secret-key", "broken-symlink", "wrong-type-under-O"])
def test_catalogue_entries_through_cdk8s_synth(repo: Path, entry: str, mistake: str, expected: str) -> None:
    before = outputs(repo)
    original = with_mistake(repo, mistake)
    try:
        done = synthesize(repo, entry)
    finally:
        (repo / "main.py").write_text(original, encoding="utf-8")
        (repo / "flows" / "gone.json").unlink(missing_ok=True)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 2 and expected in done.stderr.splitlines()[0], done.stderr
    assert not NOISE.search(done.stdout + done.stderr), done.stdout + done.stderr
    assert outputs(repo) == before


def at_module_level(repo: Path, statement: str) -> str:
    """main.py with `statement` run at module level, before build() is ever called."""
    original = (repo / "main.py").read_text(encoding="utf-8")
    if ENTRY not in original:
        pytest.skip(f"main.py has no `{ENTRY}` block to run")
    (repo / "main.py").write_text(original.replace(ENTRY, f"{statement}\n\n\n{ENTRY}"), encoding="utf-8")
    return original


@pytest.mark.parametrize(("entry", "statement", "expected"), [
    ("npx", "MISTAKE = Flwo.from_folder('flows')", r"main\.py:(\d+): NameError: name 'Flwo' is not defined"),
    ("python", "MISTAKE = Flwo.from_folder('flows')", r"main\.py:(\d+): NameError: name 'Flwo' is not defined"),
    ("locked-cli", "from langflow_cdk8s import SecretKey\nDB = SecretKey(name='prod_db', key='password')",
     r"main\.py:(\d+): secret\.name: 'prod_db' is not a valid Kubernetes object name"),
    ("make", "from langflow_cdk8s import SecretKey\nDB = SecretKey(name='prod_db', key='password')",
     r"main\.py:(\d+): secret\.name: 'prod_db' is not a valid Kubernetes object name"),
], ids=["name-error-npx", "name-error-python", "secret-key-locked-cli", "secret-key-make"])
def test_a_mistake_at_module_level_of_main_py(repo: Path, entry: str, statement: str, expected: str) -> None:
    """Before synth() runs there is no build() to guard: the library's excepthook reports it the same way."""
    before = outputs(repo)
    original = at_module_level(repo, statement)
    try:
        done = synthesize(repo, entry)
        text = (repo / "main.py").read_text().splitlines()
    finally:
        (repo / "main.py").write_text(original, encoding="utf-8")
    lines = [line for line in done.stderr.splitlines() if not line.startswith("make: ***")]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 2 and lines[1].startswith("  fix: "), done.stderr
    located = re.fullmatch(f"error: {expected}.*", lines[0])
    assert located, done.stderr
    assert statement.splitlines()[-1] in text[int(located.group(1)) - 1]
    assert not NOISE.search(done.stdout + done.stderr), done.stdout + done.stderr
    assert outputs(repo) == before


def test_build_that_returns_nothing_through_cdk8s_synth(repo: Path) -> None:
    before = outputs(repo)
    original = (repo / "main.py").read_text(encoding="utf-8")
    wrapper = "_build = build\n\n\ndef build(app, **options):\n    _build(app, **options)\n\n\n"
    (repo / "main.py").write_text(original.replace(ENTRY, wrapper + ENTRY), encoding="utf-8")
    try:
        done = synthesize(repo, "npx")
    finally:
        (repo / "main.py").write_text(original, encoding="utf-8")
    assert done.returncode == 2, done.stderr
    assert re.fullmatch(r"error: main\.py:\d+, build\(\): returned None, not the list of the Environments it created\n"
                        r"  fix: end it with `return \[dev, prod\]`.*\n", done.stderr), done.stderr
    assert outputs(repo) == before


AFTER_BUILD = """_build = build


def build(app, **options):
    import cdk8s_plus_27 as kplus
    environments = _build(app, **options)
    kplus.Deployment(environments[0], "no-probes", containers=[kplus.ContainerProps(image="example/tool:1.0")])
    return environments


"""


@pytest.mark.parametrize("entry", ["make", "npx"])
def test_a_check_after_writing_leaves_dist_and_docs(repo: Path, entry: str) -> None:
    """The probe check reads what cdk8s wrote: into the staging folder, so dist/ and docs/ stay as they were."""
    before = outputs(repo)
    original = (repo / "main.py").read_text(encoding="utf-8")
    (repo / "main.py").write_text(original.replace(ENTRY, AFTER_BUILD + ENTRY), encoding="utf-8")
    try:
        done = synthesize(repo, entry)
    finally:
        (repo / "main.py").write_text(original, encoding="utf-8")
    lines = [line for line in done.stderr.splitlines() if not line.startswith("make: ***")]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 2 and re.match(r"error: environment '[a-z0-9-]+', Deployment [a-z0-9-]+-no-probes, container "
                                        r"'[a-z0-9-]+': has no readinessProbe and no livenessProbe$", lines[0]), done.stderr
    assert not NOISE.search(done.stdout + done.stderr), done.stdout + done.stderr
    assert outputs(repo) == before


def test_a_good_synthesis_prints_the_same_summary_however_it_is_started(repo: Path) -> None:
    before = outputs(repo)
    with_cli, with_make = synthesize(repo, "npx"), synthesize(repo, "make")
    assert with_cli.returncode == 0 and with_make.returncode == 0, with_cli.stderr + with_make.stderr
    assert with_cli.stderr == with_make.stderr
    assert with_cli.stderr.splitlines()[-1] == "updated dist/, docs/environments/ and docs/reference.md"
    assert not NOISE.search(with_cli.stdout + with_cli.stderr), with_cli.stdout + with_cli.stderr
    assert outputs(repo) == before, "the committed dist/ and docs/ are not a fresh synthesis"


def test_python_main_py_from_another_folder_writes_next_to_main_py(repo: Path, tmp_path: Path) -> None:
    before = outputs(repo)
    done = run(repo, str(repo / ".venv" / "bin" / "python"), str(repo / "main.py"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == "updated dist/, docs/environments/ and docs/reference.md"
    assert list(tmp_path.iterdir()) == [], "synthesis wrote into the working directory"
    assert outputs(repo) == before


def test_make_test_without_dist_says_run_make_synth_first(tmp_path: Path) -> None:
    """A fresh checkout whose dist/ was deleted: two lines, not hundreds of failing gates."""
    repo = copy_repository(tmp_path / "repo")
    shutil.rmtree(repo / "dist")
    done = make(repo, "test")
    lines = [line for line in done.stderr.splitlines() if not line.startswith("make: ***")]
    assert done.returncode == 2, done.stdout + done.stderr
    assert lines == ["error: dist/: is missing or empty, so the gates have nothing to check",
                     "  fix: run make synth (and commit dist/ and docs/), then make test"], done.stderr
    assert done.stdout == ""
    direct = run(repo, ".venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert direct.returncode == 2 and "fix: run `make synth`" in direct.stdout + direct.stderr
    assert len((direct.stdout + direct.stderr).splitlines()) < 10, direct.stdout + direct.stderr
