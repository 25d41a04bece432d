"""Golden files for ``pycap -d`` and ``--explain``: the IR, the decision graph
and the generated code for a chosen set of filters, so any change to
lowering, optimizer, graph or codegen shows up as a reviewable diff.  Regenerate with PYCAP_UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pycap.compiler import compile_filter
from pycap.ir.pretty import graph, pred

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = {
    "ip": (1, "ip"),
    "tcp_port_443": (1, "tcp port 443"),
    "host": (1, "host 10.0.0.1"),
    "net_not_port": (1, "net 10.0.0.0/8 and not port 22"),
    "syn": (1, "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn"),
    "ip6_net_udp": (1, "ip6 net 2001:db8::/32 and udp"),
    "vlan_savefile": (1, "vlan 100 and tcp port 80"),
    "sll2_inbound": (276, "inbound and icmp6"),
    "raw_tcp": (101, "tcp dst port 22"),
    "protochain": (1, "ip6 protochain 17"),
}


def render(linktype: int, expr: str) -> str:
    offline = linktype != 1 or "vlan" in expr
    compiled = compile_filter(expr, linktype, 65535, offline=offline)
    return (f"# {expr} (linktype {linktype}{', savefile' if offline else ''})\n"
            f"{pred(compiled.predicate)}\n---\n{graph(compiled.graph)}\n---\n"
            f"{compiled.disassemble()}\n")


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name):
    text = render(*CASES[name])
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("PYCAP_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text()
