"""pycap steer: the filter language on BPF_PROG_TYPE_SK_LOOKUP.

Pure parts first (lowering, lookups, /proc tables, argument parsing, code
shape), then dry runs through BPF_PROG_TEST_RUN, then live steering inside a
private network namespace with loopback only (plus fd00:7::1 on its lo):
TCP over IPv4 and IPv6 and UDP, fall-through, labels and first-match order,
detach on exit, pins, dry-run/live agreement, and the one-line errors.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager

import pytest

from pycap.bpf import sklookup
from pycap.bpf.isa import Class, Mode
from pycap.errors import (AlreadyLinkedError, FilterError, NoListenerError, UsageError,
                          WrongProtocolError)
from pycap.ir import nodes as ir
from pycap.steer.command import parse_args, rule_specs
from pycap.steer.lookup import Lookup, parse_endpoint, parse_lookup
from pycap.steer.lower import lower_expression
from pycap.steer.sockets import Netns, TableEntry, candidates, parse_table
from pycap.steer.steering import (RuleSpec, Steering, compile_rule, interpret, mount_fstype,
                                  protocols_of)

try:
    from kernelsupport import kernel  # noqa: F401
except ImportError:  # tests/ imported as a package
    from tests.kernelsupport import kernel  # noqa: F401

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
V6 = "fd00:7::1"            # on the private namespace's lo; nothing is bound to it
TIMEOUT = 10


def L(text: str) -> Lookup:
    return parse_lookup(text)


def holds(expression: str, lookup: str) -> bool:
    """The verdict of pycap's IR interpreter on one lookup."""
    return interpret([compile_rule(0, RuleSpec(expression))], L(lookup)).rule == 0


# ============================================================== lowering (pure)

LOWERING = [
    # expression, lookup, verdict
    ("tcp", "tcp 10.0.0.1:5555 -> 127.0.0.7:8443", True),
    ("tcp", "udp 10.0.0.1:5555 -> 127.0.0.7:8443", False),
    ("udp", "udp 10.0.0.1:5555 -> 127.0.0.7:53", True),
    ("ip", "tcp 10.0.0.1:1 -> 10.0.0.2:2", True),
    ("ip", "tcp [::1]:1 -> [::2]:2", False),
    ("ip6", "tcp [::1]:1 -> [::2]:2", True),
    ("src host 10.0.0.1", "tcp 10.0.0.1:5555 -> 127.0.0.7:8443", True),
    ("dst host 10.0.0.1", "tcp 10.0.0.1:5555 -> 127.0.0.7:8443", False),
    ("host 127.0.0.7", "tcp 10.0.0.1:5555 -> 127.0.0.7:8443", True),
    ("src and dst host 127.0.0.7", "tcp 10.0.0.1:5555 -> 127.0.0.7:8443", False),
    ("src and dst host 127.0.0.7", "tcp 127.0.0.7:5555 -> 127.0.0.7:8443", True),
    ("dst net 127.0.0.0/8", "tcp 10.0.0.1:5555 -> 127.0.0.7:8443", True),
    ("dst net 127.0.0.0/8", "tcp 10.0.0.1:5555 -> 128.0.0.7:8443", False),
    ("dst net 192.168.0.0 mask 255.255.0.0", "tcp 1.1.1.1:1 -> 192.168.44.1:2", True),
    ("net 10", "tcp 10.9.8.7:1 -> 1.1.1.1:2", True),
    ("dst net 0.0.0.0/0", "tcp [::1]:1 -> [::2]:2", False),
    ("dst net 0.0.0.0/0", "tcp 1.1.1.1:1 -> 2.2.2.2:2", True),
    ("dst port 8443", "tcp 10.0.0.1:5555 -> 127.0.0.7:8443", True),
    ("src port 8443", "tcp 10.0.0.1:5555 -> 127.0.0.7:8443", False),
    ("src port 5555", "tcp 10.0.0.1:5555 -> 127.0.0.7:8443", True),
    ("port 5555", "udp 10.0.0.1:5555 -> 127.0.0.7:8443", True),
    ("udp port 5555", "tcp 10.0.0.1:5555 -> 127.0.0.7:8443", False),
    ("dst portrange 8000-8999", "tcp 10.0.0.1:5555 -> 127.0.0.7:8000", True),
    ("dst portrange 8000-8999", "tcp 10.0.0.1:5555 -> 127.0.0.7:8999", True),
    ("dst portrange 8000-8999", "tcp 10.0.0.1:5555 -> 127.0.0.7:9000", False),
    ("dst portrange 8999-8000", "tcp 10.0.0.1:5555 -> 127.0.0.7:8500", True),
    ("src portrange 1-1024", "tcp 10.0.0.1:1023 -> 127.0.0.7:80", True),
    ("tcp port 80 or 443", "tcp 10.0.0.1:5555 -> 127.0.0.7:443", True),
    ("dst host fd00::7", "tcp [fd00::1]:5 -> [fd00::7]:443", True),
    ("dst net fd00::/16", "tcp [fd00::1]:5 -> [fd00:1:2::7]:443", True),
    ("dst net fd00:1:2:3:4::/80", "tcp [::1]:5 -> [fd00:1:2:3:4:5:6:7]:443", True),
    ("dst net fd00:1:2:3:4::/80", "tcp [::1]:5 -> [fd00:1:2:3:5:5:6:7]:443", False),
    ("src net fd00::/8", "tcp 10.0.0.1:5 -> 10.0.0.2:443", False),
    ("ifindex 3", "tcp 10.0.0.1:5555 -> 127.0.0.7:8443 if 3", True),
    ("ifindex 3", "tcp 10.0.0.1:5555 -> 127.0.0.7:8443 if 1", False),
    ("ip proto 6", "tcp 10.0.0.1:1 -> 10.0.0.2:2", True),
    ("ip6 proto 17", "udp 10.0.0.1:1 -> 10.0.0.2:2", False),
    ("not tcp", "udp 10.0.0.1:1 -> 10.0.0.2:2", True),
    ("", "udp 10.0.0.1:1 -> 10.0.0.2:2", True),
    ("tcp and dst net 127.0.0.0/8 and dst portrange 8000-8999",
     "tcp 10.0.0.1:5555 -> 127.0.0.7:8443 if 1", True),
]


