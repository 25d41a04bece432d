"""Borrowing another process's file descriptor: ``pidfd_open`` + ``pidfd_getfd``.

This is how ``pycap steer`` gets hold of a listening socket that some other
program owns.  Needs ptrace access to that process (same user, or
``CAP_SYS_PTRACE``).  Errors are ``OSError`` with the kernel's errno
(ESRCH: no such process, EBADF: no such fd, EPERM: not allowed); callers
know what the user asked for and word the message.
"""

from __future__ import annotations

import os

from pycap.kernel import _libc


def take_fd(pid: int, fd: int) -> int:
    """A close-on-exec duplicate, in this process, of ``fd`` of process ``pid``."""
    pidfd = os.pidfd_open(pid)
    try:
        return _libc.pidfd_getfd(pidfd, fd)
    finally:
        os.close(pidfd)
