"""The filter language's abstract syntax tree.

Nodes are frozen, slotted value objects carrying the source span they came
from, so every later error can point at the offending text.  Qualifier
inheritance (``host a or b``) is resolved by the parser: each primitive holds
the complete qualifiers that apply to it.
"""

from __future__ import annotations

from pycap.errors import Span
from pycap.frozen import frozen


@frozen
class Qualifiers:
    """proto (``ip``, ``tcp``, ``link``...), dir (``src``, ``dst``, ``src or dst``,
    ``src and dst``, ``addr1``...) and addr (``host``, ``net``, ``port``,
    ``portrange``, ``gateway``, ``proto``, ``protochain``); None means default."""

    proto: str | None = None
    dir: str | None = None
    addr: str | None = None


ERROR_QUALIFIERS = Qualifiers("<error>", None, "<error>")  # libpcap's qerr


# ---- operands of a primitive -------------------------------------------------

@frozen
class Name:
    text: str
    span: Span


@frozen
class Number:
    value: int
    span: Span


@frozen
class IPv4:
    text: str            # dotted, 1 to 4 parts
    span: Span


@frozen
class IPv4Prefix:
    text: str
    length: int
    span: Span


@frozen
class IPv4Mask:
    text: str
    mask: str
    span: Span


@frozen
class IPv6:
    text: str
    length: int          # 128 for a plain address
    span: Span


@frozen
class MAC:
    text: str
    span: Span


@frozen
class ARCnet:
    text: str
    span: Span


Operand = Name | Number | IPv4 | IPv4Prefix | IPv4Mask | IPv6 | MAC | ARCnet


# ---- arithmetic ---------------------------------------------------------------

@frozen
class Const:
    value: int
    span: Span


@frozen
class Length:
    span: Span


@frozen
class Index:
    """``proto[offset:size]``: ``size`` bytes at ``offset`` into ``proto``'s header."""

    proto: str
    offset: "Arith"
    size: int
    span: Span


@frozen
class BinOp:
    op: str             # + - * / % & | ^ << >>
    left: "Arith"
    right: "Arith"
    span: Span


@frozen
class Negate:
    operand: "Arith"
    span: Span


Arith = Const | Length | Index | BinOp | Negate


# ---- boolean expressions -------------------------------------------------------

@frozen
class Primitive:
    """A qualified identifier: ``tcp dst port 80``, ``net 10.0.0.0/8``."""

    qual: Qualifiers
    operand: Operand
    span: Span


@frozen
class ProtoAbbrev:
    """A protocol name standing alone: ``tcp``, ``ip6``, ``arp``."""

    proto: str
    span: Span


@frozen
class Relation:
    op: str             # = != < <= > >=
    left: Arith
    right: Arith
    span: Span


@frozen
class Special:
    """Keyword primitives with their own rules: ``broadcast``, ``less``,
    ``vlan``, ``inbound``, ``llc``, ... ``args`` holds their numbers/names."""

    kind: str
    proto: str | None
    args: tuple
    span: Span


@frozen
class And:
    left: "Expr"
    right: "Expr"
    span: Span


@frozen
class Or:
    left: "Expr"
    right: "Expr"
    span: Span


@frozen
class Not:
    operand: "Expr"
    span: Span


@frozen
class Empty:
    """The empty expression: accept everything."""

    span: Span


Expr = Primitive | ProtoAbbrev | Relation | Special | And | Or | Not | Empty


def join(a: Span, b: Span) -> Span:
    return Span(min(a.start, b.start), max(a.end, b.end))