@pytest.mark.parametrize("expression,lookup,verdict", LOWERING)
def test_lowering_verdicts(expression, lookup, verdict):
    assert holds(expression, lookup) is verdict


def test_direction_maps_src_to_remote_and_dst_to_local():
    pred = lower_expression("src port 1 and dst port 2")
    fields = {c.left.field for c in pred.items}  # type: ignore[union-attr]
    assert fields == {"remote_port", "local_port"}
    assert lower_expression("tcp") == ir.Cmp("eq", ir.Ctx("protocol"), ir.Imm(6))


INVISIBLE = [
    ("tcp[13] = 2", "sk_lookup cannot see packet contents ('tcp[...]')", "^^^^^^^"),
    ("tcp and len > 100", "sk_lookup cannot see the packet length ('len')", "        ^^^"),
    ("greater 100", "sk_lookup cannot see the packet length ('greater')", "^^^^^^^^^^^"),
    ("ether host 02:00:00:00:00:01",
     "sk_lookup cannot see link-layer addresses", "           ^^^^^^^^^^^^^^^^^"),
    ("icmp", "sk_lookup cannot see 'icmp': it sees only TCP and UDP over IPv4 and IPv6", "^^^^"),
    ("tcp or arp", "sk_lookup cannot see 'arp': it sees only TCP and UDP over IPv4 and IPv6",
     "       ^^^"),
    ("sctp port 9", "sk_lookup cannot see 'sctp': it sees only TCP and UDP over IPv4 and IPv6",
     "          ^"),
    ("vlan 10", "sk_lookup cannot see encapsulations ('vlan')", "^^^^^^^"),
    ("inbound", "sk_lookup cannot see a direction ('inbound'): every lookup is for an incoming "
     "packet", "^^^^^^^"),
    ("ip multicast", "sk_lookup cannot see 'multicast': it runs for unicast TCP and UDP lookups "
     "only", "^^^^^^^^^^^^"),
    ("byte 3 = 1", "sk_lookup cannot see packet contents ('byte')", "^^^^^^^^^^"),
    ("ip proto 1", "sk_lookup cannot see IP protocol 1: it sees only TCP and UDP over IPv4 and "
     "IPv6", "         ^"),
]


@pytest.mark.parametrize("expression,message,caret", INVISIBLE)
def test_what_sk_lookup_cannot_see_is_an_error_with_a_caret(expression, message, caret):
    with pytest.raises(FilterError) as info:
        lower_expression(expression)
    assert str(info.value) == message
    assert info.value.caret_lines() == [expression, caret]


@pytest.mark.parametrize("expression,message", [
    ("tcp and udp", "expression rejects all lookups"),
    ("ip6 host 10.0.0.1", "'ip6' modifier applied to ip host"),
    ("tcp host 10.0.0.1", "'tcp' modifier applied to host"),
    ("port 70000", "illegal port number 70000 > 65535"),
    ("host fd00::/8", "Mask syntax for networks only"),
    ("port 10.0.0.1", "'port' modifier applied to ip host"),
    ("tcp port", "can't parse filter expression: syntax error"),
])
def test_libpcap_errors_keep_their_wording(expression, message):
    with pytest.raises(FilterError, match=f"^{message.replace('(', '.').replace(')', '.')}$"):
        lower_expression(expression)


