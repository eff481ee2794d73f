"""A pod network on one machine: a bridge with its own /24, one network namespace per pod joined to
it by a veth pair, and a hosts file standing in for cluster DNS. Nothing leaves the machine."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


@dataclass
class PodNetwork:
    """Claims a free bridge `lfe2e<N>` with subnet 10.231.N.0/24: several runs on one machine
    (other checkouts, other engineers) never share addresses."""

    bridge: str = ""
    subnet: int = -1
    hosts: dict[str, str] = field(default_factory=dict)
    _next: int = 10
    _namespaces: list[str] = field(default_factory=list)

    @property
    def gateway(self) -> str:
        """The machine's side of the pod network: where servers outside the 'cluster' listen."""
        return f"10.231.{self.subnet}.1"

    def up(self) -> PodNetwork:
        for n in range(250):
            if ip("link", "add", f"lfe2e{n}", "type", "bridge", check=False).returncode == 0:
                self.bridge, self.subnet = f"lfe2e{n}", n
                break
        else:
            raise RuntimeError("no free lfe2e<N> bridge name: remove stale ones with `ip link del lfe2e<N>`")
        ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        return self

    def attach(self, pod: str) -> tuple[str, str]:
        """A network namespace for `pod`; returns (namespace, pod IP)."""
        address = f"10.231.{self.subnet}.{self._next}"
        namespace, host_end = f"{self.bridge}-{self._next}", f"{self.bridge}p{self._next}"
        self._next += 1
        ip("netns", "add", namespace)
        self._namespaces.append(namespace)
        ip("link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        ip("link", "set", host_end, "master", self.bridge)
        ip("link", "set", host_end, "up")
        ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
        ip("-n", namespace, "link", "set", "eth0", "up")
        ip("-n", namespace, "link", "set", "lo", "up")
        ip("-n", namespace, "route", "add", "default", "via", self.gateway)
        return namespace, address

    def detach(self, namespace: str) -> None:
        ip("netns", "del", namespace, check=False)
        if namespace in self._namespaces:
            self._namespaces.remove(namespace)

    def hosts_file(self) -> str:
        lines = ["127.0.0.1 localhost", "::1 localhost"]
        lines += [f"{address} {name}" for name, address in sorted(self.hosts.items())]
        return "\n".join(lines) + "\n"

    def add_service(self, name: str, namespace: str, address: str) -> None:
        """Cluster DNS names of a Service, resolving straight to the one pod that backs it."""
        for host in (name, f"{name}.{namespace}", f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.cluster.local"):
            self.hosts[host] = address

    def down(self) -> None:
        for namespace in list(self._namespaces):
            self.detach(namespace)
        if self.bridge:
            ip("link", "del", self.bridge, check=False)
