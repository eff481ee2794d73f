"""One syrupy snapshot per object of the example app (tests/example_app.py), stored as the YAML
itself so a review reads a real diff: they guard the library's output. main.py's own output is
dist/, which test_dist_is_fresh.py keeps equal to a fresh synthesis; a reviewer reads its diff.

Accept a change with `.venv/bin/pytest tests/test_snapshots.py --snapshot-update`, after reading it.
"""

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from conftest import Synthesis, example


class YamlSnapshot(SingleFileSnapshotExtension):
    file_extension = "yaml"
    _write_mode = WriteMode.TEXT


PATHS = sorted(example().files)


@pytest.mark.parametrize("path", PATHS, ids=[p.replace("/", "__").removesuffix(".k8s.yaml") for p in PATHS])
def test_object(path: str, example: Synthesis, snapshot) -> None:
    assert example.files[path] == snapshot.use_extension(YamlSnapshot)
