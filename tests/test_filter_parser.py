"""Lexer and parser: libpcap's tokens, precedence, qualifier inheritance, spans."""

import pytest

from pycap.errors import FilterError
from pycap.filter import ast
from pycap.filter.lexer import tokenize
from pycap.filter.parser import parse
from pycap.filter.tokens import Kind


def kinds(text):
    return [(t.kind, t.value) for t in tokenize(text)][:-1]


@pytest.mark.parametrize("text,expected", [
    ("tcp", [(Kind.KEYWORD, "tcp")]),
    ("tcpdump", [(Kind.ID, "tcpdump")]),                  # longest match wins
    ("tcp-syn", [(Kind.NUM, 2)]),
    ("0x1F", [(Kind.NUM, 31)]),
    ("010", [(Kind.NUM, 8)]),                             # octal
    ("10.0.0.1", [(Kind.HID, "10.0.0.1")]),
    ("fe80::1", [(Kind.HID6, "fe80::1")]),
    ("00:11:22:33:44:55", [(Kind.EID, "00:11:22:33:44:55")]),
    ("001122334455", [(Kind.EID, "001122334455")]),       # MAC rule precedes numbers
    ("1024-65535", [(Kind.ID, "1024-65535")]),            # a port range is a name
    ("&&", [(Kind.KEYWORD, "and")]),
    ("ether", [(Kind.KEYWORD, "link")]),
    ("\\ip", [(Kind.ID, "ip")]),
])
def test_tokens(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize("text,message", [
    ("port 08", "number 08 contains non-octal digit"),
    ("port 4294967296", "number 4294967296 overflows 32 bits"),
    ("host 00:11:22:33:44:55:66", "bogus ethernet address 00:11:22:33:44:55:"),  # flex: longest
])
def test_lexer_errors(text, message):
    with pytest.raises(FilterError) as info:
        parse(text)
    assert info.value.message == message


def test_and_or_equal_precedence_left_associative():
    tree = parse("tcp or udp and icmp")
    assert isinstance(tree, ast.And) and isinstance(tree.left, ast.Or)


def test_not_binds_tighter():
    tree = parse("not tcp and udp")
    assert isinstance(tree, ast.And) and isinstance(tree.left, ast.Not)


def test_qualifiers_are_inherited():
    tree = parse("tcp dst port 22 or 80")
    assert isinstance(tree, ast.Or)
    assert tree.right.qual == ast.Qualifiers("tcp", "dst", "port")
    assert tree.right.operand.value == 80


def test_inheritance_through_parenthesised_ids():
    tree = parse("host (10.0.0.1 or 10.0.0.2)")
    assert isinstance(tree, ast.Or)
    assert tree.right.qual.addr == "host"


def test_modulo_takes_everything_to_its_right():
    rel = parse("1 % 2 + 3 = 1")
    assert rel.left.op == "%" and rel.left.right.op == "+"


def test_binary_precedence():
    rel = parse("1 + 2 * 3 = 7")
    assert rel.left.op == "+" and rel.left.right.op == "*"


def test_paren_relation_and_group():
    assert isinstance(parse("(tcp[0] = 1) or udp"), ast.Or)
    assert isinstance(parse("(1) = 1"), ast.Relation)


def test_syntax_error_points_at_token():
    with pytest.raises(FilterError) as info:
        parse("host 1.2.3.4 and (tcp")
    err = info.value
    assert err.message == "can't parse filter expression: syntax error"
    assert err.caret_lines() == ["host 1.2.3.4 and (tcp", " " * 21 + "^"]


def test_empty_expression():
    assert isinstance(parse(""), ast.Empty)
