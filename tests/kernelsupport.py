"""Helpers for tests that need root, BPF and network namespaces.

``require_kernel()`` skips such a test — or fails it when CI sets
``PYCAP_REQUIRE_KERNEL=1``.  The tiny assembler below hand-encodes the few
eBPF programs these tests need, so they do not depend on the compiler.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from pycap.kernel.bpf import BPF_PROG_TYPE_SOCKET_FILTER, load_program
from pycap.kernel.netns import VethPair, enter_netns

# ------------------------------------------------------------------ gating


@functools.cache
def kernel_unavailable() -> str | None:
    """Why kernel tests cannot run here, or None if they can."""
    if os.geteuid() != 0:
        return "needs root"
    if shutil.which("ip") is None:
        return "needs iproute2 (ip)"
    try:
        load_program(ret(0), BPF_PROG_TYPE_SOCKET_FILTER).close()
    except Exception as err:  # noqa: BLE001 - any failure means "no BPF here"
        return f"bpf(2) unusable: {err}"
    return None


def require(reason: str | None) -> None:
    """Go on if ``reason`` is None; else skip, or fail under PYCAP_REQUIRE_KERNEL=1
    (CI), where what the test needs must be there."""
    if reason is None:
        return
    if os.environ.get("PYCAP_REQUIRE_KERNEL") == "1":
        pytest.fail(f"PYCAP_REQUIRE_KERNEL=1 but {reason}")
    pytest.skip(reason)


def require_kernel() -> None:
    require(kernel_unavailable())


@pytest.fixture
def kernel() -> None:
    require_kernel()


@pytest.fixture
def veth(kernel: None) -> Iterator[VethPair]:
    with VethPair("test") as pair:
        yield pair


# --------------------------------------------------- hand-encoded eBPF (tests only)

R0, R1, R6 = 0, 1, 6


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    """One ``struct bpf_insn``, little-endian."""
    return struct.pack("<BBhi", code, dst | src << 4, off, imm)


def mov_imm(dst: int, imm: int) -> bytes:
    return insn(0xB7, dst, imm=imm)  # BPF_ALU64 | BPF_MOV | BPF_K


def mov_reg(dst: int, src: int) -> bytes:
    return insn(0xBF, dst, src)  # BPF_ALU64 | BPF_MOV | BPF_X


def ldx_w(dst: int, src: int, off: int) -> bytes:
    return insn(0x61, dst, src, off)  # BPF_LDX | BPF_MEM | BPF_W


def ld_abs_b(off: int) -> bytes:
    return insn(0x30, imm=off)  # BPF_LD | BPF_ABS | BPF_B, ctx in r6


def ld_abs_h(off: int) -> bytes:
    return insn(0x28, imm=off)  # BPF_LD | BPF_ABS | BPF_H


def jne_imm(dst: int, imm: int, skip: int) -> bytes:
    return insn(0x55, dst, off=skip, imm=imm)  # BPF_JMP | BPF_JNE | BPF_K


EXIT = insn(0x95)


def ret(value: int) -> bytes:
    """``r0 = value; exit``"""
    return mov_imm(R0, value) + EXIT


def read_ctx_u32(offset: int) -> bytes:
    """``r0 = *(u32 *)(r1 + offset); exit`` — returns an ``__sk_buff`` field."""
    return ldx_w(R0, R1, offset) + EXIT


def udp_port_filter(port: int, snap: int) -> bytes:
    """Accept IPv4 UDP (no IP options) to ``port`` on Ethernet, keeping ``snap`` bytes."""
    return b"".join([
        mov_reg(R6, R1),
        ld_abs_h(12), jne_imm(R0, 0x0800, 6),
        ld_abs_b(23), jne_imm(R0, 17, 4),
        ld_abs_h(36), jne_imm(R0, port, 2),
        ret(snap),
        ret(0),
    ])


# ------------------------------------------------------------------- traffic

UDP_PORT = 9999
ETH_IP_UDP = 14 + 20 + 8


def udp_socket(netns: str, bind: tuple[str, int] | None = None) -> socket.socket:
    """An IPv4 UDP socket living in ``netns``."""
    with enter_netns(netns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if bind is not None:
            sock.bind(bind)
    return sock


def send_udp(sock: socket.socket, dst: str, port: int, count: int, size: int = 500) -> None:
    payload = bytes(size)
    for _ in range(count):
        sock.sendto(payload, (dst, port))


class BackgroundSender:
    """Sends UDP datagrams until stopped — at most ``max_count`` of them and
    for at most ``max_seconds``."""

    def __init__(self, sock: socket.socket, dst: str, port: int,
                 max_count: int = 200_000, max_seconds: float = 8.0):
        self._args = (sock, dst, port)
        self._max_count = max_count
        self._max_seconds = max_seconds
        self._stop = threading.Event()
        self.sent = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        sock, dst, port = self._args
        deadline = time.monotonic() + self._max_seconds
        payload = bytes(100)
        while (not self._stop.is_set() and self.sent < self._max_count
               and time.monotonic() < deadline):
            sock.sendto(payload, (dst, port))
            self.sent += 1
            if self.sent % 64 == 0:
                time.sleep(0.0005)

    def __enter__(self) -> "BackgroundSender":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def is_udp_to(frame: bytes, port: int) -> bool:
    return (len(frame) >= 38 and frame[12:14] == b"\x08\x00" and frame[23] == 17
            and struct.unpack_from("!H", frame, 36)[0] == port)
