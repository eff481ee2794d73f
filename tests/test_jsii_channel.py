"""Importing the package makes jsii talk to its kernel directly, without the relay (tooling/jsii_channel.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads child processes from /proc")

CHILDREN = """
import os
import langflow_cdk8s, cdk8s
pid = os.getpid()
for child in open(f"/proc/{pid}/task/{pid}/children").read().split():
    print(child, open(f"/proc/{child}/cmdline").read().replace(chr(0), " "))
"""


def run(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILDREN], env={**os.environ, **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)


def test_the_kernel_is_the_only_node_process_and_exits_with_python() -> None:
    children = run().stdout.splitlines()
    assert len(children) == 1, children
    pid, command = children[0].split(" ", 1)
    assert command.split()[0].endswith("node") and command.rstrip().endswith("lib/program.js"), command
    assert "jsii-runtime.js" not in command
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}/cmdline").exists() or not Path(f"/proc/{pid}/cmdline").read_text(), "kernel outlived Python"


def test_the_relay_stays_when_asked() -> None:
    children = run(LANGFLOW_CDK8S_JSII_RELAY="1").stdout.splitlines()
    assert len(children) == 1 and children[0].rstrip().endswith("bin/jsii-runtime.js"), children


def test_what_the_kernel_prints_reaches_stderr() -> None:
    assert '"api":"load"' in run(JSII_DEBUG="1").stderr
