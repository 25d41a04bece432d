"""``pycap steer --backend bcc``: the steering rules as C, compiled by BCC.

Pure parts first (the C text, ``-d c``, the command line, the error without
BCC), then parity: for tables of rules, BCC's program and pycap's own give
the same verdict on the same lookups through ``BPF_PROG_TEST_RUN`` (which
works for sk_lookup here), with the same counters; with real sockets in a
private network namespace, the same socket choice, then live steering by the
BCC program; last, ``pycap steer --backend bcc`` live, pinned, listed and
detached.  Each BCC build is one compile (about 0.2-0.5 s; dry-run variants
for an ingress ifindex share it), so the tables are few and wide.
"""

from __future__ import annotations

import errno
import ipaddress
import itertools
import os
import shutil
import socket
import subprocess
import sys
from contextlib import ExitStack

import pytest

from pycap.bpf import sklookup
from pycap.bpf.sklookup_c import CRule, SkLookupCWriter, function_name, generate_c
from pycap.errors import PycapError
from pycap.ir import nodes as ir
from pycap.steer.command import parse_args
from pycap.steer.lookup import Lookup, parse_endpoint
from pycap.steer.lower import lower_expression
from pycap.steer.sockets import Netns
from pycap.steer.steering import RuleSpec, Steering, interpret
from tests.kernelsupport import kernel  # noqa: F401
from tests.test_bcc import require_bcc
from tests.test_cli import assert_one_clean_error, pycap
from tests.test_steer import (LIVE_LOOKUPS, LIVE_RULES, REPO, TIMEOUT, V6, L,  # noqa: F401
                              bpffs, connect, linked, listener, netns, send_udp, start_steer,
                              stop_steer, who_accepts)


@pytest.fixture
def bcc(kernel):  # noqa: F811
    require_bcc()


# ============================================================== the C (pure)


def _c(*expressions: str, ifindexes: tuple[int, ...] = ()) -> str:
    return generate_c([CRule(lower_expression(e), f"r{i}", e)
                       for i, e in enumerate(expressions)], ifindexes)


def test_network_order_fields_are_swapped_host_order_fields_are_not():
    text = _c("src port 5555 and dst port 8443 and dst host 127.0.0.7", "src host fd00::1")
    assert "PYCAP_NTOHS(ctx->remote_port) == 0x15b3" in text
    assert "ctx->local_port == 0x20fb" in text
    assert "PYCAP_NTOHL(ctx->local_ip4) == 0x7f000007" in text
    assert "PYCAP_NTOHL(ctx->remote_ip6[0]) == 0xfd000000" in text
    assert "PYCAP_NTOHL(ctx->remote_ip6[3]) == 1" in text
    masked = _c("dst net 10.1.0.0/16")
    assert "(PYCAP_NTOHL(ctx->local_ip4) & 0xffff0000) == 0xa010000" in masked


def test_rules_in_order_maps_and_counters_sized_for_them():
    text = _c("tcp dst port 80", "udp", "ip6 and ifindex 3")
    first, second, third = (text.index(f"rule = {i};") for i in range(3))
    assert first < second < third
    assert "/* rule 0, r0: tcp dst port 80 */\n    if (" in text
    assert "    else if (ctx->protocol == 17)\n        rule = 1;" in text
    assert 'BPF_TABLE("sockmap", u32, u64, pycap_sockmap, 3);' in text
    assert "BPF_PERCPU_ARRAY(pycap_counters, u64, 7);" in text
    assert sklookup.counter_count(3) == 7
    assert "PYCAP_SK_LOOKUP_SEC int pycap_steer(struct bpf_sk_lookup *ctx)" in text
    assert "pycap_count(0);" in text and "return pycap_steer_to(ctx, rule);" in text


def test_ifindex_variants_see_a_constant():
    text = _c("ifindex 3 and tcp", ifindexes=(5, 3, 5))
    assert function_name() == "pycap_steer" and function_name(5) == "pycap_steer_if5"
    assert text.count("PYCAP_SK_LOOKUP_SEC int ") == 3
    assert "int pycap_steer_if3(" in text and "int pycap_steer_if5(" in text
    assert text.count("ctx->ingress_ifindex == 3") == 1       # the live function reads it
    assert "5U == 3" in text and "3U == 3" in text


