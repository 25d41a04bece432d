"""The BCC backend: IR -> C (pure), BCC compile + load, parity with the default
backend on the corpus, ``-d c``, ``--backend bcc`` offline and live.

Parity (tests/bcc_parity.py) runs a selection covering every primitive
family on every link type in CI; ``PYCAP_BCC_FULL=1`` runs every supported
corpus expression (about 2.5 minutes).  Tests that need BCC skip without it,
or fail when CI sets ``PYCAP_REQUIRE_KERNEL=1`` (scripts/test.sh installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from pycap.bpf import c_backend
from pycap.compiler import compile_filter
from pycap.errors import PycapError
from pycap.ir import nodes as ir
from pycap.savefile import open_savefile
from tests import bcc_parity, corpus
from tests.kernelsupport import (kernel, require, require_kernel, send_udp,  # noqa: F401
                                 udp_socket, veth)
from tests.test_cli import ETHER_CAPTURE, assert_one_clean_error, pycap

# ------------------------------------------------------------------ gating


def require_bcc() -> None:
    require_kernel()
    from pycap.kernel import bcc_loader
    require(bcc_loader.unavailable())


@pytest.fixture
def bcc() -> None:
    require_bcc()


# ------------------------------------------------------------- C text (pure)


def _function(pred: ir.Pred, wire_len_field: str = "len") -> str:
    return c_backend.CFunction("f", pred, 96, wire_len_field).source()


def test_c_for_a_simple_filter():
    text = _function(compile_filter("ip").predicate)
    assert "PYCAP_SEC int f(struct __sk_buff *skb)" in text
    assert "if (PYCAP_LD16(skb, 12) == 2048)\n        return 96;\n    return 0;" in text


def test_c_wire_length_live_and_offline():
    pred = ir.Cmp("gt", ir.WireLen(), ir.Imm(100))
    assert "skb->len > 100" in _function(pred)
    assert "skb->cb[0] > 100" in _function(pred, "cb0")


def test_c_arithmetic_wraps_at_32_bits_and_rejects_division_by_zero():
    ld = ir.Load(ir.Imm(14), 1)
    sub = ir.Cmp("gt", ir.Alu("sub", ld, ir.Imm(20)), ir.Imm(3))
    assert "(u32)(PYCAP_LD8(skb, 14) - 20) > 3" in _function(sub)
    # bitwise operations keep the low bits: one truncation for the chain
    chain = ir.Cmp("eq", ir.Alu("and", ir.Alu("add", ld, ld), ir.Imm(0xFF)), ir.Imm(1))
    assert "((PYCAP_LD8(skb, 14) + PYCAP_LD8(skb, 14)) & 255) == 1" in _function(chain)
    assert "PYCAP_REJECT()" in _function(ir.Cmp("eq", ir.Alu("div", ld, ir.Imm(0)), ir.Imm(1)))
    assert "PYCAP_DIV(PYCAP_LD8(skb, 14), PYCAP_LD8(skb, 14))" in _function(
        ir.Cmp("eq", ir.Alu("div", ld, ld), ir.Imm(1)))
    assert "(PYCAP_LD8(skb, 14) << (PYCAP_LD8(skb, 14) & 31))" in _function(
        ir.Cmp("eq", ir.Alu("lsh", ld, ld), ir.Imm(1)))
    big = _function(ir.Cmp("eq", ir.Load(ir.Imm(0), 4), ir.Imm(0xFFFFFFFF)))
    assert "== 0xffffffff" in big          # hex: an unsigned int, never a signed long
    assert "PYCAP_REJECT()" in _function(ir.Cmp("eq", ir.Load(ir.Imm(0x40000), 1), ir.Imm(1)))


def test_c_negations_and_nesting():
    a = ir.Cmp("eq", ir.Load(ir.Imm(0), 1), ir.Imm(1))
    b = ir.Cmp("set", ir.Load(ir.Imm(1), 1), ir.Imm(4))
    text = _function(ir.Any((ir.All((a, ir.Negation(b))), ir.Negation(ir.Any((a, b))))))
    assert "(PYCAP_LD8(skb, 1) & 4) == 0" in text
    assert "!(PYCAP_LD8(skb, 0) == 1" in text
    assert text.count("&&") == 1 and text.count("||") == 2


def test_c_variables_of_def_and_var():
    pred = ir.All((ir.Def("geneve0.hdr", ir.Alu("add", ir.Load(ir.Imm(14), 1), ir.Imm(8))),
                   ir.Cmp("eq", ir.Load(ir.Var("geneve0.hdr"), 2), ir.Imm(0x6558))))
    text = _function(pred)
    assert "    u32 v_geneve0_hdr = 0;\n" in text
    assert "(v_geneve0_hdr = (PYCAP_LD8(skb, 14) + 8), 1)" in text
    assert "PYCAP_LDX16(skb, v_geneve0_hdr) == 0x6558" in text


def test_c_comment_cannot_be_closed_by_the_expression():
    text = c_backend.CFunction("f", ir.TRUE, 1, expression="a */ b").source()
    assert "a * / b" in text


def test_header_protochain_constants_match_the_ir():
    header = (c_backend.template_dir() / "pycap.h").read_text()
    assert f"#define PYCAP_IPPROTO_NONE {ir.IPPROTO_NONE}" in header
    assert f"#define PYCAP_IPPROTO_AH {ir.IPPROTO_AH}" in header
    listed = re.search(r"#define PYCAP_IPV6_EXTENSION\(p\) \((.*)\)\n", header).group(1)
    assert sorted(int(n) for n in re.findall(r"== (\d+)", listed)) == \
        sorted(ir.IPV6_EXTENSION_HEADERS)


def test_dump_c_from_the_command_line():
    long_form = pycap("--dump-c", "udp port 53")
    short_form = pycap("-d", "c", "udp", "port", "53")
    assert long_form.returncode == short_form.returncode == 0
    assert long_form.stdout == short_form.stdout
    text = long_form.stdout.decode()
    assert "#ifndef PYCAP_H" in text and "/* udp port 53" in text
    assert "PYCAP_SEC int pycap_filter(struct __sk_buff *skb)" in text
    raw = pycap("-d", "c", "-y", "RAW", "ip").stdout.decode()
    assert "link type RAW" in raw and "PYCAP_LD16(skb, 12)" not in raw


def test_dump_c_needs_no_bcc_and_no_privileges():
    proc = pycap("-d", "c", "tcp", unprivileged=True)
    assert proc.returncode == 0 and b"pycap_filter" in proc.stdout


def test_missing_bcc_is_one_clean_error(monkeypatch, capsys, tmp_path):
    from pycap import cli
    from pycap.kernel import bcc_loader
    monkeypatch.setitem(sys.modules, "bcc", None)          # "import bcc" fails
    monkeypatch.setattr(bcc_loader, "DEBIAN_BCC", tmp_path / "no-bcc")
    monkeypatch.setattr(bcc_loader, "_bcc", None)
    with pytest.raises(PycapError, match="apt-get install python3-bpfcc"):
        bcc_loader.import_bcc()
    assert cli.main(["--backend", "bcc", "-r", ETHER_CAPTURE, "arp"]) == 1
    reading, *err = capsys.readouterr().err.splitlines()
    assert reading.startswith("reading from file ")      # tcpdump's line, once the file is open
    assert len(err) == 1
    assert err[0].startswith("pycap: --backend bcc needs BCC (Debian's python3-bpfcc): install it")
    assert "scripts/setup.sh --bcc" in err[0]


def _tool(*names: str) -> str | None:
    return next((path for path in map(shutil.which, names) if path), None)


def test_dump_c_compiles_with_plain_clang_and_loads_without_bcc(kernel, tmp_path):  # noqa: F811
    """The libbpf route: ``clang -target bpf`` builds the exported C without
    BCC; the program in section "socket" loads and agrees with pycap's."""
    clang, objcopy = _tool("clang", "clang-14", "clang-15"), _tool("llvm-objcopy", "objcopy")
    if clang is None or objcopy is None:
        pytest.skip("needs clang and llvm-objcopy (not pycap dependencies)")
    from pycap.kernel.bpf import load_program, run_socket_filter
    expr = "tcp port 80 or ip protochain 17 or ip[2:2] / ip[0] > 3"
    source, obj, blob = tmp_path / "f.c", tmp_path / "f.o", tmp_path / "f.bin"
    source.write_bytes(pycap("-d", "c", expr).stdout)
    multiarch = f"/usr/include/{os.uname().machine}-linux-gnu"
    subprocess.run([clang, "-O2", "-target", "bpf", f"-I{multiarch}", "-c", str(source),
                    "-o", str(obj)], check=True)
    subprocess.run([objcopy, "-O", "binary", "--only-section=socket", str(obj), str(blob)],
                   check=True)
    compiled = compile_filter(expr)
    with load_program(blob.read_bytes()) as theirs, load_program(compiled.bytecode) as ours:
        for cap in corpus.captures_of(1)[:40]:
            for data, wire_len in corpus.records(cap):
                if len(data) <= 3000:
                    assert run_socket_filter(theirs, data) == run_socket_filter(ours, data)