def test_protocols_an_expression_can_match():
    assert protocols_of(lower_expression("tcp and port 80")) == {"tcp"}
    assert protocols_of(lower_expression("udp or ip6 proto 17")) == {"udp"}
    assert protocols_of(lower_expression("dst port 53")) == {"tcp", "udp"}
    assert protocols_of(lower_expression("not tcp and not udp")) == set()


# ============================================================== lookups and /proc (pure)


def test_lookup_parsing_and_context_layout():
    lookup = L("tcp 10.0.0.1:5555 -> 127.0.0.7:8443 if 1")
    assert (lookup.protocol, lookup.family, lookup.ifindex) == (6, 2, 1)
    assert str(lookup) == "tcp 10.0.0.1:5555 -> 127.0.0.7:8443 if 1"
    ctx = lookup.ctx()
    assert len(ctx) == sklookup.CTX_SIZE == 72
    assert struct.unpack_from("<II", ctx, 8) == (2, 6)
    assert ctx[16:20] == bytes([10, 0, 0, 1]) and ctx[40:44] == bytes([127, 0, 0, 7])
    assert ctx[36:38] == struct.pack("!H", 5555)          # remote_port: network order
    assert struct.unpack_from("<I", ctx, 60)[0] == 8443   # local_port: host order
    assert ctx[64:] == bytes(8)                           # ifindex is never put in the ctx
    v6 = L("udp [fd00::1]:53 -> [fd00::7]:5353")
    assert v6.ctx()[20:36] == ipaddress.IPv6Address("fd00::1").packed
    assert v6.fields()["local_ip6[3]"] == 7


@pytest.mark.parametrize("text,message", [
    ("tcp 10.0.0.1:5555 127.0.0.7:8443", "bad lookup"),
    ("icmp 10.0.0.1:1 -> 10.0.0.2:2", "protocol must be tcp or udp"),
    ("tcp 10.0.0.1:1 -> [::1]:2", "different address families"),
    ("tcp 10.0.0.1:99999 -> 10.0.0.2:2", "port 99999 > 65535"),
    ("tcp 10.0.0.1:1 -> 10.0.0.2:2 if nosuch0", "no interface 'nosuch0'"),
])
def test_bad_lookups(text, message):
    with pytest.raises(UsageError, match=message):
        parse_lookup(text)


PROC_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0
   1: 0700007F:20FB 0100007F:9A3C 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0
   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0
"""
PROC_TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5151 1 0
"""


def test_proc_net_tables_and_candidate_ranking():
    tcp = parse_table(PROC_TCP, "tcp")
    assert tcp[0] == TableEntry("tcp", socket.AF_INET, ipaddress.ip_address("127.0.0.1"), 8080,
                                0x0A, 4242)
    assert not tcp[1].usable                       # established, not a listener
    tcp6 = parse_table(PROC_TCP6, "tcp6")
    assert tcp6[0].local == ipaddress.ip_address("::1")
    both = tcp + tcp6
    loop = ipaddress.ip_address("127.0.0.1")
    assert [e.inode for e in candidates(both, loop, 8080, {"tcp"})] == [4242]
    assert candidates(both, loop, 8080, {"udp"}) == []
    assert [e.inode for e in candidates(both, loop, 8081, {"tcp"})] == [4444]   # 0.0.0.0
    assert [e.inode for e in candidates(both, ipaddress.ip_address("::1"), 8080, {"tcp"})] \
        == [5151]


# ============================================================== command line (pure)


def test_rules_are_groups_in_order_with_labels():
    args = parse_args(["--netns", "ns1", "--to", "127.0.0.1:8080", "--label", "web",
                       "tcp and dst port 8443", "--to", "[::1]:53", "udp", "port", "53",
                       "--to-pid", "42", "--to-fd", "3", "--interval", "0.5"])
    specs = rule_specs(args)
    assert [(s.label, s.expression) for s in specs] == [
        ("web", "tcp and dst port 8443"), (None, "udp port 53"), (None, "")]
    assert specs[0].to == parse_endpoint("127.0.0.1:8080")
    assert specs[1].to == (ipaddress.ip_address("::1"), 53)
    assert specs[2].pid_fd == (42, 3)
    assert (args.netns, args.interval) == ("ns1", 0.5)