def test_only_lookup_fields_and_constant_divisors():
    writer = SkLookupCWriter()
    with pytest.raises(ValueError, match="cannot compute"):
        writer.predicate(ir.Cmp("eq", ir.Load(ir.Imm(0), 1), ir.Imm(1)))
    with pytest.raises(ValueError, match="non-zero constants"):
        writer.predicate(ir.Cmp("eq", ir.Alu("div", ir.Ctx("local_port"), ir.Imm(0)), ir.Imm(1)))
    with pytest.raises(ValueError, match="no struct bpf_sk_lookup field"):
        writer.predicate(ir.Cmp("eq", ir.Ctx("len"), ir.Imm(1)))


def test_no_rule_is_a_program_that_passes():
    assert "    return SK_PASS;\n\n    return pycap_steer_to" not in generate_c([])
    assert "pycap_count(0);\n    return SK_PASS;" in generate_c([])


def test_command_line_backend_and_dump_c():
    args = parse_args(["--backend", "bcc", "-d", "c", "--test", "tcp"])
    assert (args.backend, args.dump_c, args.dump) == ("bcc", True, False)
    assert parse_args(["--dump-c", "--test", "tcp"]).dump_c
    args = parse_args(["-d", "--test", "tcp"])
    assert (args.backend, args.dump_c, args.dump) == ("pycap", False, True)
    proc = pycap("steer", "--backend", "clang", "--test", "tcp")
    assert_one_clean_error(proc, "steer: --backend must be pycap or bcc, not 'clang'")


def test_dump_c_needs_no_bcc_and_no_privileges():
    short = pycap("steer", "-d", "c", "--test", "tcp dst port 80", "--label", "web",
                  "--test", "udp", unprivileged=True)
    long = pycap("steer", "--dump-c", "--test", "tcp dst port 80", "--label", "web",
                 "--test", "udp", unprivileged=True)
    assert short.returncode == long.returncode == 0, short.stderr
    assert short.stdout == long.stdout
    text = short.stdout.decode()
    assert "/* rule 0, web: tcp dst port 80 -> (no socket) */" in text
    assert text.count("PYCAP_SK_LOOKUP_SEC int ") == 1


def test_dump_c_compiles_with_plain_clang(tmp_path):
    """The libbpf route: the #else branch (BTF-defined maps, section
    "sk_lookup") builds with ``clang -target bpf`` and no BCC."""
    clang = next((p for p in map(shutil.which, ("clang", "clang-14", "clang-15")) if p), None)
    if clang is None:
        pytest.skip("needs clang (not a pycap dependency)")
    source = tmp_path / "steer.c"
    source.write_bytes(pycap("steer", "-d", "c", "--test", "tcp and dst net 10.0.0.0/8",
                             "--test", "src host fd00::1 and ifindex 2").stdout)
    multiarch = f"/usr/include/{os.uname().machine}-linux-gnu"
    proc = subprocess.run([clang, "-O2", "-Wall", "-target", "bpf", f"-I{multiarch}", "-c",
                           str(source), "-o", str(tmp_path / "steer.o")],
                          capture_output=True, text=True)
    assert (proc.returncode, proc.stderr) == (0, "")
    objdump = next((p for p in map(shutil.which, ("llvm-objdump", "llvm-objdump-14", "objdump"))
                    if p), None)
    if objdump:
        sections = subprocess.run([objdump, "-h", str(tmp_path / "steer.o")],
                                  capture_output=True, text=True).stdout
        assert " sk_lookup " in sections and " .maps " in sections


def test_missing_bcc_is_one_clean_error(monkeypatch, capsys, tmp_path):
    from pycap import cli
    from pycap.kernel import bcc_loader
    monkeypatch.setitem(sys.modules, "bcc", None)          # "import bcc" fails
    monkeypatch.setattr(bcc_loader, "DEBIAN_BCC", tmp_path / "no-bcc")
    monkeypatch.setattr(bcc_loader, "_bcc", None)
    with pytest.raises(PycapError, match="apt-get install python3-bpfcc"):
        Steering.build([RuleSpec("tcp")], backend="bcc")
    code = cli.main(["steer", "--backend", "bcc", "--test", "tcp", "--lookup",
                     "tcp 10.0.0.1:1 -> 10.0.0.2:2"])
    err = capsys.readouterr().err.splitlines()
    assert code == 1 and len(err) == 1
    assert err[0].startswith("pycap: --backend bcc needs BCC (Debian's python3-bpfcc): install it")


