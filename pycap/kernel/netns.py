"""Private network namespaces joined by a veth pair, for live tests and benchmarks.

Everything is created inside namespaces this module names and owns, and
deleting the namespaces removes the veth with them: nothing touches the host's
interfaces or routes.  ``ip`` (iproute2) does the netlink work.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType

from pycap.errors import KernelError
from pycap.kernel import _libc

NETNS_DIR = "/run/netns"
IP_TIMEOUT_S = 10.0

# Written in each new namespace before the veth exists, so the veth inherits
# them: no router solicitations, no DAD, no RA processing — a quiet link.
_QUIET_SYSCTLS = {
    "net/ipv6/conf/default/accept_ra": "0",
    "net/ipv6/conf/default/router_solicitations": "0",
    "net/ipv6/conf/default/dad_transmits": "0",
    "net/ipv6/conf/default/accept_dad": "0",
    "net/ipv6/conf/all/accept_ra": "0",
    "net/ipv6/conf/all/router_solicitations": "0",
}


@contextmanager
def enter_netns(name: str) -> Iterator[None]:
    """Run the *calling thread* inside network namespace ``name`` for the block.

    Sockets opened inside stay in that namespace after the block ends, which
    is how a capture socket is opened on an interface of a private namespace.
    """
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _setns_path(os.path.join(NETNS_DIR, name))
        try:
            yield
        finally:
            _libc.setns(original)
    finally:
        os.close(original)


def _setns_path(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        raise KernelError(f"cannot open network namespace {path}: {err.strerror}",
                          err.errno) from None
    try:
        _libc.setns(fd)
    except OSError as err:
        raise KernelError(f"cannot enter network namespace {path}: {err.strerror}",
                          err.errno) from None
    finally:
        os.close(fd)


def netns_run(name: str, argv: Sequence[str], timeout: float = 30.0,
              **kwargs) -> subprocess.CompletedProcess:
    """``ip netns exec NAME argv...``, bounded by ``timeout`` seconds."""
    return subprocess.run(["ip", "netns", "exec", name, *argv], timeout=timeout, **kwargs)


def _ip(*args: str) -> None:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=IP_TIMEOUT_S)
    if proc.returncode != 0:
        raise KernelError(f"ip {' '.join(args)}: {proc.stderr.strip()}")


def _write_sysctls(netns: str, values: dict[str, str]) -> None:
    with enter_netns(netns):
        for key, value in values.items():
            try:
                with open(f"/proc/sys/{key}", "w") as f:
                    f.write(value)
            except OSError:
                pass  # best effort: IPv6 may be disabled entirely


@dataclass(frozen=True, slots=True)
class VethEnd:
    """One side of a :class:`VethPair`: its namespace, interface and addresses."""

    netns: str
    ifname: str
    mac: str
    ipv4: str
    ipv6: str

    @property
    def ifindex(self) -> int:
        with enter_netns(self.netns):
            return socket.if_nametoindex(self.ifname)


class VethPair:
    """Two fresh network namespaces joined by a veth pair, IPv4 /24 and IPv6 /64.

    ``with VethPair("capture") as pair:`` gives ``pair.a`` and ``pair.b``
    (:class:`VethEnd`); leaving the block deletes both namespaces.  Neighbour
    entries are static, so no ARP or neighbour discovery crosses the link.
    """

    def __init__(self, purpose: str = "test"):
        tag = secrets.token_hex(3)
        subnet = int(tag[:2], 16)
        self.a = VethEnd(f"pycap-{purpose}-{tag}-a", "veth-a", f"02:70:79:{tag[:2]}:{tag[2:4]}:01",
                         f"10.203.{subnet}.1", f"fd00:203:{subnet:x}::1")
        self.b = VethEnd(f"pycap-{purpose}-{tag}-b", "veth-b", f"02:70:79:{tag[:2]}:{tag[2:4]}:02",
                         f"10.203.{subnet}.2", f"fd00:203:{subnet:x}::2")
        self._created: list[str] = []

    def __enter__(self) -> "VethPair":
        try:
            self._create()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _create(self) -> None:
        for end in (self.a, self.b):
            _ip("netns", "add", end.netns)
            self._created.append(end.netns)
            _write_sysctls(end.netns, _QUIET_SYSCTLS)
            _ip("-n", end.netns, "link", "set", "lo", "up")
        _ip("link", "add", self.a.ifname, "netns", self.a.netns, "address", self.a.mac,
            "type", "veth", "peer", "name", self.b.ifname, "netns", self.b.netns,
            "address", self.b.mac)
        for end, peer in ((self.a, self.b), (self.b, self.a)):
            self._configure(end, peer)

    @staticmethod
    def _configure(end: VethEnd, peer: VethEnd) -> None:
        ns = ("-n", end.netns)
        _ip(*ns, "addr", "add", f"{end.ipv4}/24", "dev", end.ifname)
        _ip(*ns, "-6", "addr", "add", f"{end.ipv6}/64", "dev", end.ifname, "nodad")
        _ip(*ns, "link", "set", end.ifname, "up")
        _ip(*ns, "neigh", "replace", peer.ipv4, "lladdr", peer.mac, "dev", end.ifname,
            "nud", "permanent")
        _ip(*ns, "-6", "neigh", "replace", peer.ipv6, "lladdr", peer.mac, "dev", end.ifname,
            "nud", "permanent")

    def close(self) -> None:
        """Delete the namespaces (the veth goes with them); safe to call twice."""
        while self._created:
            name = self._created.pop()
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=IP_TIMEOUT_S)
