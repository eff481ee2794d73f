"""One syrupy snapshot per synthesized object, stored as the YAML itself so a review reads a real diff.

Accept a change with `.venv/bin/pytest tests/test_snapshots.py --snapshot-update`, after reading it.
"""

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from conftest import Synthesis, reference


class YamlSnapshot(SingleFileSnapshotExtension):
    file_extension = "yaml"
    _write_mode = WriteMode.TEXT


PATHS = sorted(reference().files)


@pytest.mark.parametrize("path", PATHS, ids=[p.replace("/", "__").removesuffix(".k8s.yaml") for p in PATHS])
def test_object(path: str, ref: Synthesis, snapshot) -> None:
    assert ref.files[path] == snapshot.use_extension(YamlSnapshot)
