"""No look-up leaves the machine during the tests.

Filters may name hosts (``host nosuch.host.invalid``: the invalid corpus
expects tcpdump's "unknown host"), and the compiler asks the C library, as
libpcap does, which would send a DNS query to the system's resolver.  In
the tests' own process the resolver answers from /etc/hosts alone: a name
that is not there is unknown, without a query.  (Tests that run pycap as a
command print with -n, or inside a namespace whose name service reads only
files; tests/test_names.py.)
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest


def _hosts_names(path: str = "/etc/hosts") -> frozenset[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return frozenset()
    return frozenset(name.lower() for line in text.splitlines()
                     for name in line.split("#", 1)[0].split()[1:])


def _is_address(host) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0] if isinstance(host, str) else host)
    except ValueError:
        return False
    return True


@pytest.fixture(autouse=True, scope="session")
def _files_only_resolver() -> Iterator[None]:
    names = _hosts_names()

    def known(host) -> bool:
        if host is None or host == "" or _is_address(host):
            return True
        text = host.decode() if isinstance(host, bytes) else str(host)
        return text.lower().rstrip(".") in names

    def files_only(real):
        def lookup(host, *args, **kwargs):
            if not known(host):
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return real(host, *args, **kwargs)
        return lookup

    def gethostbyaddr(address):
        raise socket.herror(1, "Unknown host")      # reverse look-ups: never in-process

    patch = pytest.MonkeyPatch()
    patch.setattr(socket, "getaddrinfo", files_only(socket.getaddrinfo))
    patch.setattr(socket, "gethostbyname", files_only(socket.gethostbyname))
    patch.setattr(socket, "gethostbyaddr", gethostbyaddr)
    yield
    patch.undo()
