"""Address operands as libpcap reads them, with its checks and wording.
Shared by every lowering (socket filters and sk_lookup)."""

from __future__ import annotations

from pycap.errors import FilterError, Span
from pycap.filter import ast

MASK32 = 0xFFFFFFFF
MASK128 = (1 << 128) - 1


def atoin(text: str, span: Span) -> tuple[int, int]:
    """__pcap_atoin: dotted decimal, 1-4 parts; (value, bits)."""
    value, bits = 0, 0
    for part in text.split("."):
        if not part.isdigit() or int(part) > 255:
            raise FilterError(f"invalid IPv4 address '{text}'", span)
        value = (value << 8) | int(part)
        bits += 8
    return value, bits


def ipv4_network(op: ast.IPv4Prefix | ast.IPv4Mask, q: ast.Qualifiers) -> tuple[int, int]:
    """gen_mcode's checks: ``net a.b.c.d/len`` and ``net a.b.c.d mask m.m.m.m``;
    returns (address, mask)."""
    n, nbits = atoin(op.text, op.span)
    n = (n << (32 - nbits)) & MASK32
    if isinstance(op, ast.IPv4Mask):
        m, mbits = atoin(op.mask, op.span)
        m = (m << (32 - mbits)) & MASK32
        shown = f"{op.text} mask {op.mask}"
    else:
        if op.length > 32:
            raise FilterError("mask length must be <= 32", op.span)
        m = 0 if op.length == 0 else (MASK32 << (32 - op.length)) & MASK32
        shown = f"{op.text}/{op.length}"
    if n & ~m & MASK32:
        raise FilterError(f'non-network bits set in "{shown}"', op.span)
    if q.addr != "net":
        raise FilterError("Mask syntax for networks only", op.span)
    return n, m


def ipv6_network(op: ast.IPv6, q: ast.Qualifiers) -> tuple[int, int]:
    """gen_mcode6's checks; returns (address, mask)."""
    import ipaddress     # only for IPv6 addresses (1 ms at start otherwise)
    addr = int(ipaddress.IPv6Address(op.text))
    if op.length > 128:
        raise FilterError("mask length must be <= 128", op.span)
    mask = MASK128 ^ ((1 << (128 - op.length)) - 1)
    if addr & ~mask & MASK128:
        raise FilterError(f'non-network bits set in "{op.text}/{op.length}"', op.span)
    if q.addr in (None, "host"):
        if op.length != 128:
            raise FilterError("Mask syntax for networks only", op.span)
    elif q.addr != "net":
        raise FilterError("invalid qualifier against IPv6 address", op.span)
    return addr, mask