# ------------------------------------------------------ BCC and the kernel


def test_parity_with_the_default_backend(bcc):
    """The generated C, compiled by BCC, gives the default backend's verdict on
    every packet of the corpus captures (both run with BPF_PROG_TEST_RUN)."""
    full = os.environ.get("PYCAP_BCC_FULL") == "1"
    candidates = [case for linktype in corpus.LINKTYPES for case in bcc_parity.supported(linktype)]
    cases = candidates if full else bcc_parity.select(candidates)
    report = bcc_parity.check(cases)
    print(f"\nBCC parity: {report.expressions} expressions, {len(report.covered)} "
          f"(link type, family) pairs, {report.packets} verdicts, {report.compiles} compiles "
          f"in {report.compile_s:.1f} s, runs {report.run_s:.1f} s")
    assert report.mismatches == []
    assert report.expressions >= bcc_parity.MIN_EXPRESSIONS
    assert report.covered == {(c.linktype, *f) for c in candidates
                              for f in bcc_parity.families(c.compiled.tree)}


def test_a_load_whose_value_does_not_matter_still_rejects_short_packets(bcc):
    """clang deletes a pure load whose result cannot change the outcome
    ('byte 1 | 256' is never 0); classic BPF still rejects a packet too short
    for it.  PYCAP_LD* in pycap.h check the length in C first."""
    from pycap.kernel.bcc_loader import load_filter
    from pycap.kernel.bpf import load_program, run_socket_filter
    compiled = compile_filter("byte 1 | 256", offline=True)
    with load_filter(compiled, offline=True) as theirs, \
            load_program(compiled.bytecode) as ours:
        for frame in (b"\x01", b"\x01\x02"):
            assert run_socket_filter(theirs, frame, len(frame)) == \
                run_socket_filter(ours, frame, len(frame))
        assert run_socket_filter(theirs, b"\x01", 1) == 0