# ============================================================== parity (dry runs)

# Rule tables (first match wins), each one BCC compile, covering every
# primitive sk_lookup sees: protocols and families, hosts and networks of
# both families and every direction, ports and ranges, ifindex, not/and/or.
TABLES = [
    ["tcp and dst net 127.0.0.0/8 and dst portrange 8000-8999",
     "udp and src portrange 5000-5999 and not src host 10.0.0.66",
     "ip6 and dst net fd00:1:2::/48",
     "ifindex 4 and dst port 22"],
    ["src host 10.0.0.1 and dst port 80",
     "dst host 10.0.0.2 and not tcp",
     "src and dst host fd00::1",
     "host fd00::7 and port 443",
     "ip proto 17 and ifindex 2"],
    ["dst net 192.168.0.0 mask 255.255.0.0",
     "net 10 and src port 1023",
     "src net 10.0.0.0/31 or dst net 10.9.0.0/16",
     "dst net fd00:1:2:3:4::/80",
     "src net ::/0 and udp"],
    ["tcp port 80 or tcp port 443 or udp port 53",
     "dst portrange 8999-8000",
     "src portrange 1-1024 and not ifindex 1",
     "ip6 proto 6",
     "not ip"],
    ["port domain", "ifindex 2 or ifindex 4", "dst host 127.0.0.7 or src host fd00::2", ""],
]
_ADDRS4 = ["10.0.0.1", "10.0.0.2", "10.0.0.66", "192.168.7.9", "127.0.0.7", "10.9.4.4"]
_ADDRS6 = ["fd00::1", "fd00::2", "fd00::7", "fd00:1:2:3:4:9::1", "fd00:1:2:ffff::1", "::1"]
_PORTS = [22, 53, 80, 443, 1023, 5001, 8000, 8443, 8999, 9000]


