"""tcpdump's ``-x``/``-xx``/``-X``/``-XX``/``-A`` packet dumps (print-ascii.c).

``-x``/``-X``/``-A`` start after the link-layer header (nothing is printed
when the packet has nothing beyond it); the doubled forms start at byte 0.
Every function returns the text tcpdump appends after the packet line,
starting with its newline, so ``line + dump(...)`` is tcpdump's output.
"""

from __future__ import annotations

__all__ = ["hex_lines", "hex_ascii_lines", "ascii_text", "dump"]

_ASCII = bytes(b if 0x21 <= b <= 0x7E else 0x2E for b in range(256))
# -A: printable characters, tab, space and newline pass; the rest become '.'
_ASCII_A = bytes(b if (0x21 <= b <= 0x7E or b in (0x09, 0x20, 0x0A)) else 0x2E for b in range(256))


def _hex_groups(chunk: bytes) -> str:
    h = chunk.hex()
    return "".join([" " + h[i:i + 4] for i in range(0, len(h), 4)])


def hex_lines(data: bytes, ident: str = "\n\t", offset: int = 0) -> str:
    """hex_print(): ``\\n\\t0x0000:  4500 0054 ...`` (8 groups per line)."""
    out = []
    for i in range(0, len(data), 16):
        out.append("%s0x%04x: %s" % (ident, offset + i, _hex_groups(data[i:i + 16])))
    return "".join(out)


def hex_ascii_lines(data: bytes, ident: str = "\n\t", offset: int = 0) -> str:
    """hex_and_ascii_print(): hex padded to 40 columns, two spaces, ASCII."""
    out = []
    for i in range(0, len(data), 16):
        chunk = data[i:i + 16]
        out.append("%s0x%04x: %-40s  %s" % (ident, offset + i, _hex_groups(chunk),
                                            chunk.translate(_ASCII).decode("ascii")))
    return "".join(out)


def ascii_text(data: bytes) -> str:
    """ascii_print(): a newline, then the bytes as text (CR dropped before LF)."""
    out = ["\n"]
    n = len(data)
    i = 0
    tr = _ASCII_A
    while i < n:
        b = data[i]
        i += 1
        if b == 0x0D:
            # a CR is dropped when the next byte is LF or it is the last-but-one
            if (n - i) > 1 and data[i] != 0x0A:
                out.append(".")
            continue
        out.append(chr(tr[b]))
    return "".join(out)


def dump(mode: str | None, data: bytes, link_header_len: int) -> str:
    """The dump for a tcpdump hex/ASCII flag; ``mode`` in x, xx, X, XX, A, AA."""
    if not mode:
        return ""
    whole = len(mode) == 2
    if whole:
        body = data
    else:
        if len(data) <= link_header_len:
            return ""
        body = data[link_header_len:]
    kind = mode[0]
    if kind == "x":
        return hex_lines(body)
    if kind == "X":
        return hex_ascii_lines(body)
    if kind == "A":
        return ascii_text(body)
    raise ValueError("unknown dump mode %r" % mode)