@pytest.mark.parametrize("argv,message", [
    (["tcp"], "before any --to"),
    (["--to", "127.0.0.1"], "expected ADDR:PORT"),
    (["--to-pid", "1", "tcp"], "--to-pid needs --to-fd"),
    (["--to", "127.0.0.1:1", "--to-fd", "3"], "--to-fd must follow --to-pid"),
    (["--test", "tcp", "--to", "127.0.0.1:1", "tcp"], "cannot be mixed"),
    (["--to", "127.0.0.1:1", "tcp", "--bogus"], "unknown option '--bogus'"),
    (["--interval", "x", "--to", "127.0.0.1:1"], "needs a number of seconds"),
])
def test_command_line_errors(argv, message):
    with pytest.raises(UsageError, match=message):
        rule_specs(parse_args(argv))


def test_cli_prints_one_line_errors_with_caret(capsys):
    from pycap.cli import main
    assert main(["steer", "--test", "tcp and ether src 02:00:00:00:00:01",
                 "--lookup", "tcp 1.1.1.1:1 -> 2.2.2.2:2"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["pycap: sk_lookup cannot see link-layer addresses",
                   "    tcp and ether src 02:00:00:00:00:01",
                   "                      ^^^^^^^^^^^^^^^^^"]
    assert main(["steer", "--test", "tcp"]) == 1
    assert capsys.readouterr().err == "pycap: steer: --test needs at least one --lookup\n"


# ============================================================== code shape (pure)


def test_network_order_fields_compare_swapped_constants():
    pred = lower_expression("src port 5555 and dst port 8443 and dst host 127.0.0.7")
    insns = sklookup.generate([pred], 100, 101)
    loads = [(i.off, i.code & 0x18) for i in insns if i.cls == Class.LDX and i.src == 6]
    assert (36, 0x08) in loads      # remote_port: a 16-bit load
    imms = {i.imm for i in insns if i.cls == Class.JMP32}
    assert struct.unpack("<H", struct.pack("!H", 5555))[0] in imms    # swapped
    assert 8443 in imms                                                # local_port as is
    assert struct.unpack("<I", bytes([127, 0, 0, 7]))[0] in imms
    maps = [i.imm for i in insns if i.code == Class.LD | 0x18 | Mode.IMM]
    assert sorted(set(maps)) == [100, 101]


def test_range_on_remote_port_byte_swaps_the_field():
    insns = sklookup.generate([lower_expression("src portrange 1000-2000")], 1, 2)
    swaps = [i for i in insns if i.cls == Class.ALU and i.op == sklookup.END]
    assert len(swaps) == 2 and all(i.imm == 16 for i in swaps)
    text = sklookup.disassemble(insns, {1: "sockmap", 2: "counters"})
    assert "w8 = be16(w8)" in text and "call bpf_sk_assign" in text
    assert "r1 = map[sockmap]" in text


def test_ifindex_can_be_a_constant_for_dry_runs():
    pred = lower_expression("ifindex 7")
    live = sklookup.generate([pred], 1, 2)
    dry = sklookup.generate([pred], 1, 2, ifindex=7)
    assert any(i.off == 64 and i.cls == Class.LDX for i in live)
    assert not any(i.off == 64 and i.cls == Class.LDX for i in dry)


# ============================================================== dry runs (kernel)

DRY_RULES = ["tcp and dst net 127.0.0.0/8 and dst portrange 8000-8999",
             "udp and src portrange 5000-5999 and not src host 10.0.0.66",
             "ip6 and dst net fd00:1:2::/48",
             "ifindex 4 and dst port 22"]
DRY_TABLE = [
    ("tcp 10.0.0.1:5555 -> 127.0.0.7:8443 if 1", 0),
    ("tcp 10.0.0.1:5555 -> 127.0.0.7:9443 if 1", None),
    ("udp 10.0.0.1:5555 -> 127.0.0.7:8443", 1),
    ("udp 10.0.0.66:5555 -> 127.0.0.7:8443", None),
    ("udp 10.0.0.1:6000 -> 127.0.0.7:8443", None),
    ("tcp [fd00::1]:1 -> [fd00:1:2:ffff::1]:8443", 2),
    ("tcp [fd00::1]:1 -> [fd00:1:3::1]:8443", None),
    ("udp [fd00::1]:5001 -> [fd00:1:2::1]:53", 1),     # first match wins over rule 2
    ("tcp 10.0.0.1:5555 -> 10.0.0.2:22 if 4", 3),
    ("tcp 10.0.0.1:5555 -> 10.0.0.2:22 if 5", None),
    ("tcp 10.0.0.1:5555 -> 10.0.0.2:22", None),
]


@pytest.mark.kernel
def test_dry_run_verdict_table(kernel):
    specs = [RuleSpec(e, f"r{i}") for i, e in enumerate(DRY_RULES)]
    with Steering.build(specs) as steering:
        for text, expected in DRY_TABLE:
            verdict = steering.dry_run(L(text))
            assert (verdict.rule, verdict.retval, verdict.steered) == \
                (expected, sklookup.SK_PASS, False), text
            assert interpret(steering.rules, L(text)).rule == expected, text
        counters = steering.read_counters()
    assert counters.lookups == len(DRY_TABLE)
    assert counters.matched == (1, 2, 1, 1) and counters.steered == (0, 0, 0, 0)


@pytest.mark.kernel
def test_cli_dry_run(kernel, capsys):
    from pycap.cli import main
    argv = ["steer", "--test", DRY_RULES[0], "--label", "web", "--test", DRY_RULES[3]]
    for text, _ in DRY_TABLE[:2] + DRY_TABLE[8:9]:
        argv += ["--lookup", text]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        "tcp 10.0.0.1:5555 -> 127.0.0.7:8443 if 1: web (rule 0) matches",
        "tcp 10.0.0.1:5555 -> 127.0.0.7:9443 if 1: no rule matches, normal lookup",
        "tcp 10.0.0.1:5555 -> 10.0.0.2:22 if 4: rule1 (rule 1) matches",
    ]


# ============================================================== live (kernel, private netns)


@pytest.fixture
def netns(kernel):
    name = f"pycap-steer-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=TIMEOUT)
    try:
        for cmd in (["link", "set", "lo", "up"],
                    ["-6", "addr", "add", f"{V6}/128", "dev", "lo", "nodad"]):
            subprocess.run(["ip", "-n", name, *cmd], check=True, timeout=TIMEOUT)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], timeout=TIMEOUT)


