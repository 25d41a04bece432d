"""``bpf(2)``: load programs (with the verifier's log when they fail), run them
with ``BPF_PROG_TEST_RUN``, and the small set of map, link and pin commands the
sk_lookup feature needs.

Every kernel object is a context manager owning one file descriptor; closing it
is what releases the object (a program stays alive while a socket holds it).
"""

from __future__ import annotations

import ctypes
import os
import re
import struct
from pycap.frozen import frozen
from enum import IntEnum
from types import TracebackType
from collections.abc import Callable

TYPE_CHECKING = False   # typing's, without importing typing (2 ms of every start)
if TYPE_CHECKING:
    from typing import Self

from pycap.errors import KernelError
from pycap.kernel import _libc

BPF_PROG_TYPE_SOCKET_FILTER = 1
BPF_PROG_TYPE_SK_LOOKUP = 30
BPF_SK_LOOKUP = 36  # enum bpf_attach_type
BPF_MAP_TYPE_ARRAY = 2
BPF_MAP_TYPE_PERCPU_ARRAY = 6
BPF_MAP_TYPE_SOCKMAP = 15
BPF_MAP_TYPE_SOCKHASH = 18
BPF_ANY = 0

INSN_SIZE = 8
SK_BUFF_SIZE = 192  # sizeof(struct __sk_buff), 6.x: ends with __u64 hwtstamp at 184
SK_BUFF_LEN = 0  # offsetof(struct __sk_buff, len)
SK_BUFF_MARK = 8
SK_BUFF_CB = 48  # cb[0]; cb[1..4] follow, 4 bytes each

LOG_START = 1 << 20
LOG_MAX = 16 << 20

# BPF_PROG_TEST_RUN on a socket filter: eth_type_trans() strips a 14-byte
# Ethernet header; the skb must fit one page with headroom and shared info
# (4096 - 64 - 320 = 3712 bytes of input on x86_64).
DUMMY_ETH_LEN = 14
TEST_RUN_MAX_DATA = 3712
TEST_RUN_MAX_FRAME = TEST_RUN_MAX_DATA - DUMMY_ETH_LEN
# An ethertype below 0x600 makes eth_type_trans() answer ETH_P_802_2 without
# parsing an L3 header, so frames of any length (even 0 bytes) can be run.
NEUTRAL_ETHERTYPE = 0x0000


class Cmd(IntEnum):
    """The ``bpf(2)`` commands pycap uses (enum bpf_cmd)."""

    MAP_CREATE = 0
    MAP_LOOKUP_ELEM = 1
    MAP_UPDATE_ELEM = 2
    MAP_DELETE_ELEM = 3
    PROG_LOAD = 5
    OBJ_PIN = 6
    OBJ_GET = 7
    PROG_TEST_RUN = 10
    OBJ_GET_INFO_BY_FD = 15
    PROG_QUERY = 16
    LINK_CREATE = 28
    LINK_DETACH = 34


class _ProgLoadAttr(ctypes.Structure):
    _fields_ = [
        ("prog_type", ctypes.c_uint32),
        ("insn_cnt", ctypes.c_uint32),
        ("insns", ctypes.c_uint64),
        ("license", ctypes.c_uint64),
        ("log_level", ctypes.c_uint32),
        ("log_size", ctypes.c_uint32),
        ("log_buf", ctypes.c_uint64),
        ("kern_version", ctypes.c_uint32),
        ("prog_flags", ctypes.c_uint32),
        ("prog_name", ctypes.c_char * 16),
        ("prog_ifindex", ctypes.c_uint32),
        ("expected_attach_type", ctypes.c_uint32),
    ]


class _TestRunAttr(ctypes.Structure):
    _fields_ = [
        ("prog_fd", ctypes.c_uint32),
        ("retval", ctypes.c_uint32),
        ("data_size_in", ctypes.c_uint32),
        ("data_size_out", ctypes.c_uint32),
        ("data_in", ctypes.c_uint64),
        ("data_out", ctypes.c_uint64),
        ("repeat", ctypes.c_uint32),
        ("duration", ctypes.c_uint32),
        ("ctx_size_in", ctypes.c_uint32),
        ("ctx_size_out", ctypes.c_uint32),
        ("ctx_in", ctypes.c_uint64),
        ("ctx_out", ctypes.c_uint64),
        ("flags", ctypes.c_uint32),
        ("cpu", ctypes.c_uint32),
        ("batch_size", ctypes.c_uint32),
    ]