def test_bcc_disassembly(bcc):
    for expr in ("tcp port 80", "ip protochain 6", "ip[2:2] / ip[0] > 3"):
        proc = pycap("--backend", "bcc", "-d", expr)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.decode().splitlines()
        assert lines[0].startswith("(000)") and lines[-1].endswith("exit")
    c_array = pycap("--backend", "bcc", "-dd", "udp").stdout.decode().splitlines()
    assert c_array and all(line.startswith("{ 0x") for line in c_array)


def test_offline_with_bcc_writes_what_the_default_backend_writes(bcc, tmp_path):
    for expr in ("tcp", "udp port 53 or arp", "ip[8] < 65 and len > 60"):
        outs = []
        for backend in ("pycap", "bcc"):
            out = tmp_path / f"{backend}.pcap"
            proc = pycap("--backend", backend, "-r", ETHER_CAPTURE, "-w", str(out), expr)
            assert proc.returncode == 0, proc.stderr
            with open_savefile(str(out)) as reader:
                outs.append([(r.data, r.wire_len) for r in reader])
        assert outs[0] == outs[1] and outs[0]


def test_bcc_without_privileges_is_one_clean_error(bcc):
    proc = pycap("--backend", "bcc", "-r", ETHER_CAPTURE, "arp", unprivileged=True)
    assert_one_clean_error(proc, "cannot load BPF program: Operation not permitted")


def test_live_capture_selects_and_truncates_with_bcc(veth, tmp_path):  # noqa: F811
    require_bcc()
    from tests.test_live import start_pycap, stop, wait_listening
    out = tmp_path / "live.pcap"
    proc = start_pycap(veth.b.netns, "--backend", "bcc", "-i", veth.b.ifname, "-w", str(out),
                       "-s", "64", "udp dst port 9000")
    wait_listening(proc, timeout=30)
    with udp_socket(veth.a.netns) as sock:
        send_udp(sock, veth.b.ipv4, 9000, 10, size=500)
        send_udp(sock, veth.b.ipv4, 9001, 10, size=500)
    time.sleep(0.5)
    _, err, _ = stop(proc, signal.SIGINT)
    assert proc.returncode == 0, err
    with open_savefile(str(out)) as reader:
        records = list(reader)
    assert len(records) == 10
    assert all(len(r.data) == 64 and r.wire_len == 14 + 20 + 8 + 500 for r in records)
    assert all(r.data[36:38] == (9000).to_bytes(2, "big") for r in records)