@pytest.fixture
def bpffs(kernel):
    path = tempfile.mkdtemp(prefix="pycap-steer-bpffs-")
    subprocess.run(["mount", "-t", "bpf", "bpf", path], check=True, timeout=TIMEOUT)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], timeout=TIMEOUT)
        os.rmdir(path)


@contextmanager
def inside(ns: str):
    from pycap.kernel.netns import enter_netns
    with enter_netns(ns):
        yield


def listener(ns: str, addr: str, port: int, kind: int = socket.SOCK_STREAM,
             v6only: bool = True) -> socket.socket:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with inside(ns):
        s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
    s.bind((addr, port))
    if kind == socket.SOCK_STREAM:
        s.listen(16)
    return s


def connect(ns: str, addr: str, port: int, src: tuple[str, int] | None = None) -> int:
    """0 when the connection is established, else its errno."""
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with inside(ns):
        c = socket.socket(family, socket.SOCK_STREAM)
    with c:
        c.settimeout(2)
        if src is not None:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            c.bind(src)
        return c.connect_ex((addr, port))


def who_accepts(listeners: dict[str, socket.socket], timeout: float = 1.0) -> tuple[str, tuple]:
    """The name of the listener with a pending connection, and its local address."""
    ready, _, _ = select.select(list(listeners.values()), [], [], timeout)
    assert len(ready) == 1, f"{len(ready)} listeners ready"
    name = next(n for n, s in listeners.items() if s is ready[0])
    conn, _ = ready[0].accept()
    with conn:
        return name, conn.getsockname()[:2]


def send_udp(ns: str, addr: str, port: int, payload: bytes) -> None:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with inside(ns):
        c = socket.socket(family, socket.SOCK_DGRAM)
    with c:
        c.sendto(payload, (addr, port))


def linked(ns: str) -> list[int]:
    from pycap.kernel.bpf import BPF_SK_LOOKUP, prog_query
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        return prog_query(fd, BPF_SK_LOOKUP)
    finally:
        os.close(fd)


