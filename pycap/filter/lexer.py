"""Turn a filter expression into tokens, lazily, the way libpcap's flex scanner does.

Tokens are produced on demand so that errors surface in the same order as in
libpcap, whose parser asks for one token at a time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from pycap.errors import FilterError, Span
from pycap.filter.tokens import KEYWORDS, NAMED_NUMBERS, Kind, Token

_N = r"(?:0[xX][0-9A-Fa-f]+|[0-9]+)"
_B = r"[0-9A-Fa-f][0-9A-Fa-f]?"
_B2 = r"[0-9A-Fa-f]{4}"


@functools.cache
def _rules() -> list[tuple[str, re.Pattern[str] | None]]:
    """(name, compiled pattern) in flex rule order; ties in length go to the
    earlier rule.  Compiled on first use (about 1 ms): filters made of plain
    words and numbers never need them (see _PLAIN)."""
    return [
        ("op2", re.compile(r">=|<=|!=|==|<<|>>|&&|\|\|")),
        ("op1", re.compile(r"[+\-*/%:\[\]!<>()&|^=]")),
        ("aid", re.compile(r"\$" + _B)),
        ("mac", re.compile(
            rf"(?:{_B}:{_B}:{_B}:{_B}:{_B}:{_B}|{_B}-{_B}-{_B}-{_B}-{_B}-{_B}"
            rf"|{_B}\.{_B}\.{_B}\.{_B}\.{_B}\.{_B}|{_B2}\.{_B2}\.{_B2}|(?:{_B2}){{3}})")),
        ("num", re.compile(_N)),
        ("hid", re.compile(rf"{_N}\.{_N}(?:\.{_N}(?:\.{_N})?)?")),
        ("v6", None),  # handled by _match_v6
        ("badmac", re.compile(rf"(?:{_B}:+)(?:{_B}:+)+")),
        ("id", re.compile(r"[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?")),
        ("escaped", re.compile(r"\\[^ !()\n\t]+")),
    ]


_V6_CHARS = re.compile(r"[0-9A-Fa-f:]*(?:\.[0-9A-Fa-fxX.]*)?")
_V4_TAIL = re.compile(rf"{_N}\.{_N}\.{_N}\.{_N}")
_W = re.compile(r"[0-9A-Fa-f]{1,4}")

# A word of letters and digits that nothing could continue: every rule that
# could match longer needs one of ``-_.:`` (or twelve hex digits: a MAC).
_PLAIN = re.compile(r"[A-Za-z0-9]+(?![-_.:A-Za-z0-9])")
_NUM = re.compile(_N)
_HEX12 = re.compile(r"[0-9A-Fa-f]{12}")

_OP_NAMES = {"&&": "and", "||": "or", "!": "not", "==": "="}
_WS = " \t\r\n"


def _is_v6_form(s: str) -> bool:
    """Whether ``s`` has one of the textual forms libpcap's scanner calls IPv6."""
    v4 = False
    if "." in s:
        head, _, tail = s.rpartition(":")
        if not _V4_TAIL.fullmatch(tail):
            return False
        s, v4 = head + ":", True
    if s.count("::") > 1 or ":::" in s:
        return False
    limit = 6 if v4 else 8
    if "::" in s:
        left, right = s.split("::")
        if v4:
            right = right[:-1] if right.endswith(":") else right
            if right == "" and not s.endswith("::"):
                return False
        groups = [g for g in (left.split(":") if left else []) + (right.split(":") if right else [])]
        return len(groups) <= limit - 1 and all(_W.fullmatch(g) for g in groups)
    if v4:
        s = s[:-1]
    groups = s.split(":")
    return len(groups) == limit and all(_W.fullmatch(g) for g in groups)


def _match_v6(text: str, pos: int) -> int:
    """Length of the longest IPv6-looking prefix at ``pos`` (0 if none)."""
    m = _V6_CHARS.match(text, pos)
    if not m or ":" not in m.group():
        return 0
    cand = m.group()
    for end in range(len(cand), 1, -1):
        if _is_v6_form(cand[:end]):
            return end
    return 0


def _number(text: str, span: Span) -> int:
    """libpcap's stoulen: decimal, octal with a leading 0, hex with 0x; 32 bits."""
    if text[:2] in ("0x", "0X"):
        value = int(text[2:], 16)
    elif text.startswith("0") and len(text) > 1:
        if any(c in "89" for c in text):
            raise FilterError(f"number {text} contains non-octal digit", span)
        value = int(text, 8)
    else:
        value = int(text)
    if value > 0xFFFFFFFF:
        raise FilterError(f"number {text} overflows 32 bits", span)
    return value


def _best_match(text: str, pos: int) -> tuple[str, int]:
    best_rule, best_len = "", 0
    for rule, pattern in _rules():
        if rule == "v6":
            length = _match_v6(text, pos)
        else:
            m = pattern.match(text, pos)
            length = m.end() - pos if m else 0
        if length > best_len:
            best_rule, best_len = rule, length
    return best_rule, best_len


def _make_token(rule: str, word: str, span: Span) -> Token:
    if rule == "id":
        if word in KEYWORDS:
            return Token(Kind.KEYWORD, KEYWORDS[word], span, word)
        if word in NAMED_NUMBERS:
            return Token(Kind.NUM, NAMED_NUMBERS[word], span, word)
        return Token(Kind.ID, word, span, word)
    if rule in ("op1", "op2"):
        name = _OP_NAMES.get(word, word)
        if name in ("and", "or", "not"):
            return Token(Kind.KEYWORD, name, span, word)
        return Token(Kind.OP, name, span, word)
    if rule == "num":
        return Token(Kind.NUM, _number(word, span), span, word)
    if rule == "hid":
        return Token(Kind.HID, word, span, word)
    if rule == "v6":
        import ipaddress     # 1 ms at start, and most filters have no IPv6 address
        try:
            ipaddress.IPv6Address(word)
        except ValueError:
            raise FilterError(f"bogus IPv6 address {word}", span) from None
        return Token(Kind.HID6, word, span, word)
    if rule == "mac":
        return Token(Kind.EID, word, span, word)
    if rule == "badmac":
        raise FilterError(f"bogus ethernet address {word}", span)
    if rule == "aid":
        return Token(Kind.AID, word, span, word)
    if rule == "escaped":
        return Token(Kind.ID, word[1:], span, word)
    raise AssertionError(rule)


def tokenize(text: str) -> Iterator[Token]:
    """Yield the tokens of ``text`` one at a time, then a single END token."""
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos] in _WS:
            pos += 1
        if pos >= n:
            yield Token(Kind.END, None, Span(n, n), "")
            return
        plain = _PLAIN.match(text, pos)
        if plain is not None and not _HEX12.fullmatch(plain.group()):
            # the common case, decided without trying every rule: flex would
            # find ``num`` and ``id`` equally long, and ``num`` comes first
            length = plain.end() - pos
            rule = "num" if _NUM.fullmatch(plain.group()) else "id"
        else:
            rule, length = _best_match(text, pos)
        if length == 0:
            raise FilterError("can't parse filter expression: syntax error", Span(pos, pos + 1))
        span = Span(pos, pos + length)
        yield _make_token(rule, text[pos:pos + length], span)
        pos += length