def _lookups() -> list[Lookup]:
    """A deterministic mix: every address pair of each family, a rotation of
    ports and protocols, a few ingress interfaces (0 = none given)."""
    out = []
    rotate = itertools.count()
    for addrs in (_ADDRS4, _ADDRS6):
        for remote, local in itertools.product(addrs, repeat=2):
            i = next(rotate)
            out.append(Lookup((6, 17)[i % 2], ipaddress.ip_address(remote),
                              _PORTS[i % len(_PORTS)], ipaddress.ip_address(local),
                              _PORTS[(3 * i + 1) % len(_PORTS)], (0, 1, 2, 4)[i // 2 % 4]))
    for protocol, port in itertools.product((6, 17), _PORTS):
        out.append(Lookup(protocol, ipaddress.ip_address("10.0.0.1"), 5001,
                          ipaddress.ip_address("127.0.0.7"), port))
    return out


@pytest.mark.kernel
def test_bcc_and_pycap_programs_agree_on_every_lookup(bcc):
    lookups = _lookups()
    ifindexes = {lookup.ifindex for lookup in lookups if lookup.ifindex}
    hits = 0
    for table in TABLES:
        specs = [RuleSpec(e, f"r{i}") for i, e in enumerate(table)]
        with Steering.build(specs) as ours, \
                Steering.build(specs, backend="bcc", ifindexes=ifindexes) as theirs:
            assert theirs.program.prog_type == 30          # BPF_PROG_TYPE_SK_LOOKUP
            seen = set()
            for lookup in lookups:
                a, b = ours.dry_run(lookup), theirs.dry_run(lookup)
                assert (b.rule, b.steered, b.retval) == (a.rule, a.steered, a.retval), \
                    (table, str(lookup))
                assert interpret(ours.rules, lookup).rule == a.rule, (table, str(lookup))
                seen.add(a.rule)
            assert ours.read_counters() == theirs.read_counters()
            assert set(range(len(table))) <= seen, (table, seen)   # every rule decides some
            hits += len(lookups)
            text = theirs.disassemble()        # clang's code, with the maps named
            assert "r1 = map[sockmap]" in text and "call bpf_sk_assign" in text
    assert hits == len(TABLES) * len(lookups) >= 450


@pytest.mark.kernel
def test_bcc_dry_run_without_its_ifindex_variant_is_an_error(bcc):
    from pycap.errors import SteerError
    with Steering.build([RuleSpec("ifindex 3")], backend="bcc", ifindexes=[3]) as steering:
        assert steering.dry_run(L("tcp 10.0.0.1:1 -> 10.0.0.2:2 if 3")).rule == 0
        with pytest.raises(SteerError, match="without a variant for ifindex 4"):
            steering.dry_run(L("tcp 10.0.0.1:1 -> 10.0.0.2:2 if 4"))


@pytest.mark.kernel
def test_cli_dry_run_with_bcc(bcc, capsys):
    from pycap.cli import main
    argv = ["steer", "--backend", "bcc", "--test", "tcp and dst portrange 8000-8999",
            "--label", "web", "--test", "ifindex 4 and dst port 22"]
    for text in ("tcp 10.0.0.1:5555 -> 127.0.0.7:8443 if 1", "tcp 10.0.0.1:5555 -> 1.1.1.1:9443",
                 "tcp 10.0.0.1:5555 -> 10.0.0.2:22 if 4"):
        argv += ["--lookup", text]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        "tcp 10.0.0.1:5555 -> 127.0.0.7:8443 if 1: web (rule 0) matches",
        "tcp 10.0.0.1:5555 -> 1.1.1.1:9443: no rule matches, normal lookup",
        "tcp 10.0.0.1:5555 -> 10.0.0.2:22 if 4: rule1 (rule 1) matches",
    ]


@pytest.mark.kernel
def test_bcc_without_privileges_is_one_clean_error(bcc):
    proc = pycap("steer", "--backend", "bcc", "--test", "tcp", "--lookup",
                 "tcp 10.0.0.1:1 -> 10.0.0.2:2", unprivileged=True)
    assert_one_clean_error(proc, "cannot create BPF map: Operation not permitted "
                                 "(needs CAP_BPF and CAP_NET_ADMIN (or root))")


# ============================================================== sockets and live steering


@pytest.mark.kernel
def test_same_socket_choice_then_live_steering(netns, bcc):  # noqa: F811
    """Real listeners: both programs assign the same socket (cookie) on the
    same lookups; then BCC's program, linked, steers real connections there."""
    rules = LIVE_RULES + [("u", "127.0.0.1:5300", "udp dst port 53")]
    table = LIVE_LOOKUPS
    with ExitStack() as stack:
        socks = {name: stack.enter_context(listener(
            netns, *_endpoint(to), socket.SOCK_DGRAM if name == "u" else socket.SOCK_STREAM))
            for name, to, _ in rules}
        specs = [RuleSpec(expr, name, to=parse_endpoint(to)) for name, to, expr in rules]
        ns = Netns.resolve(netns)
        with Steering.build(specs, ns) as ours:
            expected = [ours.dry_run(_lookup(6, src, dst)) for src, dst in table]
        steering = stack.enter_context(Steering.build(specs, ns, backend="bcc", ifindexes=[1]))
        predicted = []
        for (src, dst), mine in zip(table, expected):
            verdict = steering.dry_run(_lookup(6, src, dst))
            assert (verdict.rule, verdict.steered) == (mine.rule, mine.steered), (src, dst)
            if verdict.rule is not None:    # the same socket: cookies are the socket's
                assert verdict.steered and verdict.cookie == mine.cookie == \
                    steering.rules[verdict.rule].cookie
            predicted.append(None if verdict.rule is None else rules[verdict.rule][0])
        assert predicted == ["a", "b", None, "d", None, None, "c", "c"]
        before = steering.read_counters()

        steering.attach()
        assert len(linked(netns)) == 1
        tcp = {name: s for name, s in socks.items() if name != "u"}
        for ((src, sport), (dst, dport)), name in zip(table, predicted):
            status = connect(netns, dst, dport, src=(src, sport))
            if name is None:
                assert status == errno.ECONNREFUSED, (src, sport, dst, dport)
            else:
                assert status == 0
                assert who_accepts(tcp) == (name, (dst, dport))
        send_udp(netns, "127.0.0.7", 53, b"steered by BCC")
        socks["u"].settimeout(2)
        assert socks["u"].recvfrom(100)[0] == b"steered by BCC"
        after = steering.read_counters()
        assert [m - b for m, b in zip(after.steered, before.steered)] == [1, 1, 2, 1, 1]
    assert linked(netns) == []


def _endpoint(text: str) -> tuple[str, int]:
    addr, port = parse_endpoint(text)
    return str(addr), port


def _lookup(protocol: int, src: tuple[str, int], dst: tuple[str, int]) -> Lookup:
    return Lookup(protocol, ipaddress.ip_address(src[0]), src[1], ipaddress.ip_address(dst[0]),
                  dst[1], ifindex=1)


@pytest.mark.kernel
def test_cli_live_steering_with_bcc(netns, bcc):  # noqa: F811
    with listener(netns, "127.0.0.1", 8080) as first, listener(netns, "127.0.0.1", 8081) as second:
        proc, head = start_steer("--netns", netns, "--interval", "0.1", "--backend", "bcc",
                                 "--to", "127.0.0.1:8080", "--label", "first", "tcp dst port 8443",
                                 "--to", "127.0.0.1:8081", "--label", "second",
                                 "tcp", "and", "dst", "portrange", "8000-8999")
        try:
            assert head[-1] == f"steering in network namespace {netns} (Ctrl-C to stop)"
            assert len(linked(netns)) == 1
            listeners = {"first": first, "second": second}
            assert connect(netns, "127.0.0.7", 8443) == 0
            assert who_accepts(listeners)[0] == "first"
            assert connect(netns, "127.0.0.7", 8444) == 0
            assert who_accepts(listeners)[0] == "second"
            assert connect(netns, "127.0.0.7", 9000) == errno.ECONNREFUSED
        finally:
            code, out, err = stop_steer(proc)
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[-2:] == ["lookups 3: first matched 1 steered 1, second matched 1 steered 1",
                              "detached"]
        assert linked(netns) == []


@pytest.mark.kernel
def test_pinned_bcc_steering_lists_and_detaches(netns, bpffs, bcc):  # noqa: F811
    pin = os.path.join(bpffs, "dns")
    env = {**os.environ, "PYTHONPATH": REPO}
    with listener(netns, "127.0.0.1", 5300, socket.SOCK_DGRAM) as server:
        proc = subprocess.run([sys.executable, "-m", "pycap.cli", "steer", "--netns", netns,
                               "--backend", "bcc", "--pin", pin, "--to", "127.0.0.1:5300",
                               "--label", "dns", "udp dst port 53"], capture_output=True,
                              text=True, timeout=TIMEOUT, cwd=REPO, env=env)
        assert (proc.returncode, proc.stderr) == (0, "")
        assert sorted(os.listdir(pin)) == ["counters", "link", "meta", "prog", "sockmap"]
        assert len(linked(netns)) == 1
        send_udp(netns, "127.0.0.9", 53, b"after exit")     # pycap has exited
        server.settimeout(2)
        assert server.recvfrom(100)[0] == b"after exit"
    out = subprocess.run([sys.executable, "-m", "pycap.cli", "steer", "--list", bpffs],
                         capture_output=True, text=True, timeout=TIMEOUT, cwd=REPO,
                         env=env).stdout.splitlines()
    assert out[0].startswith(f"{pin}: network namespace {netns}, pinned by pid ")
    assert out[0].endswith(" (BCC)")
    assert out[1].startswith("  dns: udp dst port 53 -> udp 127.0.0.1:5300 (pid ")
    assert out[1].endswith(": matched 1 steered 1") and out[2] == "  lookups 1"
    from pycap.cli import main
    assert main(["steer", "--detach", pin]) == 0
    assert not os.path.exists(pin) and linked(netns) == []