@pytest.mark.kernel
def test_tcp4_tcp6_and_udp_are_steered_and_the_rest_falls_through(netns):
    with ExitStack() as stack:
        tcp4 = stack.enter_context(listener(netns, "127.0.0.1", 8080))
        tcp6 = stack.enter_context(listener(netns, "::1", 8080))
        udp = stack.enter_context(listener(netns, "127.0.0.1", 5300, socket.SOCK_DGRAM))
        plain = stack.enter_context(listener(netns, "127.0.0.1", 9000))   # no rule for it
        specs = [RuleSpec("tcp and dst net 127.0.0.0/8 and dst portrange 8000-8999", "web4",
                          to=parse_endpoint("127.0.0.1:8080")),
                 RuleSpec(f"tcp and dst host {V6}", "web6", to=parse_endpoint("[::1]:8080")),
                 RuleSpec("udp and dst port 53", "dns", to=parse_endpoint("127.0.0.1:5300"))]
        steering = stack.enter_context(Steering.build(specs, Netns.resolve(netns)))
        assert [r.target.split(" (")[0] for r in steering.rules] == [
            "tcp 127.0.0.1:8080", "tcp [::1]:8080", "udp 127.0.0.1:5300"]
        assert connect(netns, "127.0.0.7", 8443) == errno.ECONNREFUSED   # not linked yet
        steering.attach()
        listeners = {"tcp4": tcp4, "tcp6": tcp6, "plain": plain}

        assert connect(netns, "127.0.0.7", 8443) == 0
        assert who_accepts(listeners) == ("tcp4", ("127.0.0.7", 8443))
        assert connect(netns, V6, 443) == 0
        assert who_accepts(listeners) == ("tcp6", (V6, 443))
        send_udp(netns, "127.0.0.7", 53, b"steered")
        udp.settimeout(2)
        data, _ = udp.recvfrom(100)
        assert data == b"steered"

        # no rule matches: the normal lookup decides
        assert connect(netns, "127.0.0.7", 9443) == errno.ECONNREFUSED
        assert connect(netns, "::1", 8443) == errno.ECONNREFUSED      # web6 wants fd00:7::1
        assert connect(netns, "127.0.0.1", 9000) == 0
        assert who_accepts(listeners) == ("plain", ("127.0.0.1", 9000))
        send_udp(netns, "127.0.0.7", 54, b"not steered")
        assert select.select([udp], [], [], 0.2)[0] == []

        counters = steering.read_counters()
        assert counters.matched == (1, 1, 1) and counters.steered == (1, 1, 1)
        assert counters.lookups >= 8
    assert linked(netns) == []        # closing the steering detached it
    assert connect(netns, "127.0.0.7", 8443) == errno.ECONNREFUSED


