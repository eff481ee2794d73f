"""Runs one pod of a synthesized Deployment or StatefulSet the way the kubelet would: init
containers to completion, then the main container, each as the pod's uid/gid under bubblewrap with a
read-only root where only the declared mounts are writable, in its own network namespace, with its
memory limit enforced by a cgroup. Probes are the manifest's, timed as the manifest says."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cgroup import Cgroup
from .network import PodNetwork
from .podspec import LANGFLOW_IMAGE, Mount, Objects, PodSpecError, Volumes, command, container_env, identity, memory_limit

SKIPPED_ROOT_ENTRIES = {"proc", "dev", "sys", "tmp", "run", "app", "lost+found"}
WRITE_ERRORS = ("Read-only file system", "EROFS", "Permission denied", "EACCES")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        return self.body.decode(errors="replace")


@dataclass
class Startup:
    seconds: float
    cpu_seconds: float
    window_seconds: float


class Pod:
    """One pod. `workload` is the Deployment/StatefulSet manifest; `claims` maps a StatefulSet's
    claim template names to folders that outlive the pod (a restart keeps its data)."""

    def __init__(self, workload: Mapping[str, Any], *, objects: Objects, network: PodNetwork, venv: Path,
                 workdir: Path, claims: Mapping[str, Path] | None = None, suffix: str = "0") -> None:
        self.workload = workload
        self.kind, self.name = workload["kind"], workload["metadata"]["name"]
        self.pod_name = f"{self.name}-{suffix}"
        self.owner = f"{self.kind} {self.name}"
        self.template = workload["spec"]["template"]
        self.spec: dict[str, Any] = self.template["spec"]
        self.objects, self.network, self.venv = objects, network, venv
        self.workdir = workdir / self.pod_name
        self.claims = dict(claims or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.cgroup: Cgroup | None = None
        self.address = ""
        self.namespace = ""
        self.log_path = self.workdir / "langflow.log"
        self.started_at = 0.0
        self.startup: Startup | None = None
        self._terminated_at = 0.0
        self._startup_failure = ""
        self._watcher = threading.Thread()
        self.main = self.spec["containers"][0]

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Pod:
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True)
        os.chmod(self.workdir, 0o755)
        pod_ctx = self.spec.get("securityContext", {})
        volumes = Volumes(root=self.workdir, fs_group=pod_ctx.get("fsGroup"), claims=self.claims)
        volumes.materialize(self.owner, self.spec.get("volumes", []), self.objects)
        self.namespace, self.address = self.network.attach(self.pod_name)
        for init in self.spec.get("initContainers", []):
            process, cgroup, log = self._spawn(init, volumes, f"init-{init['name']}")
            code = process.wait(timeout=300)
            cgroup.remove()
            if code != 0:
                raise PodSpecError(f"{self.owner}: init container {init['name']!r} exited {code} "
                                   f"(Init:Error):\n{tail(log)}")
        for extra in self.spec["containers"][1:]:
            raise PodSpecError(f"{self.owner}: sidecar {extra['name']!r} is not emulated (only the main container runs)")
        self.process, self.cgroup, self.log_path = self._spawn(self.main, volumes, self.main["name"])
        self.started_at = time.monotonic()
        self.cgroup.start_sampling()
        self._watcher = threading.Thread(target=self._watch_startup, daemon=True)
        self._watcher.start()
        return self

    def _spawn(self, container: Mapping[str, Any], volumes: Volumes,
               label: str) -> tuple[subprocess.Popen[bytes], Cgroup, Path]:
        owner = f"{self.owner} container {container['name']!r}"
        image = container["image"]
        if not image.startswith("langflowai/langflow:"):
            raise PodSpecError(f"{owner}: image {image} is not emulated (only langflowai/langflow runs here)")
        ctx = {**self.spec.get("securityContext", {}), **container.get("securityContext", {})}
        if not ctx.get("readOnlyRootFilesystem"):
            raise PodSpecError(f"{owner}: readOnlyRootFilesystem is not true; this runner only runs read-only roots")
        base = {**LANGFLOW_IMAGE["env"], "HOSTNAME": self.pod_name,
                "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
        env = container_env(owner, container, self.objects, base)
        argv = command(container, env, LANGFLOW_IMAGE)
        uid, gid, groups = identity(self.spec, container)
        hosts = self.workdir / f"hosts-{label}"
        hosts.write_text(self.network.hosts_file())
        os.chmod(hosts, 0o644)
        sandbox = self._bwrap(volumes.mounts(owner, container), hosts, container.get("workingDir") or LANGFLOW_IMAGE["workdir"])
        privileges = ["setpriv", f"--reuid={uid}", f"--regid={gid}",
                      f"--groups={','.join(map(str, groups))}" if groups else "--clear-groups",
                      "--inh-caps=-all"]
        if ctx.get("allowPrivilegeEscalation") is False:
            privileges.append("--no-new-privs")
        full = ["ip", "netns", "exec", self.namespace, *privileges, *sandbox, *argv]
        # The bridge name is unique per run: concurrent runs on one machine never share a cgroup.
        cgroup = Cgroup(f"{self.network.bridge}-{self.pod_name}-{label}", memory_limit(container))
        log = self.workdir / f"{label}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(full, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       preexec_fn=cgroup.join, start_new_session=True)  # noqa: PLW1509 - the child joins its cgroup before exec; no threads fork here
        return process, cgroup, log

    def _bwrap(self, mounts: list[Mount], hosts: Path, workdir: str) -> list[str]:
        """A fresh root holding the machine's top-level folders read-only (standing in for the
        image's filesystem), the Langflow virtualenv at the image's /app/.venv, the pod's mounts,
        then everything remounted read-only but the writable mounts."""
        args = ["bwrap", "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--hostname", self.pod_name, "--proc", "/proc", "--dev", "/dev", "--ro-bind", "/sys", "/sys",
                "--dir", "/tmp", "--dir", "/run"]
        args += root_binds("/", expanded_dirs([m.target for m in mounts]))
        args += ["--ro-bind", str(hosts), "/etc/hosts", "--dir", "/app", "--ro-bind", str(self.venv), "/app/.venv"]
        for mount in mounts:
            args += ["--ro-bind" if mount.read_only else "--bind", str(mount.source), mount.target]
        return [*args, "--chdir", workdir, "--remount-ro", "/"]

    def terminate(self) -> None:
        """Sends SIGTERM to the container's first process, as the kubelet does; `stop` waits."""
        if self.process and self.process.poll() is None and not self._terminated_at:
            self._terminated_at = time.monotonic()
            os.kill(self._container_pid(), signal.SIGTERM)

    def stop(self) -> float:
        """SIGTERM, then SIGKILL after terminationGracePeriodSeconds; returns seconds to exit."""
        grace = self.spec.get("terminationGracePeriodSeconds", 30)
        elapsed = 0.0
        if self.process and self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=max(0.0, grace - (time.monotonic() - self._terminated_at)))
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            elapsed = time.monotonic() - self._terminated_at
        if self.cgroup:
            self.cgroup.remove()
        if self.namespace:
            self.network.detach(self.namespace)
            self.namespace = ""
        return elapsed

    def _container_pid(self) -> int:
        """The container's own first process (the image's CMD), below ip/setpriv/bwrap: the one
        the kubelet signals. bwrap would SIGKILL it if bwrap itself were signalled."""
        assert self.process is not None
        parents: dict[int, list[tuple[int, str]]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                name = stat[stat.index("(") + 1: stat.rindex(")")]
                ppid = int(stat[stat.rindex(")") + 2:].split()[1])
                parents.setdefault(ppid, []).append((int(entry.name), name))
        queue = [self.process.pid]
        while queue:
            pid = queue.pop(0)
            for child, name in sorted(parents.get(pid, [])):
                if name != "bwrap":
                    return child
                queue.append(child)
        return self.process.pid

    # -- what a kubelet and a client see -----------------------------------------------------------
    def port(self, name_or_number: str | int) -> int:
        if isinstance(name_or_number, int):
            return name_or_number
        for port in self.main.get("ports", []):
            if port["name"] == name_or_number:
                return port["containerPort"]
        raise PodSpecError(f"{self.owner}: no container port named {name_or_number!r}")

    def request(self, method: str, path: str, *, port: str | int = "http", body: bytes | None = None,
                headers: Mapping[str, str] | None = None, timeout: float = 60) -> Response:
        connection = http.client.HTTPConnection(self.address, self.port(port), timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            reply = connection.getresponse()
            return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read())
        finally:
            connection.close()

    def _probe(self, probe: Mapping[str, Any]) -> int | None:
        get = probe["httpGet"]
        try:
            return self.request("GET", get["path"], port=get["port"], timeout=probe.get("timeoutSeconds", 1)).status
        except OSError:
            return None

    def _watch_startup(self) -> None:
        """The kubelet's startup probe, from the container's start: records when it first passes
        (and the CPU used until then), or why it never did."""
        assert self.process is not None and self.cgroup is not None
        startup = self.main["startupProbe"]
        window = startup.get("initialDelaySeconds", 0) + startup["periodSeconds"] * startup["failureThreshold"]
        deadline = self.started_at + window
        while True:
            if self.process.poll() is not None:
                self._startup_failure = (f"{self.owner}: container {self.main['name']!r} exited "
                                         f"{self.process.returncode} before its startupProbe passed{self._oom()}")
                return
            if self._probe(startup) == 200:
                self.startup = Startup(seconds=time.monotonic() - self.started_at,
                                       cpu_seconds=self.cgroup.cpu_seconds(), window_seconds=window)
                return
            if time.monotonic() > deadline:
                self._startup_failure = (f"{self.owner}: startupProbe {startup['httpGet']['path']} did not answer "
                                         f"200 within {window}s (the kubelet would restart it)")
                return
            time.sleep(1)

    def wait_ready(self) -> Startup:
        """Waits as the kubelet would: the startup probe within failureThreshold x periodSeconds
        (timed from the container's start, whenever this is called), then readiness and liveness
        must answer 200."""
        self._watcher.join()
        if self.startup is None:
            raise PodSpecError(f"{self._startup_failure}:\n{tail(self.log_path)}")
        for kind in ("readinessProbe", "livenessProbe"):
            probe = self.main[kind]
            status = None
            for _ in range(probe.get("failureThreshold", 3)):
                status = self._probe(probe)
                if status == 200:
                    break
                time.sleep(probe.get("periodSeconds", 10) / 5)
            if status != 200:
                raise PodSpecError(f"{self.owner}: {kind} {probe['httpGet']['path']} answered {status}, not 200:\n"
                                   f"{tail(self.log_path)}")
        return self.startup

    def _oom(self) -> str:
        return " (OOMKilled: over its memory limit)" if self.cgroup and self.cgroup.oom_killed() else ""

    def write_errors(self) -> list[str]:
        """Log lines of failed writes: what a read-only root or a missing writable mount causes."""
        lines = self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        return [line for line in lines if any(marker in line for marker in WRITE_ERRORS)]

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def expanded_dirs(targets: list[str]) -> set[str]:
    """Machine folders that must be rebuilt entry by entry instead of bound whole, because a mount
    target inside them does not exist on the machine (the kubelet creates mount points; a
    read-only bind cannot)."""
    expand: set[str] = set()
    for target in targets:
        parts = Path(target).parts[1:]
        if not parts or parts[0] in SKIPPED_ROOT_ENTRIES or os.path.exists(target):
            continue
        for depth in range(1, len(parts)):
            ancestor = "/" + "/".join(parts[:depth])
            if os.path.isdir(ancestor) and not os.path.islink(ancestor):
                expand.add(ancestor)
    return expand


def root_binds(folder: str, expand: set[str]) -> list[str]:
    """The machine's folders, read-only, as bwrap arguments; folders in `expand` are recreated on
    the sandbox's own root with each entry bound separately."""
    args: list[str] = []
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if folder == "/" and entry in SKIPPED_ROOT_ENTRIES:
            continue
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif path in expand:
            args += ["--dir", path, *root_binds(path, expand)]
        elif os.path.isdir(path) or os.path.isfile(path):
            args += ["--ro-bind", path, path]
    return args


def tail(path: Path, lines: int = 25) -> str:
    if not path.exists():
        return "(no output)"
    return "\n".join("    " + line for line in path.read_text(errors="replace").splitlines()[-lines:])
