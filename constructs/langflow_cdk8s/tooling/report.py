"""How a failed synthesis reads: two lines that say where the mistake is, never our internals.

A ConfigError is located twice over: by the construct it was raised in (environment and construct,
read from the frames of the traceback) and by the line of the user's own file (main.py) that made
the call. Python errors in the user's code (a NameError, a misspelt keyword) get the same two lines,
pointing at that line; an exception raised inside this library is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import traceback
from pathlib import Path
from types import TracebackType

from constructs import Construct

from ..errors import ConfigError

LIBRARY = Path(__file__).resolve().parent.parent
"""The package (this file is in its tooling/ layer): frames in it are the library's, not the user's."""
_SYSTEM = tuple(sorted({str(Path(path).resolve()) for key, path in sysconfig.get_paths().items()
                        if key in ("stdlib", "platstdlib", "purelib", "platlib")}))

VALIDATION_FAILED = "Error: Validation failed with the following errors:"


def _is_user_file(filename: str) -> bool:
    """A file of the user's (main.py, their helpers, a test): not this library, Python or a package."""
    if filename.startswith("<"):
        return False
    path = Path(filename).resolve()
    if path.is_relative_to(LIBRARY) or "site-packages" in path.parts or "dist-packages" in path.parts:
        return False
    return not any(path.is_relative_to(prefix) for prefix in _SYSTEM)


def display(filename: str) -> str:
    path = Path(filename).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def user_line(tb: TracebackType | None) -> str | None:
    """`main.py:42`: the innermost frame of the traceback that is in a user's file."""
    frames = [frame for frame in traceback.extract_tb(tb) if _is_user_file(frame.filename)]
    return f"{display(frames[-1].filename)}:{frames[-1].lineno}" if frames else None


def construct_context(tb: TracebackType | None) -> str | None:
    """`environment 'prod', LangflowRuntime 'runtime'`: the innermost construct whose constructor was
    running, and the environment it belongs to."""
    owner = None
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if isinstance(candidate, Construct) and tb.tb_frame.f_code.co_name == "__init__":
            owner = candidate
        tb = tb.tb_next
    if owner is None:
        return None
    try:
        scopes = owner.node.scopes[1:]  # below the App
    except Exception:  # a construct whose base constructor has not run yet has no node
        return None
    return ", ".join(f"environment {scope.node.id!r}" if type(scope).__name__ == "Environment"
                     else f"{type(scope).__name__} {scope.node.id!r}" for scope in scopes) or None


def config_error(error: ConfigError) -> list[str]:
    """The two lines of a ConfigError. A mistake in a file (a flow export) is named by that file; a
    mistake in a prop also by the line of the user's code that set it. Both say which constructs
    (environment, LangflowRuntime, ...) were being built."""
    where = error.where
    is_file = "/" in where and Path(where).exists()  # a prop such as `flows` may share a name with a folder
    if is_file:
        where = display(where)
    context = [part for part in (None if is_file else user_line(error.__traceback__),
                                 construct_context(error.__traceback__)) if part]
    prefix = f"{', '.join(context)}: " if context else ""
    return [f"error: {prefix}{where}: {error.problem}", f"  fix: {error.fix}"]


def user_code_error(error: BaseException) -> list[str] | None:
    """Two lines for an exception raised by the user's own code, or None when it came from inside this
    library or a dependency (a bug: its traceback is the report)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames or not _is_user_file(frames[-1].filename):
        return None
    where = user_line(error.__traceback__)
    name = type(error).__name__
    if isinstance(error, TypeError) and "keyword argument" in str(error):
        fix = "check the spelling of the prop against docs/reference.md (every prop and its default)"
    elif isinstance(error, (NameError, ImportError)):
        fix = "define or import the name (everything public is importable from langflow_cdk8s)"
    else:
        fix = "fix that line of your code"
    return [f"error: {where}: {name}: {error}", f"  fix: {fix}"]


def api_type_error(error: BaseException) -> list[str] | None:
    """Two lines for a value of the wrong type that the user's code passed to a cdk8s or cdk8s-plus
    method (`container.env.add_variable("X", "1")`): typeguard's TypeError when Python runs with
    its checks, the jsii kernel's SerializationError under `python -O` (cdk8s.yaml's app). None when
    the call came from this library (a bug of ours: its traceback is the report)."""
    message = str(error)
    if isinstance(error, TypeError) and message.startswith("type of "):
        what = message.splitlines()[0]
    elif isinstance(error, RuntimeError) and "SerializationError: " in message.splitlines()[0]:
        what = message.splitlines()[0].split("SerializationError: ", 1)[1]
    else:
        return None
    frames = traceback.extract_tb(error.__traceback__)
    while frames and not _is_user_file(frames[-1].filename) and not Path(frames[-1].filename).resolve().is_relative_to(LIBRARY):
        frames.pop()  # jsii's and typeguard's own frames
    if not frames or not _is_user_file(frames[-1].filename):
        return None
    return [f"error: {display(frames[-1].filename)}:{frames[-1].lineno}: {what}",
            "  fix: pass that method the type its signature names (cdk8s-plus-27's API reference)"]


def validation_errors(error: RuntimeError) -> list[str] | None:
    """Construct validations (such as GitOps' check for cluster-scoped kinds) fail inside cdk8s as
    one RuntimeError: their messages, one line each, without the jsii stack around them."""
    message = str(error)
    if not message.startswith(VALIDATION_FAILED):
        return None
    return [f"error: {line.strip()}" for line in message.removeprefix(VALIDATION_FAILED).strip().splitlines()]


def uncaught(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """sys.excepthook for a mistake at module level of main.py (before synth() runs: a SecretKey with
    a bad name, a NameError): the same two lines and exit code as inside synth(), also under
    `cdk8s synth` (publish.report_failure), instead of a traceback and cdk8s-cli's Node stack.
    Anything else, a bug in a library, keeps Python's own report."""
    lines = None
    if isinstance(error, ConfigError):
        lines = config_error(error)
    elif isinstance(error, Exception):
        lines = api_type_error(error) or user_code_error(error)
    if lines is None:
        sys.__excepthook__(kind, error, tb)
        return
    from . import publish  # imports cdk8s: only once something has failed

    publish.print_lines(lines, sys.stderr)
    code = publish.report_failure(publish.staging_folder(Path.cwd()), 2)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # an excepthook cannot choose the exit code otherwise


def install_excepthook() -> None:
    """Reports uncaught mistakes of the user's as `uncaught` does, unless a hook is already set."""
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = uncaught
