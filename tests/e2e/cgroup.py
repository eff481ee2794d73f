"""Per-container memory limit and CPU accounting, on cgroup v2 or v1 (whichever the machine has)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


class Cgroup:
    """A cgroup for one container: its memory limit is enforced, its peak anonymous memory (what an
    OOM kill counts, without page cache) is sampled, its CPU time read."""

    def __init__(self, name: str, memory_limit: int | None) -> None:
        self.v2 = (ROOT / "cgroup.controllers").exists()
        self.dirs = [ROOT / "langflow-e2e" / name] if self.v2 else [ROOT / c / "langflow-e2e" / name
                                                                      for c in ("memory", "cpuacct")]
        for path in self.dirs:
            path.mkdir(parents=True, exist_ok=True)
        self.memory_limit = memory_limit
        if memory_limit is not None:
            if self.v2:
                (self.dirs[0] / "memory.max").write_text(str(memory_limit))
            else:
                (self.dirs[0] / "memory.limit_in_bytes").write_text(str(memory_limit))
        self.peak = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def join(self) -> None:
        """Called in the child between fork and exec."""
        for path in self.dirs:
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def start_sampling(self) -> None:
        self._sampler.start()

    def memory(self) -> int:
        stat = (self.dirs[0] / "memory.stat").read_text().split("\n")
        fields = dict(line.split() for line in stat if line)
        return int(fields["anon"] if self.v2 else fields["total_rss"])

    def cpu_seconds(self) -> float:
        if self.v2:
            usage = dict(line.split() for line in (self.dirs[0] / "cpu.stat").read_text().splitlines())
            return int(usage["usage_usec"]) / 1e6
        return int((self.dirs[1] / "cpuacct.usage").read_text()) / 1e9

    def oom_killed(self) -> bool:
        if self.v2:
            events = dict(line.split() for line in (self.dirs[0] / "memory.events").read_text().splitlines())
            return int(events.get("oom_kill", 0)) > 0
        return int((self.dirs[0] / "memory.failcnt").read_text()) > 0 and "oom_kill 1" in (
            self.dirs[0] / "memory.oom_control").read_text()

    def _sample(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, KeyError):
                self.peak = max(self.peak, self.memory())
            time.sleep(0.5)

    def remove(self) -> None:
        self._stop.set()
        for path in self.dirs:
            for _ in range(20):
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)
