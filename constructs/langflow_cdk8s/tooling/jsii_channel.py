"""Python talks to the jsii kernel directly, without jsii's relay process in between.

jsii starts `node bin/jsii-runtime.js`, a relay that starts the kernel (`node lib/program.js`, which
speaks the jsii protocol on its fd 3) and copies every message between Python's pipes and that fd,
and every line the kernel prints as base64 JSON. Every round trip crosses it twice. Here the kernel
gets one end of a socket pair as its fd 3 and Python keeps the other, and the kernel writes its
console output straight to our stderr: the same protocol, the same kernel, one Node process fewer
(measured in docs/benchmarks.md: about 10 % of a synthesis and 50 MB). What the relay also did,
the Node version banner and forwarding SIGINT/SIGTERM, is not needed: the package silences the
banner, and a terminal's signals reach the kernel through its process group.

It replaces two methods of jsii's private `_NodeProcess`, so it is applied only to the jsii release
it was verified with (a different jsii keeps its own relay) and only on POSIX; it must run before
the first jsii call (`import constructs` or `cdk8s`): the package's `__init__` does that. Set
LANGFLOW_CDK8S_JSII_RELAY=1 to keep jsii's relay.
"""

from __future__ import annotations

import atexit
import os
import platform
import socket
import subprocess
from pathlib import Path

import jsii
from jsii._kernel.providers import process as jsii_process

VERIFIED_JSII = "1.142.0"
"""The jsii release whose `_NodeProcess` and kernel (`lib/program.js`, protocol on fd 3) this was checked against."""

NODE_ARGS = ("--max-old-space-size=4069", "--preserve-symlinks")
"""What jsii gives Node: its heap limit, and what the relay passes on to the kernel."""


def applicable() -> bool:
    return (os.name == "posix" and jsii.__version__ == VERIFIED_JSII
            and os.environ.get("LANGFLOW_CDK8S_JSII_RELAY", "") in ("", "0"))


def install() -> None:
    """Makes jsii start its kernel directly (see module docstring), when `applicable()`."""
    if applicable():
        jsii_process._NodeProcess.start = _start  # type: ignore[method-assign]
        jsii_process._NodeProcess.stop = _stop  # type: ignore[method-assign]


def _start(self: jsii_process._NodeProcess) -> None:
    environ = os.environ.copy()
    environ["JSII_AGENT"] = f"Python/{platform.python_version()}"
    program = Path(self._jsii_runtime()).parent.parent / "lib" / "program.js"
    ours, theirs = socket.socketpair()
    # The kernel's end arrives as stdin; the shell moves it to fd 3 and execs Node (no extra process).
    command = 'exec "$0" "$@" 3<&0 </dev/null'
    with theirs:
        self._process = subprocess.Popen(["/bin/sh", "-c", command, environ.get("JSII_NODE", "node"), *NODE_ARGS,
                                          str(program)], stdin=theirs, env=environ)
    self._channel = ours
    self._process.stdin = ours.makefile("wb")
    self._process.stdout = ours.makefile("rb")
    atexit.register(self.stop)
    self.handshake()


def _stop(self: jsii_process._NodeProcess) -> None:
    atexit.unregister(self.stop)
    process = getattr(self, "_process", None)
    channel = getattr(self, "_channel", None)
    if process is None or channel is None or channel.fileno() < 0:
        return
    try:
        if not process.stdin.closed:
            process.stdin.write(b'{"exit":0}\n')
            process.stdin.close()
    except OSError:  # the kernel is gone already
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.terminate()
    process.stdout.close()
    channel.close()
    self._ctx_stack.close()
