"""Recursive-descent parser for pcap-filter(7), faithful to libpcap's yacc grammar.

What makes this grammar unusual, and how it is handled here:

* ``and`` and ``or`` have equal precedence and associate to the left; ``not``
  binds tighter.
* After ``and``/``or`` a bare identifier inherits the previous term's
  qualifiers (``host a or b``, ``tcp port 22 or 80``).  libpcap's grammar has
  the rules ``expr and id`` / ``expr or id`` for this; here the parser tries
  an identifier first and falls back to a full term.
* ``(`` can open a boolean group or an arithmetic group; the parser tries a
  relation first and backtracks.
* ``%`` and ``^`` have no declared precedence in libpcap's grammar, so yacc
  always shifts: they bind to the operand on their left and take everything
  to their right (``a % b + c`` is ``a % (b + c)``).

Semantic checks run as each primitive is reduced (through ``on_primitive``),
so errors come out in the order libpcap reports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pycap.errors import FilterError, Span
from pycap.filter import ast
from pycap.filter.lexer import tokenize
from pycap.filter.tokens import Kind, Token

SYNTAX_ERROR = "can't parse filter expression: syntax error"

PROTO_NAMES = frozenset({
    "link", "ip", "arp", "rarp", "sctp", "tcp", "udp", "icmp", "igmp", "igrp",
    "pim", "vrrp", "carp", "atalk", "aarp", "decnet", "lat", "sca", "mopdl",
    "moprc", "ip6", "icmp6", "ah", "esp", "iso", "esis", "isis", "l1", "l2",
    "iih", "lsp", "snp", "psnp", "csnp", "clnp", "stp", "ipx", "netbeui", "radio",
})
DIR_WORDS = frozenset({"src", "dst", "addr1", "addr2", "addr3", "addr4", "ra", "ta"})
ADDR_WORDS = frozenset({"host", "net", "port", "portrange"})
HEAD_ONLY_WORDS = frozenset({"proto", "protochain", "gateway"})
RELOPS = frozenset({">", ">=", "=", "<=", "<", "!="})
BINARY_PRECEDENCE = {"|": 1, "&": 2, "<<": 3, ">>": 3, "+": 4, "-": 4, "*": 5, "/": 5}
UNARY_PRECEDENCE = 6
GREEDY_OPS = frozenset({"%", "^"})   # no precedence in libpcap: take all to the right
BYTEOPS = frozenset({"&", "|", "<", ">", "="})
ATM_WORDS = frozenset({"lane", "metac", "bcc", "oamf4ec", "oamf4sc", "sc", "ilmic",
                       "oam", "oamf4", "connectmsg", "metaconnect"})
MTP2_WORDS = frozenset({"fisu", "lssu", "msu", "hfisu", "hlssu", "hmsu"})
MTP3_WORDS = frozenset({"sio", "opc", "dpc", "sls", "hsio", "hopc", "hdpc", "hsls"})
PF_WORDS = frozenset({"ifname", "rset", "rnr", "srnr", "reason", "action"})
NO_ARG_SPECIALS = frozenset({"inbound", "outbound", "pppoed"})
OPTIONAL_NUM_SPECIALS = frozenset({"vlan", "mpls", "pppoes", "geneve"})


class _Backtrack(Exception):
    """Raised inside a speculative parse to abandon it."""


class Parser:
    def __init__(self, text: str, on_primitive: Callable[[ast.Expr], None] | None = None):
        self.text = text
        self._lexer: Iterator[Token] = tokenize(text)
        self._tokens: list[Token] = []
        self._pos = 0
        self._on_primitive = on_primitive
        self._deferred: list[ast.Expr] | None = None   # primitives seen while speculating
        self._lex_error: FilterError | None = None       # the lexer stops at its first error

    # ---- token access -------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        while len(self._tokens) <= self._pos + k:
            if self._tokens and self._tokens[-1].kind is Kind.END:
                return self._tokens[-1]
            if self._lex_error is not None:
                raise self._lex_error
            try:
                self._tokens.append(next(self._lexer))
            except FilterError as err:
                self._lex_error = err
                raise
        return self._tokens[self._pos + k]

    def advance(self) -> Token:
        tok = self.peek()
        if tok.kind is not Kind.END:
            self._pos += 1
        return tok

    def error(self, tok: Token | None = None) -> FilterError:
        tok = tok or self.peek()
        if self._deferred is not None:
            return _Backtrack()  # type: ignore[return-value]
        return FilterError(SYNTAX_ERROR, tok.span)

    def expect_op(self, op: str) -> Token:
        if not self.peek().is_op(op):
            raise self.error()
        return self.advance()

    def expect_num(self) -> Token:
        if self.peek().kind is not Kind.NUM:
            raise self.error()
        return self.advance()

    def reduced(self, node: ast.Expr) -> ast.Expr:
        """A primitive is complete: run the semantic checks now (or after
        the speculation that produced it is accepted)."""
        if self._deferred is not None:
            self._deferred.append(node)
        elif self._on_primitive is not None:
            self._on_primitive(node)
        return node

    def attempt(self, parse: Callable[[], object], accept: Callable[[], bool]) -> object | None:
        """Run ``parse`` speculatively; keep it if it succeeds and ``accept()``
        holds afterwards, otherwise rewind and return None."""
        saved_pos, saved_deferred = self._pos, self._deferred
        self._deferred = []
        try:
            result = parse()
            ok = accept()
        except (_Backtrack, FilterError):
            ok, result = False, None
        deferred, self._deferred = self._deferred, saved_deferred
        if not ok:
            self._pos = saved_pos
            return None
        for node in deferred:
            self.reduced(node)
        return result

    # ---- boolean level --------------------------------------------------------
    def parse(self) -> ast.Expr:
        if self.peek().kind is Kind.END:
            return ast.Empty(Span(0, 0))
        node, _ = self.parse_expr(ast.ERROR_QUALIFIERS)
        if self.peek().kind is not Kind.END:
            raise self.error()
        return node

    def parse_expr(self, q: ast.Qualifiers) -> tuple[ast.Expr, ast.Qualifiers]:
        node, q = self.parse_term(q)
        while self.peek().is_kw("and", "or"):
            op = self.advance().value
            rhs = None
            if self._may_start_id(self.peek()):
                rhs = self.attempt(lambda: self.parse_id(q), self._at_id_boundary)
            if rhs is None:
                rhs, q = self.parse_term(q)
            span = ast.join(node.span, rhs.span)  # type: ignore[union-attr]
            node = ast.And(node, rhs, span) if op == "and" else ast.Or(node, rhs, span)  # type: ignore[arg-type]
        return node, q

    @staticmethod
    def _may_start_id(tok: Token) -> bool:
        """Whether ``parse_id`` could get past ``tok`` (``port 1 or 2``); most
        often the next word is a keyword, and the speculation is not tried."""
        if tok.kind is Kind.KEYWORD:
            return tok.value == "not"
        if tok.kind is Kind.OP:
            return tok.value == "("
        return tok.kind is not Kind.END

    def _at_id_boundary(self) -> bool:
        tok = self.peek()
        return tok.kind is Kind.END or tok.is_kw("and", "or") or tok.is_op(")")

    def parse_term(self, q: ast.Qualifiers) -> tuple[ast.Expr, ast.Qualifiers]:
        tok = self.peek()
        if tok.is_kw("not"):
            self.advance()
            inner, q = self.parse_term(q)
            return ast.Not(inner, ast.join(tok.span, inner.span)), q  # type: ignore[union-attr]
        return self.parse_rterm(q)

    def parse_rterm(self, q: ast.Qualifiers) -> tuple[ast.Expr, ast.Qualifiers]:
        tok = self.peek()
        if tok.is_op("("):
            rel = self.attempt(self.parse_relation, lambda: True)
            if rel is not None:
                return rel, ast.ERROR_QUALIFIERS  # type: ignore[return-value]
            self.advance()
            inner, _ = self.parse_expr(q)
            close = self.expect_op(")")
            return self._regroup(inner, tok, close), q
        if tok.kind is Kind.KEYWORD:
            word = tok.value
            if word in PROTO_NAMES:
                return self.parse_after_pname(tok)
            if word in DIR_WORDS or word in ADDR_WORDS or word in HEAD_ONLY_WORDS:
                return self.parse_head_and_id(None, tok.span)
            if word in ("broadcast", "multicast"):
                self.advance()
                return self.reduced(ast.Special(word, None, (), tok.span)), ast.ERROR_QUALIFIERS
            if word == "len":
                return self.parse_relation(), ast.ERROR_QUALIFIERS
            return self.parse_other(tok), ast.ERROR_QUALIFIERS
        if tok.kind is Kind.NUM or tok.is_op("-"):
            return self.parse_relation(), ast.ERROR_QUALIFIERS
        raise self.error()

    @staticmethod
    def _regroup(inner: ast.Expr, open_tok: Token, close: Token) -> ast.Expr:
        return inner

    def parse_after_pname(self, tok: Token) -> tuple[ast.Expr, ast.Qualifiers]:
        nxt = self.peek(1)
        if nxt.is_op("["):
            return self.parse_relation(), ast.ERROR_QUALIFIERS
        if nxt.kind is Kind.KEYWORD:
            word = nxt.value
            if word in DIR_WORDS or word in ADDR_WORDS or word in HEAD_ONLY_WORDS:
                self.advance()
                return self.parse_head_and_id(tok.value, tok.span)
            if word in ("broadcast", "multicast"):
                self.advance()
                self.advance()
                node = ast.Special(word, tok.value, (), ast.join(tok.span, nxt.span))
                return self.reduced(node), ast.ERROR_QUALIFIERS
            if word in ("type", "subtype", "dir"):
                self.advance()
                return self.parse_other(self.peek()), ast.ERROR_QUALIFIERS
        self.advance()
        return self.reduced(ast.ProtoAbbrev(tok.value, tok.span)), ast.ERROR_QUALIFIERS

    def parse_head_and_id(self, proto: str | None, start: Span) -> tuple[ast.Expr, ast.Qualifiers]:
        direction = addr = None
        tok = self.peek()
        if tok.is_kw(*DIR_WORDS):
            self.advance()
            direction = tok.value
            conj, other = self.peek(), self.peek(1)
            if direction in ("src", "dst") and conj.is_kw("and", "or") and \
                    other.is_kw("dst" if direction == "src" else "src"):
                self.advance()
                self.advance()
                direction = f"src {conj.value} dst"
            if self.peek().is_kw(*ADDR_WORDS):
                addr = self.advance().value
        elif tok.is_kw(*ADDR_WORDS) or tok.is_kw(*HEAD_ONLY_WORDS):
            addr = self.advance().value
        else:
            raise self.error()
        q = ast.Qualifiers(proto, direction, addr)
        return self.parse_id(q), q

    # ---- identifiers ------------------------------------------------------------
    def parse_id(self, q: ast.Qualifiers) -> ast.Expr:
        tok = self.peek()
        if tok.is_op("("):
            self.advance()
            node = self.parse_pid(q)
            self.expect_op(")")
            return node
        if tok.is_kw("not"):
            self.advance()
            inner = self.parse_id(q)
            return ast.Not(inner, ast.join(tok.span, inner.span))  # type: ignore[union-attr]
        return self.reduced(ast.Primitive(q, self.parse_operand(), tok.span))

    def parse_pid(self, q: ast.Qualifiers) -> ast.Expr:
        first = self.peek()
        if first.is_op("("):
            # ( pnum ) is allowed here, ( pid ) is not
            value, span = self.parse_pnum()
            node: ast.Expr = self.reduced(ast.Primitive(q, ast.Number(value, span), span))
        else:
            if first.is_kw("not"):
                node = self.parse_id(q)
            else:
                node = self.reduced(ast.Primitive(q, self.parse_operand(), first.span))
        while self.peek().is_kw("and", "or"):
            op = self.advance().value
            rhs = self.parse_id(q)
            span = ast.join(node.span, rhs.span)  # type: ignore[union-attr]
            node = ast.And(node, rhs, span) if op == "and" else ast.Or(node, rhs, span)
        return node

    def parse_operand(self) -> ast.Operand:
        tok = self.peek()
        kind = tok.kind
        if kind is Kind.ID:
            self.advance()
            return ast.Name(tok.value, tok.span)  # type: ignore[arg-type]
        if kind is Kind.NUM:
            self.advance()
            return ast.Number(tok.value, tok.span)  # type: ignore[arg-type]
        if kind is Kind.HID:
            self.advance()
            if self.peek().is_op("/"):
                self.advance()
                n = self.expect_num()
                return ast.IPv4Prefix(tok.text, n.value, ast.join(tok.span, n.span))  # type: ignore[arg-type]
            if self.peek().is_kw("mask"):
                self.advance()
                m = self.peek()
                if m.kind is not Kind.HID:
                    raise self.error()
                self.advance()
                return ast.IPv4Mask(tok.text, m.text, ast.join(tok.span, m.span))
            return ast.IPv4(tok.text, tok.span)
        if kind is Kind.HID6:
            self.advance()
            if self.peek().is_op("/"):
                self.advance()
                n = self.expect_num()
                return ast.IPv6(tok.text, n.value, ast.join(tok.span, n.span))  # type: ignore[arg-type]
            return ast.IPv6(tok.text, 128, tok.span)
        if kind is Kind.EID:
            self.advance()
            return ast.MAC(tok.text, tok.span)
        if kind is Kind.AID:
            self.advance()
            return ast.ARCnet(tok.text, tok.span)
        raise self.error()

    def parse_pnum(self) -> tuple[int, Span]:
        tok = self.peek()
        if tok.kind is Kind.NUM:
            self.advance()
            return tok.value, tok.span  # type: ignore[return-value]
        if tok.is_op("("):
            self.advance()
            value, span = self.parse_pnum()
            self.expect_op(")")
            return value, span
        raise self.error()

    # ---- keyword primitives ------------------------------------------------------
    def parse_other(self, tok: Token) -> ast.Expr:
        word = tok.value
        self.advance()
        args: tuple = ()
        end = tok.span
        if word in ("less", "greater", "ifindex"):
            n = self.expect_num()
            args, end = (n.value,), n.span
        elif word == "byte":
            a = self.expect_num()
            op = self.peek()
            if not (op.kind is Kind.OP and op.value in BYTEOPS):
                raise self.error()
            self.advance()
            b = self.expect_num()
            args, end = (a.value, op.value, b.value), b.span
        elif word in OPTIONAL_NUM_SPECIALS:
            if self.peek().kind is Kind.NUM or self.peek().is_op("("):
                value, end = self.parse_pnum()
                args = (value,)
        elif word == "llc":
            nxt = self.peek()
            if nxt.kind is Kind.ID or nxt.is_kw("rnr"):
                self.advance()
                args, end = ((nxt.text,), nxt.span)
        elif word in NO_ARG_SPECIALS or word in ATM_WORDS or word in MTP2_WORDS:
            pass
        elif word in PF_WORDS or word in ("type", "subtype", "dir") or word in MTP3_WORDS \
                or word in ("vpi", "vci"):
            args, end = self.parse_unsupported_tail(word)
        else:
            raise self.error(tok)
        return self.reduced(ast.Special(word, None, args, ast.join(tok.span, end)))

    def parse_unsupported_tail(self, word: str) -> tuple[tuple, Span]:
        """Arguments of primitives for link types pycap never compiles for
        (PF, 802.11, ATM, SS7): parse them so the error names the primitive."""
        tok = self.peek()
        if tok.kind in (Kind.NUM, Kind.ID):
            self.advance()
            if word == "type" and self.peek().is_kw("subtype"):
                self.advance()
                sub = self.peek()
                if sub.kind not in (Kind.NUM, Kind.ID):
                    raise self.error()
                self.advance()
                return (tok.value, sub.value), sub.span
            return (tok.value,), tok.span
        if tok.kind is Kind.OP and tok.value in RELOPS:
            self.advance()
            n = self.expect_num()
            return (tok.value, n.value), n.span
        if tok.is_op("("):
            self.advance()
            values = [self.expect_num().value]
            while self.peek().is_kw("or"):
                self.advance()
                values.append(self.expect_num().value)
            close = self.expect_op(")")
            return tuple(values), close.span
        raise self.error()

    # ---- arithmetic ---------------------------------------------------------------
    def parse_relation(self) -> ast.Expr:
        left = self.parse_arith(0)
        tok = self.peek()
        if not (tok.kind is Kind.OP and tok.value in RELOPS):
            raise self.error()
        self.advance()
        right = self.parse_arith(0)
        node = ast.Relation(tok.value, left, right, ast.join(left.span, right.span))  # type: ignore[arg-type]
        return self.reduced(node)

    def parse_arith(self, min_prec: int) -> ast.Arith:
        left = self.parse_unary()
        while True:
            tok = self.peek()
            if tok.kind is not Kind.OP:
                return left
            op = tok.value
            if op in GREEDY_OPS:
                self.advance()
                right = self.parse_arith(0)
            elif op in BINARY_PRECEDENCE and BINARY_PRECEDENCE[op] >= min_prec:
                self.advance()
                right = self.parse_arith(BINARY_PRECEDENCE[op] + 1)
            else:
                return left
            left = ast.BinOp(op, left, right, ast.join(left.span, right.span))  # type: ignore[arg-type]

    def parse_unary(self) -> ast.Arith:
        tok = self.peek()
        if tok.is_op("-"):
            self.advance()
            operand = self.parse_arith(UNARY_PRECEDENCE)
            return ast.Negate(operand, ast.join(tok.span, operand.span))  # type: ignore[union-attr]
        if tok.kind is Kind.NUM:
            self.advance()
            return ast.Const(tok.value, tok.span)  # type: ignore[arg-type]
        if tok.is_kw("len"):
            self.advance()
            return ast.Length(tok.span)
        if tok.kind is Kind.KEYWORD and tok.value in PROTO_NAMES and self.peek(1).is_op("["):
            self.advance()
            self.advance()
            offset = self.parse_arith(0)
            size = 1
            if self.peek().is_op(":"):
                self.advance()
                size = self.expect_num().value  # type: ignore[assignment]
            close = self.expect_op("]")
            return ast.Index(tok.value, offset, size, ast.join(tok.span, close.span))  # type: ignore[arg-type]
        if tok.is_op("("):
            self.advance()
            inner = self.parse_arith(0)
            self.expect_op(")")
            return inner
        raise self.error()


def parse(text: str, on_primitive: Callable[[ast.Expr], None] | None = None) -> ast.Expr:
    """Parse a filter expression into an AST; FilterError (with span) on bad input."""
    try:
        return Parser(text, on_primitive).parse()
    except FilterError as err:
        raise err.with_source(text) from None