def start_steer(*args: str) -> tuple[subprocess.Popen, list[str]]:
    """``pycap steer ARGS`` in a subprocess; returns once it says it is steering."""
    proc = subprocess.Popen([sys.executable, "-m", "pycap.cli", "steer", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": REPO})
    lines: list[str] = []
    pending = b""
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:   # os.read: no buffer hides lines from select()
        if not select.select([fd], [], [], 0.1)[0]:
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        *done, pending = (pending + chunk).split(b"\n")
        lines += [line.decode() for line in done]
        if any(line.startswith(("steering in", "pinned at")) for line in lines):
            return proc, lines
    proc.kill()
    out, err = proc.communicate(timeout=TIMEOUT)
    raise AssertionError(f"pycap steer did not start: {lines} {out} {err}")


def stop_steer(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
    """Signal it; returns its exit code and the rest of its output."""
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.kernel
def test_cli_labels_first_match_and_detach_on_exit(netns):
    with listener(netns, "127.0.0.1", 8080) as first, listener(netns, "127.0.0.1", 8081) as second:
        proc, head = start_steer("--netns", netns, "--interval", "0.1",
                                 "--to", "127.0.0.1:8080", "--label", "first", "tcp dst port 8443",
                                 "--to", "127.0.0.1:8081", "--label", "second",
                                 "tcp", "and", "dst", "portrange", "8000-8999")
        try:
            pid = os.getpid()
            assert head[0].startswith("first: tcp dst port 8443 -> tcp 127.0.0.1:8080 (pid "
                                      f"{pid} fd ")
            assert head[1].startswith("second: tcp and dst portrange 8000-8999 -> "
                                      "tcp 127.0.0.1:8081 (pid")
            assert len(linked(netns)) == 1
            listeners = {"first": first, "second": second}
            assert connect(netns, "127.0.0.7", 8443) == 0
            assert who_accepts(listeners)[0] == "first"        # both match: the first wins
            assert connect(netns, "127.0.0.7", 8444) == 0
            assert who_accepts(listeners)[0] == "second"
            assert connect(netns, "127.0.0.7", 9000) == errno.ECONNREFUSED
            time.sleep(0.3)                                     # one status interval
        finally:
            code, out, err = stop_steer(proc)
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[-1] == "detached"
        assert lines[-2] == "lookups 3: first matched 1 steered 1, second matched 1 steered 1"
        assert linked(netns) == []
        assert connect(netns, "127.0.0.7", 8443) == errno.ECONNREFUSED


@pytest.mark.kernel
def test_pinned_steering_survives_exit_until_detached(netns, bpffs):
    pin = os.path.join(bpffs, "web")
    server = subprocess.Popen(
        ["ip", "netns", "exec", netns, sys.executable, "-c",
         "import socket,sys\n"
         "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.0.0.1',5300))\n"
         "print('ready',flush=True); s.settimeout(8)\n"
         "d,a=s.recvfrom(100); print(d.decode(),flush=True)\n"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        proc = subprocess.run([sys.executable, "-m", "pycap.cli", "steer", "--netns", netns,
                               "--pin", pin, "--to", "127.0.0.1:5300", "--label", "dns",
                               "udp dst port 53"], capture_output=True, text=True,
                              timeout=TIMEOUT, cwd=REPO, env={**os.environ, "PYTHONPATH": REPO})
        assert (proc.returncode, proc.stderr) == (0, "")
        assert proc.stdout.splitlines()[-1] == (
            f"pinned at {pin} in network namespace {netns}; "
            f"'pycap steer --detach {pin}' removes it")
        assert sorted(os.listdir(pin)) == ["counters", "link", "meta", "prog", "sockmap"]
        assert len(linked(netns)) == 1
        send_udp(netns, "127.0.0.9", 53, b"after exit")     # pycap has exited
        assert server.communicate(timeout=TIMEOUT)[0].splitlines()[-1] == "after exit"
    finally:
        server.kill()
        server.wait(timeout=TIMEOUT)

    from pycap.cli import main
    out = subprocess.run([sys.executable, "-m", "pycap.cli", "steer", "--list", bpffs],
                         capture_output=True, text=True, timeout=TIMEOUT, cwd=REPO).stdout
    lines = out.splitlines()
    assert lines[0].startswith(f"{pin}: network namespace {netns}, pinned by pid ")
    assert lines[1].startswith("  dns: udp dst port 53 -> udp 127.0.0.1:5300 (pid ")
    assert lines[1].endswith(": matched 1 steered 1")
    assert lines[2] == "  lookups 1"
    assert main(["steer", "--detach", pin]) == 0
    assert not os.path.exists(pin)
    assert linked(netns) == []
    assert main(["steer", "--detach", pin]) == 1        # not there any more


# Rules and (source, destination) lookups shared by the live tests here and
# in test_steer_bcc.py: each rule decides some lookup, some fall through.
LIVE_RULES = [("a", "127.0.0.1:8080", "tcp and src port 5001"),
              ("b", "127.0.0.1:8081", "tcp and src net 127.0.0.9/32 and dst portrange 7000-7999"),
              ("c", "[::1]:8080", f"tcp and dst host {V6} and not src portrange 5000-5099"),
              ("d", "127.0.0.1:8082", "tcp and ifindex 1 and dst port 6000")]
LIVE_LOOKUPS = [(("127.0.0.9", 5001), ("127.0.0.7", 7001)),
                (("127.0.0.9", 5002), ("127.0.0.7", 7001)),
                (("127.0.0.8", 5003), ("127.0.0.7", 7001)),
                (("127.0.0.8", 5004), ("127.0.0.7", 6000)),
                (("127.0.0.8", 5005), ("127.0.0.7", 6001)),
                ((V6, 5006), (V6, 443)),
                ((V6, 5106), (V6, 443)),
                (("::1", 5107), (V6, 6000))]


@pytest.mark.kernel
def test_dry_run_agrees_with_live_steering(netns):
    """The same table of lookups, through BPF_PROG_TEST_RUN, pycap's interpreter
    and real connections (from fixed source ports, over lo: ifindex 1)."""
    rules, table = LIVE_RULES, LIVE_LOOKUPS
    with ExitStack() as stack:
        listeners = {name: stack.enter_context(listener(netns, *parse_endpoint_str(to)))
                     for name, to, _ in rules}
        specs = [RuleSpec(expr, name, to=parse_endpoint(to)) for name, to, expr in rules]
        steering = stack.enter_context(Steering.build(specs, Netns.resolve(netns)))
        predicted = []
        for (src, sport), (dst, dport) in table:
            lookup = Lookup(6, ipaddress.ip_address(src), sport, ipaddress.ip_address(dst),
                            dport, ifindex=1)
            verdict = steering.dry_run(lookup)
            assert interpret(steering.rules, lookup).rule == verdict.rule
            if verdict.rule is not None:
                assert verdict.steered and verdict.cookie == steering.rules[verdict.rule].cookie
            predicted.append(None if verdict.rule is None else rules[verdict.rule][0])
        assert predicted == ["a", "b", None, "d", None, None, "c", "c"]   # a varied table
        steering.attach()
        for ((src, sport), (dst, dport)), expected in zip(table, predicted):
            status = connect(netns, dst, dport, src=(src, sport))
            if expected is None:
                assert status == errno.ECONNREFUSED, (src, sport, dst, dport)
            else:
                assert status == 0
                assert who_accepts(listeners) == (expected, (dst, dport))


def parse_endpoint_str(text: str) -> tuple[str, int]:
    addr, port = parse_endpoint(text)
    return str(addr), port


@pytest.mark.kernel
def test_to_pid_and_fd_names_a_socket_directly(netns):
    with listener(netns, "127.0.0.1", 8080) as target:
        spec = RuleSpec("tcp dst port 8443", "direct", pid_fd=(os.getpid(), target.fileno()))
        with Steering.build([spec], Netns.resolve(netns)) as steering:
            assert steering.rules[0].target == (
                f"tcp 127.0.0.1:8080 (pid {os.getpid()} fd {target.fileno()})")
            steering.attach()
            assert connect(netns, "127.0.0.7", 8443) == 0
            assert who_accepts({"direct": target}) == ("direct", ("127.0.0.7", 8443))


@pytest.mark.kernel
def test_errors(netns):
    ns = Netns.resolve(netns)
    with pytest.raises(NoListenerError,
                       match=f"^no TCP listener on 127.0.0.1:8080 in network namespace {netns}$"):
        Steering.build([RuleSpec("tcp", to=parse_endpoint("127.0.0.1:8080"))], ns)
    with listener(netns, "127.0.0.1", 8080) as tcp, listener(netns, "::1", 8080) as tcp6:
        with pytest.raises(WrongProtocolError, match="^127.0.0.1:8080 is a TCP socket, but the "
                                                     "expression matches only UDP lookups$"):
            Steering.build([RuleSpec("udp port 53", to=parse_endpoint("127.0.0.1:8080"))], ns)
        with pytest.raises(WrongProtocolError, match=r"^rule0: 'ip6' can never match tcp "
                                                     r"127\.0\.0\.1:8080 \(pid"):
            Steering.build([RuleSpec("ip6", to=parse_endpoint("127.0.0.1:8080"))], ns)
        r, w = os.pipe()
        try:
            with pytest.raises(NoListenerError, match=f"^pid {os.getpid()} fd {r} is not a "
                                                      f"socket$"):
                Steering.build([RuleSpec("tcp", pid_fd=(os.getpid(), r))], ns)
        finally:
            os.close(r)
            os.close(w)
        spec = RuleSpec("tcp", to=parse_endpoint("127.0.0.1:8080"))
        with Steering.build([spec], ns) as first:
            first.attach()
            with Steering.build([spec], ns) as second, \
                    pytest.raises(AlreadyLinkedError, match=f"^network namespace {netns} already "
                                                            f"has an sk_lookup program linked"):
                second.attach()
        del tcp, tcp6


@pytest.mark.kernel
def test_no_permission_is_one_line(netns):
    """Without capabilities pycap cannot take a root process's socket."""
    with listener(netns, "127.0.0.1", 8080):
        proc = subprocess.run(
            ["ip", "netns", "exec", netns, "setpriv", "--bounding-set=-all", "--inh-caps=-all",
             sys.executable, "-m", "pycap.cli", "steer", "--to", "127.0.0.1:8080", "tcp"],
            capture_output=True, text=True, timeout=TIMEOUT, cwd=REPO,
            env={**os.environ, "PYTHONPATH": REPO})
    assert proc.returncode == 1
    assert proc.stderr == ("pycap: found a socket on 127.0.0.1:8080 but cannot take it from the "
                           "process that owns it: Permission denied\n")


def test_mount_fstype():
    assert mount_fstype("/proc/self") == "proc"


@pytest.mark.kernel
def test_pin_mounts_a_bpffs_at_the_standard_place(netns):
    """With nothing on /sys/fs/bpf, ``--pin /sys/fs/bpf/NAME`` mounts a bpffs
    there first (as bpftool does).  Run in a private mount namespace, with
    any bpffs on /sys/fs/bpf unmounted there only: the host's is untouched."""
    pycap = f"{sys.executable} -m pycap.cli steer"
    script = (f"while umount /sys/fs/bpf 2>/dev/null; do :; done\n"
              f"{pycap} --netns {netns} --pin /sys/fs/bpf/t --to 127.0.0.1:8080 tcp >/dev/null"
              f" || exit 1\n"
              f"grep -c ' /sys/fs/bpf bpf ' /proc/self/mounts\n"
              f"{pycap} --list | head -1\n"
              f"{pycap} --detach /sys/fs/bpf/t\n")
    with listener(netns, "127.0.0.1", 8080):
        proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                               script], capture_output=True, text=True, timeout=TIMEOUT,
                              cwd=REPO, env={**os.environ, "PYTHONPATH": REPO})
    assert (proc.returncode, proc.stderr) == (0, "")
    lines = proc.stdout.splitlines()
    assert lines[0] == "1"
    assert lines[1].startswith(f"/sys/fs/bpf/t: network namespace {netns}, pinned by pid ")
    assert lines[2] == f"detached /sys/fs/bpf/t (network namespace {netns})"
    assert linked(netns) == []