class _MapCreateAttr(ctypes.Structure):
    _fields_ = [
        ("map_type", ctypes.c_uint32),
        ("key_size", ctypes.c_uint32),
        ("value_size", ctypes.c_uint32),
        ("max_entries", ctypes.c_uint32),
        ("map_flags", ctypes.c_uint32),
        ("inner_map_fd", ctypes.c_uint32),
        ("numa_node", ctypes.c_uint32),
        ("map_name", ctypes.c_char * 16),
    ]


class _MapElemAttr(ctypes.Structure):
    _fields_ = [
        ("map_fd", ctypes.c_uint32),
        ("_pad", ctypes.c_uint32),
        ("key", ctypes.c_uint64),
        ("value", ctypes.c_uint64),
        ("flags", ctypes.c_uint64),
    ]


class _ObjAttr(ctypes.Structure):
    _fields_ = [
        ("pathname", ctypes.c_uint64),
        ("bpf_fd", ctypes.c_uint32),
        ("file_flags", ctypes.c_uint32),
    ]


class _InfoByFdAttr(ctypes.Structure):
    _fields_ = [
        ("bpf_fd", ctypes.c_uint32),
        ("info_len", ctypes.c_uint32),
        ("info", ctypes.c_uint64),
    ]


class _MapInfo(ctypes.Structure):
    """The head of ``struct bpf_map_info`` (the kernel fills what fits)."""

    _fields_ = [
        ("type", ctypes.c_uint32),
        ("id", ctypes.c_uint32),
        ("key_size", ctypes.c_uint32),
        ("value_size", ctypes.c_uint32),
        ("max_entries", ctypes.c_uint32),
        ("map_flags", ctypes.c_uint32),
        ("name", ctypes.c_char * 16),
    ]


class _ProgQueryAttr(ctypes.Structure):
    _fields_ = [
        ("target_fd", ctypes.c_uint32),
        ("attach_type", ctypes.c_uint32),
        ("query_flags", ctypes.c_uint32),
        ("attach_flags", ctypes.c_uint32),
        ("prog_ids", ctypes.c_uint64),
        ("prog_cnt", ctypes.c_uint32),
    ]


class _LinkDetachAttr(ctypes.Structure):
    _fields_ = [("link_fd", ctypes.c_uint32)]


