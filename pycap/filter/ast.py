"""The filter language's abstract syntax tree.

Nodes are frozen, slotted value objects carrying the source span they came
from, so every later error can point at the offending text.  Qualifier
inheritance (``host a or b``) is resolved by the parser: each primitive holds
the complete qualifiers that apply to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from pycap.errors import Span


@dataclass(frozen=True, slots=True)
class Qualifiers:
    """proto (``ip``, ``tcp``, ``link``...), dir (``src``, ``dst``, ``src or dst``,
    ``src and dst``, ``addr1``...) and addr (``host``, ``net``, ``port``,
    ``portrange``, ``gateway``, ``proto``, ``protochain``); None means default."""

    proto: str | None = None
    dir: str | None = None
    addr: str | None = None


ERROR_QUALIFIERS = Qualifiers("<error>", None, "<error>")  # libpcap's qerr


# ---- operands of a primitive -------------------------------------------------

@dataclass(frozen=True, slots=True)
class Name:
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Number:
    value: int
    span: Span


@dataclass(frozen=True, slots=True)
class IPv4:
    text: str            # dotted, 1 to 4 parts
    span: Span


@dataclass(frozen=True, slots=True)
class IPv4Prefix:
    text: str
    length: int
    span: Span


@dataclass(frozen=True, slots=True)
class IPv4Mask:
    text: str
    mask: str
    span: Span


@dataclass(frozen=True, slots=True)
class IPv6:
    text: str
    length: int          # 128 for a plain address
    span: Span


@dataclass(frozen=True, slots=True)
class MAC:
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class ARCnet:
    text: str
    span: Span


Operand = Union[Name, Number, IPv4, IPv4Prefix, IPv4Mask, IPv6, MAC, ARCnet]


# ---- arithmetic ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Const:
    value: int
    span: Span


@dataclass(frozen=True, slots=True)
class Length:
    span: Span


@dataclass(frozen=True, slots=True)
class Index:
    """``proto[offset:size]``: ``size`` bytes at ``offset`` into ``proto``'s header."""

    proto: str
    offset: "Arith"
    size: int
    span: Span


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str             # + - * / % & | ^ << >>
    left: "Arith"
    right: "Arith"
    span: Span


@dataclass(frozen=True, slots=True)
class Negate:
    operand: "Arith"
    span: Span


Arith = Union[Const, Length, Index, BinOp, Negate]


# ---- boolean expressions -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Primitive:
    """A qualified identifier: ``tcp dst port 80``, ``net 10.0.0.0/8``."""

    qual: Qualifiers
    operand: Operand
    span: Span


@dataclass(frozen=True, slots=True)
class ProtoAbbrev:
    """A protocol name standing alone: ``tcp``, ``ip6``, ``arp``."""

    proto: str
    span: Span


@dataclass(frozen=True, slots=True)
class Relation:
    op: str             # = != < <= > >=
    left: Arith
    right: Arith
    span: Span


@dataclass(frozen=True, slots=True)
class Special:
    """Keyword primitives with their own rules: ``broadcast``, ``less``,
    ``vlan``, ``inbound``, ``llc``, ... ``args`` holds their numbers/names."""

    kind: str
    proto: str | None
    args: tuple
    span: Span


@dataclass(frozen=True, slots=True)
class And:
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Or:
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Empty:
    """The empty expression: accept everything."""

    span: Span


Expr = Union[Primitive, ProtoAbbrev, Relation, Special, And, Or, Not, Empty]


def join(a: Span, b: Span) -> Span:
    return Span(min(a.start, b.start), max(a.end, b.end))
