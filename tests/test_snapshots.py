"""One syrupy snapshot per object of the example app (tests/example_app.py), stored as the YAML
itself so a review reads a real diff: they guard the library's output. main.py's own output is
dist/, which test_dist_is_fresh.py keeps equal to a fresh synthesis; a reviewer reads its diff.

Accept a change with `.venv/bin/pytest tests/test_snapshots.py --snapshot-update`, after reading it.
"""

from pathlib import Path

import pytest
from conftest import Synthesis, example
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode


class YamlSnapshot(SingleFileSnapshotExtension):
    file_extension = "yaml"
    _write_mode = WriteMode.TEXT


SNAPSHOTS = Path(__file__).parent / "__snapshots__"


def snapshot_id(path: str) -> str:
    return path.replace("/", "__").removesuffix(".k8s.yaml")


def orphaned(module: str, test: str, paths: list[str]) -> list[str]:
    """Snapshot files of `module`'s `test` whose object is no longer synthesized: they would guard nothing."""
    folder = SNAPSHOTS / module
    expected = {f"{test}[{snapshot_id(path)}].{YamlSnapshot.file_extension}" for path in paths}
    return sorted(str(p.relative_to(SNAPSHOTS.parent.parent)) for p in folder.iterdir() if p.name not in expected)


def assert_no_orphans(module: str, test: str, paths: list[str]) -> None:
    orphans = orphaned(module, test, paths)
    assert not orphans, (f"{orphans[0]}{f' (and {len(orphans) - 1} more)' if len(orphans) > 1 else ''}: no synthesized "
                         "object has this snapshot any more. If the object went away on purpose, delete the file "
                         f"(git rm {' '.join(repr(o) for o in orphans[:3])}); otherwise the library lost it.")


PATHS = sorted(example().files)


def test_every_snapshot_file_has_its_object() -> None:
    assert_no_orphans("test_snapshots", "test_object", PATHS)


@pytest.mark.parametrize("path", PATHS, ids=[snapshot_id(p) for p in PATHS])
def test_object(path: str, example: Synthesis, snapshot) -> None:
    assert example.files[path] == snapshot.use_extension(YamlSnapshot)