class _LinkCreateAttr(ctypes.Structure):
    _fields_ = [
        ("prog_fd", ctypes.c_uint32),
        ("target_fd", ctypes.c_uint32),
        ("attach_type", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
    ]


def _addr(buf: ctypes.Array | None) -> int:
    return ctypes.addressof(buf) if buf is not None else 0


def _in_buffer(data: bytes) -> ctypes.Array:
    # A zero-length ctypes array still has an address; the kernel ignores it.
    return ctypes.create_string_buffer(bytes(data), max(1, len(data)))


def _kernel_error(what: str, err: OSError) -> KernelError:
    return KernelError(f"{what}: {err.strerror}", err.errno or 0)


class _FdObject:
    """A kernel object held by one file descriptor; closing the fd releases it."""

    _kind = "BPF object"

    def __init__(self, fd: int):
        self._fd = fd

    @property
    def fd(self) -> int:
        if self._fd < 0:
            raise ValueError(f"{self._kind} is closed")
        return self._fd

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


# --------------------------------------------------------------------------- programs


@frozen
class TestResult:
    """What ``BPF_PROG_TEST_RUN`` reports: the program's return value and the
    average run time per repetition in nanoseconds."""

    __test__ = False  # not a pytest test class

    retval: int
    duration_ns: int


class Program(_FdObject):
    """A loaded, verified eBPF program."""

    _kind = "BPF program"

    def __init__(self, fd: int, insn_count: int, prog_type: int):
        super().__init__(fd)
        self.insn_count = insn_count
        self.prog_type = prog_type

    def test_run(self, data: bytes, repeat: int = 1, ctx: bytes | None = None) -> TestResult:
        """Run the program on ``data`` in the kernel (``BPF_PROG_TEST_RUN``).

        For a socket filter the kernel strips a 14-byte Ethernet header off
        ``data`` first; :func:`run_socket_filter` handles that.
        """
        data_buf = _in_buffer(data)
        ctx_buf = _in_buffer(ctx) if ctx is not None else None
        attr = _TestRunAttr(
            prog_fd=self.fd, data_size_in=len(data), data_in=_addr(data_buf),
            repeat=repeat, ctx_size_in=len(ctx) if ctx is not None else 0, ctx_in=_addr(ctx_buf),
        )
        try:
            _libc.bpf(Cmd.PROG_TEST_RUN, attr)
        except OSError as err:
            raise _kernel_error("cannot test-run BPF program", err) from None
        return TestResult(attr.retval, attr.duration)


_PROG_NAME_BAD = re.compile(r"[^A-Za-z0-9_.]")


def _prog_name(name: str) -> bytes:
    """The kernel accepts 15 characters of [A-Za-z0-9_.] as a program/map name."""
    return _PROG_NAME_BAD.sub("_", name)[:15].encode()


def _try_load(insns: bytes, prog_type: int, license: str, name: str,
              expected_attach_type: int, log: ctypes.Array | None) -> int:
    insn_buf = _in_buffer(insns)
    license_buf = ctypes.create_string_buffer(license.encode())
    attr = _ProgLoadAttr(
        prog_type=prog_type, insn_cnt=len(insns) // INSN_SIZE, insns=_addr(insn_buf),
        license=_addr(license_buf), prog_name=_prog_name(name),
        expected_attach_type=expected_attach_type,
    )
    if log is not None:
        attr.log_level, attr.log_size, attr.log_buf = 1, len(log), _addr(log)
    return _libc.bpf(Cmd.PROG_LOAD, attr)


def _verifier_log(load: Callable[[ctypes.Array], int]) -> tuple[int | None, str]:
    """Load again with a log buffer that grows on ENOSPC; returns (fd or None, log)."""
    size = LOG_START
    while True:
        log = ctypes.create_string_buffer(size)
        try:
            return load(log), ""
        except OSError as err:
            if err.errno == 28 and size < LOG_MAX:  # ENOSPC: log truncated
                size *= 2
                continue
            return None, log.value.decode(errors="replace")


def last_log_line(log: str) -> str:
    """The verifier's verdict: the last line that is not statistics."""
    for line in reversed(log.splitlines()):
        line = line.strip()
        if line and not line.startswith(("processed ", "verification time", "stack depth")):
            return line
    return ""


def load_program(insns: bytes, prog_type: int = BPF_PROG_TYPE_SOCKET_FILTER,
                 license: str = "GPL", name: str = "pycap",
                 expected_attach_type: int = 0) -> Program:
    """Load raw eBPF bytecode (little-endian ``struct bpf_insn``, 8 bytes each).

    The first attempt runs without a log (fast path); only a failure pays for
    a second verification with the log, whose last line goes into the error.
    """
    if len(insns) % INSN_SIZE:
        raise KernelError(f"cannot load BPF program: length {len(insns)} is not a multiple of 8")
    args = (insns, prog_type, license, name, expected_attach_type)
    try:
        fd = _try_load(*args, None)
    except OSError as err:
        fd, log = _verifier_log(lambda buf: _try_load(*args, buf))
        if fd is None:
            raise _load_error(err, log) from None
    return Program(fd, len(insns) // INSN_SIZE, prog_type)


def _load_error(err: OSError, log: str) -> KernelError:
    verdict = last_log_line(log)
    message = f"cannot load BPF program: {err.strerror}"
    if verdict:
        message += f" (verifier: {verdict})"
    return KernelError(message, err.errno or 0, log)


# ---------------------------------------------------------------- socket filter test runs


def skb_ctx(cb0: int = 0, mark: int = 0) -> bytes:
    """A ``struct __sk_buff`` for ``BPF_PROG_TEST_RUN``'s ``ctx_in``.

    The kernel accepts only a few fields here (mark, priority, ifindex, cb,
    tstamp, wire_len, gso_*, hwtstamp); everything else must be zero.  pycap
    passes a truncated record's original wire length in ``cb[0]``.
    """
    ctx = bytearray(SK_BUFF_SIZE)
    struct.pack_into("<I", ctx, SK_BUFF_MARK, mark)
    struct.pack_into("<I", ctx, SK_BUFF_CB, cb0)
    return bytes(ctx)


def dummy_ethernet_header(ethertype: int = NEUTRAL_ETHERTYPE) -> bytes:
    """The header eth_type_trans() consumes: zero MACs (so PACKET_HOST on lo)."""
    return bytes(12) + struct.pack("!H", ethertype)


def run_socket_filter(prog: Program, frame: bytes, wire_len: int | None = None,
                      ethertype: int = NEUTRAL_ETHERTYPE) -> int:
    """The socket filter's return value for ``frame`` as seen at offset 0.

    ``wire_len`` (a truncated record's original length) is passed in
    ``__sk_buff.cb[0]``; ``__sk_buff.len`` is always ``len(frame)``.

    ``ethertype`` goes into the dummy header and becomes ``__sk_buff.protocol``.
    The default parses nothing; with 0x0800 (0x86dd) the kernel refuses frames
    shorter than an IPv4 (IPv6) header with EINVAL.
    """
    if len(frame) > TEST_RUN_MAX_FRAME:
        raise KernelError(
            f"cannot test-run BPF program: frame of {len(frame)} bytes exceeds "
            f"BPF_PROG_TEST_RUN's limit of {TEST_RUN_MAX_FRAME}", 22)
    ctx = skb_ctx(cb0=wire_len) if wire_len is not None else None
    return prog.test_run(dummy_ethernet_header(ethertype) + frame, ctx=ctx).retval


# ------------------------------------------------------------------ sk_lookup test runs

SK_LOOKUP_CTX_SIZE = 72  # sizeof(struct bpf_sk_lookup) on 64-bit


@frozen
class SkLookupResult:
    """``BPF_PROG_TEST_RUN`` of an sk_lookup program: its verdict (``SK_PASS`` 1,
    ``SK_DROP`` 0) and the cookie of the socket it assigned (0 if none)."""

    retval: int
    cookie: int
    duration_ns: int


def run_sk_lookup(prog: Program, ctx: bytes, repeat: int = 1) -> SkLookupResult:
    """Run an sk_lookup program on a crafted ``struct bpf_sk_lookup``.

    The kernel takes no packet data here, only the context; it refuses a
    non-zero ``ingress_ifindex`` (and anything after ``local_port``) with EINVAL.
    """
    if len(ctx) != SK_LOOKUP_CTX_SIZE:
        raise ValueError(f"ctx must be {SK_LOOKUP_CTX_SIZE} bytes, not {len(ctx)}")
    ctx_in = _in_buffer(ctx)
    ctx_out = ctypes.create_string_buffer(SK_LOOKUP_CTX_SIZE)
    attr = _TestRunAttr(prog_fd=prog.fd, repeat=repeat,
                        ctx_size_in=len(ctx), ctx_in=_addr(ctx_in),
                        ctx_size_out=len(ctx_out), ctx_out=_addr(ctx_out))
    try:
        _libc.bpf(Cmd.PROG_TEST_RUN, attr)
    except OSError as err:
        raise _kernel_error("cannot test-run BPF program", err) from None
    cookie = struct.unpack_from("<Q", ctx_out.raw, 0)[0]
    return SkLookupResult(attr.retval, cookie, attr.duration)


# --------------------------------------------------------------------------------- maps


class Map(_FdObject):
    """A BPF map; keys and values are raw bytes of the sizes it was created with."""

    _kind = "BPF map"

    def __init__(self, fd: int, key_size: int, value_size: int):
        super().__init__(fd)
        self.key_size = key_size
        self.value_size = value_size

    def _elem(self, cmd: Cmd, key: bytes, value: ctypes.Array | None, flags: int = 0) -> None:
        if len(key) != self.key_size:
            raise ValueError(f"key must be {self.key_size} bytes, not {len(key)}")
        key_buf = _in_buffer(key)
        attr = _MapElemAttr(map_fd=self.fd, key=_addr(key_buf), value=_addr(value), flags=flags)
        _libc.bpf(cmd, attr)

    def update(self, key: bytes, value: bytes, flags: int = BPF_ANY) -> None:
        if len(value) != self.value_size:
            raise ValueError(f"value must be {self.value_size} bytes, not {len(value)}")
        try:
            self._elem(Cmd.MAP_UPDATE_ELEM, key, _in_buffer(value), flags)
        except OSError as err:
            raise _kernel_error("cannot update BPF map", err) from None

    def lookup(self, key: bytes) -> bytes | None:
        out = ctypes.create_string_buffer(self.value_size)
        try:
            self._elem(Cmd.MAP_LOOKUP_ELEM, key, out)
        except OSError as err:
            if err.errno == 2:  # ENOENT
                return None
            raise _kernel_error("cannot look up BPF map", err) from None
        return out.raw

    def lookup_percpu(self, key: bytes) -> list[int]:
        """One unsigned value per possible CPU, for a per-CPU map of integers
        (value_size 1, 2, 4 or 8; the kernel pads each to 8 bytes)."""
        ncpu = possible_cpus()
        out = ctypes.create_string_buffer(8 * ncpu)
        try:
            self._elem(Cmd.MAP_LOOKUP_ELEM, key, out)
        except OSError as err:
            raise _kernel_error("cannot look up BPF map", err) from None
        size = self.value_size
        return [int.from_bytes(out.raw[8 * i:8 * i + size], "little") for i in range(ncpu)]

    def delete(self, key: bytes) -> bool:
        """Remove ``key``; False if it was not there."""
        try:
            self._elem(Cmd.MAP_DELETE_ELEM, key, None)
        except OSError as err:
            if err.errno == 2:
                return False
            raise _kernel_error("cannot delete from BPF map", err) from None
        return True


def possible_cpus() -> int:
    """How many CPUs per-CPU maps hold a value for (``/sys/devices/system/cpu/possible``)."""
    try:
        with open("/sys/devices/system/cpu/possible", encoding="ascii") as f:
            spec = f.read().strip()
    except OSError:
        return os.cpu_count() or 1
    count = 0
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        count += int(hi or lo) - int(lo) + 1
    return count


@frozen
class MapInfo:
    type: int
    id: int
    key_size: int
    value_size: int
    max_entries: int
    name: str


def map_info(fd: int) -> MapInfo:
    """``BPF_OBJ_GET_INFO_BY_FD`` for a map: its type, sizes and name."""
    info = _MapInfo()
    attr = _InfoByFdAttr(bpf_fd=fd, info_len=ctypes.sizeof(info), info=ctypes.addressof(info))
    try:
        _libc.bpf(Cmd.OBJ_GET_INFO_BY_FD, attr)
    except OSError as err:
        raise _kernel_error("cannot get BPF map info", err) from None
    return MapInfo(info.type, info.id, info.key_size, info.value_size, info.max_entries,
                   info.name.decode(errors="replace"))


def create_map(map_type: int, key_size: int, value_size: int, max_entries: int,
               name: str = "pycap") -> Map:
    attr = _MapCreateAttr(map_type=map_type, key_size=key_size, value_size=value_size,
                          max_entries=max_entries, map_name=_prog_name(name))
    try:
        fd = _libc.bpf(Cmd.MAP_CREATE, attr)
    except OSError as err:
        raise _kernel_error("cannot create BPF map", err) from None
    return Map(fd, key_size, value_size)


# ------------------------------------------------------------------------ links and pins


class Link(_FdObject):
    """A BPF link; closing its last reference (fd or pin) detaches the program."""

    _kind = "BPF link"


def link_create(prog_fd: int, target_fd: int, attach_type: int) -> Link:
    attr = _LinkCreateAttr(prog_fd=prog_fd, target_fd=target_fd, attach_type=attach_type)
    try:
        return Link(_libc.bpf(Cmd.LINK_CREATE, attr))
    except OSError as err:
        raise _kernel_error("cannot attach BPF program", err) from None


def link_detach(fd: int) -> None:
    """``BPF_LINK_DETACH``: detach the program now, whoever else holds the link."""
    try:
        _libc.bpf(Cmd.LINK_DETACH, _LinkDetachAttr(link_fd=fd))
    except OSError as err:
        raise _kernel_error("cannot detach BPF link", err) from None


def prog_query(target_fd: int, attach_type: int, max_ids: int = 64) -> list[int]:
    """IDs of the programs attached to ``target_fd`` (e.g. a network namespace)
    for ``attach_type``, in run order."""
    ids = (ctypes.c_uint32 * max_ids)()
    attr = _ProgQueryAttr(target_fd=target_fd, attach_type=attach_type,
                          prog_ids=ctypes.addressof(ids), prog_cnt=max_ids)
    try:
        _libc.bpf(Cmd.PROG_QUERY, attr)
    except OSError as err:
        raise _kernel_error("cannot query attached BPF programs", err) from None
    return list(ids[:min(attr.prog_cnt, max_ids)])


def obj_pin(fd: int, path: str) -> None:
    """Pin a program, map or link at ``path`` on a bpffs mount."""
    path_buf = ctypes.create_string_buffer(os.fsencode(path))
    try:
        _libc.bpf(Cmd.OBJ_PIN, _ObjAttr(pathname=_addr(path_buf), bpf_fd=fd))
    except OSError as err:
        raise _kernel_error(f"cannot pin BPF object at {path}", err) from None


def obj_get(path: str) -> int:
    """A new fd for the object pinned at ``path``; the caller owns it."""
    path_buf = ctypes.create_string_buffer(os.fsencode(path))
    try:
        return _libc.bpf(Cmd.OBJ_GET, _ObjAttr(pathname=_addr(path_buf)))
    except OSError as err:
        raise _kernel_error(f"cannot open pinned BPF object {path}", err) from None
