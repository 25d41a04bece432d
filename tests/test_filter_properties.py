"""Property tests: whatever the input, the compiler returns a verified program
or one clean FilterError, never anything else."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycap.compiler import compile_filter
from pycap.errors import FilterError
from tests import corpus

WORDS = ["tcp", "udp", "ip", "ip6", "arp", "icmp", "host", "net", "port", "portrange", "src",
         "dst", "and", "or", "not", "!", "&&", "||", "(", ")", "[", "]", ":", "=", "!=", "<",
         ">", "<=", ">=", "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "len", "ether",
         "proto", "protochain", "vlan", "mpls", "pppoes", "llc", "broadcast", "multicast",
         "less", "greater", "byte", "mask", "gateway", "inbound", "ifindex", "tcpflags",
         "tcp-syn", "icmptype", "10.0.0.1", "10.0/16", "fe80::1", "::", "00:11:22:33:44:55",
         "0", "1", "80", "443", "65536", "0x1f", "017", "08", "4294967296", "localhost",
         "http", "domain", "\\tcp", "$1", "2001:db8::/32", "1-1024", "-", ".", "@", "#"]

settings.register_profile("pycap", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("pycap")


def compile_or_clean_error(text: str, **kw):
    try:
        return compile_filter(text, **kw)
    except FilterError as err:
        assert err.message and "\n" not in err.message
        assert err.source == text
        return None


@given(st.lists(st.sampled_from(WORDS), max_size=12))
@settings(max_examples=400)
def test_token_soup_never_crashes(words):
    compile_or_clean_error(" ".join(words))


@given(st.text(max_size=40))
@settings(max_examples=300)
def test_arbitrary_text_never_crashes(text):
    compile_or_clean_error(text)


VALID = [e for e in corpus.expressions()
         if len(e) < 60 and "vlan" not in e and "mpls" not in e and "pppoe" not in e]


def expressions():
    leaf = st.sampled_from(VALID)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or", "&&", "||"]), inner).map(" ".join),
            inner.map(lambda e: f"not ({e})"),
            inner.map(lambda e: f"({e})")),
        max_leaves=4)


@given(expressions(), st.sampled_from([1, 113, 276, 101]))
@settings(max_examples=250)
def test_valid_combinations_compile_or_fail_cleanly(expr, linktype):
    compile_or_clean_error(expr, linktype=linktype, offline=True)


@pytest.mark.kernel
@given(expressions())
@settings(max_examples=60)
def test_what_compiles_passes_the_verifier(expr):
    from tests.kernelsupport import require_kernel
    from pycap.kernel.bpf import load_program
    require_kernel()
    compiled = compile_or_clean_error(expr)
    if compiled is not None:
        with load_program(compiled.bytecode):
            pass
