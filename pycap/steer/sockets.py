"""Finding the socket to steer to, and borrowing it from the process that owns it.

``--to ADDR:PORT``: read the socket tables of the target network namespace
(``/proc/thread-self/net/{tcp,tcp6,udp,udp6}`` while this thread is inside
it) for a TCP socket in LISTEN state or an unconnected UDP socket whose
local address is ADDR:PORT (or a wildcard address on PORT), map its inode to
a process and file descriptor through ``/proc/*/fd``, and duplicate that
descriptor with ``pidfd_open`` + ``pidfd_getfd``.  ``--to-pid/--to-fd``
skips the search.

The duplicate is only needed until the socket is in the SOCKMAP: the map
holds the socket itself, and the kernel removes it from the map when its
owner closes it.
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pycap.errors import (KernelError, NoListenerError, SteerError, SteerPermissionError,
                          WrongProtocolError)
from pycap.kernel.netns import enter_netns
from pycap.kernel.pidfd import take_fd
from pycap.steer.lookup import Address, format_endpoint

TCP_LISTEN, TCP_CLOSE = 0x0A, 0x07
SIOCGSKNS = 0x894C
SO_COOKIE = 57
TABLES = (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6),
          ("udp", socket.AF_INET), ("udp6", socket.AF_INET6))
PROTO_OF_TABLE = {"tcp": "tcp", "tcp6": "tcp", "udp": "udp", "udp6": "udp"}


# ------------------------------------------------------------------ network namespaces


@dataclass(frozen=True, slots=True)
class Netns:
    """A network namespace named on the command line: ``path`` is what
    ``setns`` opens, ``name`` what messages show, ``inode`` its identity."""

    path: str
    name: str
    inode: int

    @classmethod
    def resolve(cls, spec: str | None) -> "Netns":
        """``None`` (pycap's own), a name under /run/netns, or a path."""
        if spec is None:
            path, name = "/proc/self/ns/net", "the current network namespace"
        elif "/" in spec:
            path, name = spec, f"network namespace {spec}"
        else:
            path, name = f"/run/netns/{spec}", f"network namespace {spec}"
        try:
            inode = os.stat(path).st_ino
        except OSError as err:
            raise SteerError(f"cannot open {name}: {err.strerror}") from None
        return cls(path, name, inode)

    def open(self) -> int:
        try:
            return os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as err:
            raise SteerError(f"cannot open {self.name}: {err.strerror}") from None

    @contextmanager
    def entered(self) -> Iterator[None]:
        """Run the calling thread inside this namespace for the block."""
        if os.stat("/proc/thread-self/ns/net").st_ino == self.inode:
            yield
            return
        try:
            with enter_netns(os.path.abspath(self.path)):
                yield
        except KernelError as err:
            if err.errno == errno.EPERM:
                raise SteerPermissionError(f"cannot enter {self.name}: {os.strerror(err.errno)}"
                                           ) from None
            raise SteerError(str(err)) from None


# ------------------------------------------------------------------ socket tables


@dataclass(frozen=True, slots=True)
class TableEntry:
    """One line of /proc/net/{tcp,udp}[6]."""

    proto: str            # "tcp" or "udp"
    family: int
    local: Address
    port: int
    state: int
    inode: int

    @property
    def usable(self) -> bool:
        """A TCP listener, or a bound UDP socket that is not connected."""
        if self.proto == "tcp":
            return self.state == TCP_LISTEN
        return self.state == TCP_CLOSE and self.port != 0


def _proc_address(hexaddr: str) -> Address:
    """The kernel prints each 32-bit word of the address in host (little-endian) order."""
    raw = bytes.fromhex(hexaddr)
    packed = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(packed)


def parse_table(text: str, table: str) -> list[TableEntry]:
    """Parse the text of /proc/net/``table``; pure."""
    family = dict(TABLES)[table]
    entries = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 10:
            continue
        addr, _, port = parts[1].partition(":")
        entries.append(TableEntry(PROTO_OF_TABLE[table], family, _proc_address(addr),
                                  int(port, 16), int(parts[3], 16), int(parts[9])))
    return entries


def read_tables(netns: Netns) -> list[TableEntry]:
    entries: list[TableEntry] = []
    with netns.entered():
        for table, _ in TABLES:
            try:
                with open(f"/proc/thread-self/net/{table}", encoding="ascii") as f:
                    text = f.read()
            except FileNotFoundError:
                continue          # IPv6 disabled
            entries.extend(parse_table(text, table))
    return entries


def candidates(entries: list[TableEntry], addr: Address, port: int,
               protocols: set[str]) -> list[TableEntry]:
    """The usable sockets a connection to addr:port would reach, best first:
    the exact address, then the IPv4-mapped one, then wildcards."""
    exact = [addr]
    if addr.version == 4:
        exact.append(ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + addr.packed))
    wildcards = [ipaddress.IPv4Address(0), ipaddress.IPv6Address(0)] if addr.version == 4 \
        else [ipaddress.IPv6Address(0)]
    ranked = []
    for entry in entries:
        if entry.port != port or not entry.usable or entry.proto not in protocols:
            continue
        if entry.local in exact:
            ranked.append((exact.index(entry.local), entry))
        elif entry.local in wildcards:
            ranked.append((2 + wildcards.index(entry.local), entry))
    return [entry for _, entry in sorted(ranked, key=lambda r: r[0])]


def socket_owners(inode: int) -> tuple[list[tuple[int, int]], bool]:
    """(pid, fd) pairs of every process holding socket ``inode``, and whether
    some process's descriptors could not be read for lack of permission."""
    target = f"socket:[{inode}]"
    owners: list[tuple[int, int]] = []
    denied = False
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fd_dir = f"/proc/{name}/fd"
        try:
            fds = os.listdir(fd_dir)
        except PermissionError:
            denied = True
            continue
        except OSError:
            continue          # the process exited
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") == target:
                    owners.append((int(name), int(fd)))
            except PermissionError:
                denied = True
                break
            except OSError:
                continue
    return owners, denied


