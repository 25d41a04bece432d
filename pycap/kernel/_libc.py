"""The raw system calls pycap needs and Python's standard library lacks.

This module is the only place that touches libc through ctypes.  Every call
returns a plain int or raises ``OSError`` carrying errno; callers turn that into
the user-facing error they know the context for.
"""

from __future__ import annotations

import ctypes
import os

SYS_BPF = 321  # x86_64
SYS_PIDFD_GETFD = 438  # x86_64 (and every architecture since 5.6)
CLONE_NEWNET = 0x40000000

_LIBC = ctypes.CDLL(None, use_errno=True)

# Private prototypes, so the shared CDLL's default (int) restype stays untouched.
_SYSCALL = ctypes.CFUNCTYPE(
    ctypes.c_long, ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_ulong,
    use_errno=True,
)(("syscall", _LIBC))
_SYSCALL3 = ctypes.CFUNCTYPE(
    ctypes.c_long, ctypes.c_long, ctypes.c_long, ctypes.c_long, ctypes.c_ulong, use_errno=True,
)(("syscall", _LIBC))
_SETNS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int, use_errno=True)(
    ("setns", _LIBC)
)


def _raise_errno() -> None:
    err = ctypes.get_errno()
    raise OSError(err, os.strerror(err))


def bpf(cmd: int, attr: ctypes.Structure) -> int:
    """``bpf(cmd, &attr, sizeof(attr))``; the kernel may write results back into attr."""
    ret = _SYSCALL(SYS_BPF, cmd, ctypes.addressof(attr), ctypes.sizeof(attr))
    if ret < 0:
        _raise_errno()
    return int(ret)


def setns(fd: int, nstype: int = CLONE_NEWNET) -> None:
    """Move the calling *thread* into the namespace that ``fd`` refers to."""
    if _SETNS(fd, nstype) != 0:
        _raise_errno()


def pidfd_getfd(pidfd: int, target_fd: int) -> int:
    """``pidfd_getfd(pidfd, target_fd, 0)``: a duplicate, in this process, of file
    descriptor ``target_fd`` of the process ``pidfd`` refers to (close-on-exec).
    Needs ptrace access to that process (same user, or CAP_SYS_PTRACE)."""
    ret = _SYSCALL3(SYS_PIDFD_GETFD, pidfd, target_fd, 0)
    if ret < 0:
        _raise_errno()
    return int(ret)


_BIND = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32,
                         use_errno=True)(("bind", _LIBC))


def bind(fd: int, address: bytes) -> None:
    """``bind(fd, address)`` with a raw ``struct sockaddr``: Python's AF_PACKET
    addresses need an interface name, so ifindex 0 (every interface) needs this."""
    buf = ctypes.create_string_buffer(address, len(address))
    if _BIND(fd, buf, len(address)) != 0:
        _raise_errno()