# ------------------------------------------------------------------ borrowed sockets


@dataclass
class TargetSocket:
    """A duplicate of the socket to steer to, with what the rule needs to know."""

    sock: socket.socket
    proto: str              # "tcp" or "udp"
    family: int
    v6only: bool
    description: str        # "tcp 127.0.0.1:8080 (pid 42 fd 3)"

    @property
    def protocol_number(self) -> int:
        return socket.IPPROTO_TCP if self.proto == "tcp" else socket.IPPROTO_UDP

    @property
    def cookie(self) -> int:
        return int.from_bytes(self.sock.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8), "little")

    def close(self) -> None:
        self.sock.close()


def borrow_fd(pid: int, fd: int) -> int:
    """A duplicate of file descriptor ``fd`` of process ``pid``."""
    try:
        return take_fd(pid, fd)
    except ProcessLookupError:
        raise NoListenerError(f"no process {pid}") from None
    except OSError as err:
        if err.errno == errno.EBADF:
            raise NoListenerError(f"process {pid} has no file descriptor {fd}") from None
        if err.errno == errno.EPERM:
            raise SteerPermissionError(
                f"cannot take fd {fd} of process {pid}: Operation not permitted "
                f"(needs the same user and ptrace access, or CAP_SYS_PTRACE)") from None
        raise SteerError(f"cannot take fd {fd} of process {pid}: {err.strerror}") from None


def _socket_netns_inode(sock: socket.socket) -> int | None:
    try:
        nsfd = fcntl.ioctl(sock.fileno(), SIOCGSKNS)
    except OSError:
        return None
    try:
        return os.fstat(nsfd).st_ino
    finally:
        os.close(nsfd)


def inspect(fd: int, netns: Netns, origin: str) -> TargetSocket:
    """Wrap a borrowed fd and check that it is a socket sk_lookup can select:
    a listening TCP socket or a bound, unconnected UDP socket, in ``netns``."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        os.close(fd)
        raise NoListenerError(f"{origin} is not a socket") from None
    try:
        return _inspect(sock, netns, origin)
    except BaseException:
        sock.close()
        raise


def _inspect(sock: socket.socket, netns: Netns, origin: str) -> TargetSocket:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        raise WrongProtocolError(f"{origin} is not an IPv4 or IPv6 socket")
    if sock.type == socket.SOCK_STREAM and sock.proto in (0, socket.IPPROTO_TCP):
        proto = "tcp"
        if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            raise WrongProtocolError(f"{origin} is a TCP socket that is not listening")
    elif sock.type == socket.SOCK_DGRAM and sock.proto in (0, socket.IPPROTO_UDP):
        proto = "udp"
        try:
            sock.getpeername()
            raise WrongProtocolError(f"{origin} is a connected UDP socket")
        except OSError:
            pass
    else:
        raise WrongProtocolError(f"{origin} is neither a TCP nor a UDP socket")
    host, port = sock.getsockname()[:2]
    if port == 0:
        raise WrongProtocolError(f"{origin} is an unbound {proto.upper()} socket")
    ns_inode = _socket_netns_inode(sock)
    if ns_inode is not None and ns_inode != netns.inode:
        raise WrongProtocolError(f"{origin} belongs to another network namespace than "
                                 f"{netns.name}")
    v6only = sock.family == socket.AF_INET6 and bool(
        sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY))
    where = format_endpoint(ipaddress.ip_address(host.split("%")[0]), port)
    return TargetSocket(sock, proto, sock.family, v6only, f"{proto} {where} ({origin})")


def socket_of_process(pid: int, fd: int, netns: Netns) -> TargetSocket:
    """``--to-pid PID --to-fd FD``."""
    return inspect(borrow_fd(pid, fd), netns, f"pid {pid} fd {fd}")


def find_listener(netns: Netns, addr: Address, port: int, protocols: set[str]) -> TargetSocket:
    """``--to ADDR:PORT``: the socket of one of ``protocols`` a connection to
    addr:port reaches in ``netns``, borrowed from its owner."""
    entries = read_tables(netns)
    where = format_endpoint(addr, port)
    found = candidates(entries, addr, port, protocols)
    if not found:
        others = candidates(entries, addr, port, {"tcp", "udp"} - protocols)
        wanted = " or ".join(p.upper() for p in sorted(protocols))
        if others:
            raise WrongProtocolError(
                f"{where} is a {others[0].proto.upper()} socket, but the expression matches "
                f"only {wanted} lookups")
        what = "TCP listener" if protocols == {"tcp"} else (
            "UDP socket" if protocols == {"udp"} else "TCP listener or UDP socket")
        raise NoListenerError(f"no {what} on {where} in {netns.name}")
    if len({e.proto for e in found}) > 1:
        raise SteerError(f"{where} has both a TCP listener and a UDP socket: say 'tcp' or "
                         f"'udp' in the expression")
    denied = False
    for entry in found:
        owners, hidden = socket_owners(entry.inode)
        denied |= hidden
        for pid, fd in owners:
            try:
                return inspect(borrow_fd(pid, fd), netns, f"pid {pid} fd {fd}")
            except SteerPermissionError:
                denied = True
            except NoListenerError:
                continue          # the process closed it meanwhile
    if denied:
        raise SteerPermissionError(f"found a socket on {where} but cannot take it from the "
                                   f"process that owns it: Permission denied")
    raise NoListenerError(f"the socket on {where} has no owning process")
