"""Filters on BSD loopback captures (LINKTYPE_NULL in both byte orders,
LINKTYPE_LOOP) against tcpdump's verdicts for every corpus expression
(expr/loopback, made by tests/make_loopback_corpus.py): the interpreter, the
kernel and ``-r … -w`` must select what tcpdump selects and reject what it
rejects, with its words."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pycap.compiler import compile_filter
from pycap.errors import FilterError
from pycap.ir.interp import matches
from pycap.savefile import open_savefile
from tests import corpus
from tests.test_conformance import DELIBERATE_DIFFERENCES, IPV6_TRANSPORT

try:
    from kernelsupport import kernel  # noqa: F401
except ImportError:  # tests/ imported as a package
    from tests.kernelsupport import kernel  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent / "expr" / "loopback"
CAPTURES = ("null-le.pcap", "null-be.pcap", "loop.pcap")
IPV6_FAMILIES = (24, 28, 30)
SHORT = 26     # the 3-byte record: shorter than the 4-byte header
# Where pycap knowingly differs on these captures:
# - which loads survive in a program that decides nothing: libpcap's keeps the
#   header load of ``tcp or not tcp`` (so the short record is rejected) and
#   drops all of ``not ip6 or not ip``; pycap's program drops both, its
#   interpreter keeps both.
# (libpcap's optimizer cannot prove ``tcp and udp`` false over the three IPv6
# AF_ values, so tcpdump compiles ``tcp and udp or arp`` to a program that
# matches nothing; pycap asks the same question with libpcap's facts only,
# pycap.ir.cfg.rejects_all_as_libpcap, and does the same.)
SHORT_RECORD = frozenset({"tcp or not tcp", "not ip6 or not ip"})
TRANSPORT_INDEX = re.compile(r"\b(tcp|udp|sctp)\s*\[")


@functools.cache
def expected(name: str) -> dict[str, frozenset[int]]:
    return corpus.read_verdicts(ROOT / "expected" / f"{name}.tsv")


@functools.cache
def errors() -> dict[tuple[str, str], str]:
    out = {}
    for line in (ROOT / "expected" / "_errors.tsv").read_text().splitlines()[1:]:
        name, expression, message = line.split("\t")
        out[(name, expression)] = message.removeprefix("tcpdump: ")
    return out


@functools.cache
def capture(name: str) -> tuple[int, str, tuple[tuple[bytes, int], ...]]:
    with open_savefile(str(ROOT / "pcaps" / name)) as reader:
        return reader.linktype, reader.byteorder, tuple((r.data, r.wire_len) for r in reader)


def _is_ipv6(name: str, data: bytes) -> bool:
    _, order, _ = capture(name)
    word = "big" if name.startswith("loop") else order
    return len(data) >= 4 and int.from_bytes(data[:4], word) in IPV6_FAMILIES


def _compile(name: str, expression: str):
    linktype, order, _ = capture(name)
    return compile_filter(expression, linktype, offline=True, byte_order=order)


def _mismatches(name: str, kernel: bool = False) -> list[str]:
    _, _, records = capture(name)
    out = []
    for expression in corpus.expressions():
        if expression in DELIBERATE_DIFFERENCES:
            continue
        want_error = errors().get((name, expression))
        try:
            compiled = _compile(name, expression)
        except FilterError as err:
            if want_error != err.message:
                out.append(f"{expression}: pycap says {err.message!r}, tcpdump {want_error!r}")
            continue
        if want_error is not None:
            out.append(f"{expression}: accepted, tcpdump says {want_error!r}")
            continue
        if kernel:
            from pycap.kernel.bpf import load_program, run_socket_filter
            with load_program(compiled.bytecode) as program:
                got = {i for i, (d, w) in enumerate(records, 1) if run_socket_filter(program, d, w)}
        else:
            got = {i for i, (d, w) in enumerate(records, 1) if matches(compiled.predicate, d, w)}
        want = expected(name)[expression]
        if expression in IPV6_TRANSPORT or TRANSPORT_INDEX.search(expression):
            # tcp[]/udp[] over IPv6 too (see test_conformance's DELIBERATE_DIFFERENCES)
            got = {i for i in got if i in want or not _is_ipv6(name, records[i - 1][0])}
        if expression in SHORT_RECORD:
            got, want = got - {SHORT}, want - {SHORT}
        if got != want:
            out.append(f"{expression}: extra {sorted(got - want)} missing {sorted(want - got)}")
    return out


def test_the_captures_are_what_the_generator_makes():
    from tests.make_loopback_corpus import FILES, records
    for name, (linktype, order) in FILES.items():
        assert (ROOT / "pcaps" / name).read_bytes() == records(order, linktype)
        assert set(expected(name)) | {e for n, e in errors() if n == name} == set(corpus.expressions())


@pytest.mark.parametrize("name", CAPTURES)
def test_interpreter_verdicts_and_errors_equal_tcpdump(name):
    assert _mismatches(name) == []


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel")
@pytest.mark.parametrize("name", CAPTURES)
def test_kernel_verdicts_equal_tcpdump(name):
    assert _mismatches(name, kernel=True) == []


def test_the_af_value_is_read_in_the_writers_byte_order():
    """The same IPv4 record under a little- and a big-endian header: only the
    program for its own byte order selects it."""
    for order, header in (("little", b"\x02\0\0\0"), ("big", b"\0\0\0\x02")):
        packet = header + bytes.fromhex("450000140001000040060000" "0a0000010a000002")
        assert matches(compile_filter("ip", 0, offline=True, byte_order=order).predicate, packet)
        other = "big" if order == "little" else "little"
        assert not matches(compile_filter("ip", 0, offline=True, byte_order=other).predicate, packet)


@pytest.mark.parametrize("expression", ["ip", "ip6", "ip6 and tcp", "udp port 53", "host fe80::1",
                                        "not ip"])
@pytest.mark.parametrize("name", CAPTURES)
def test_read_and_write_select_tcpdumps_records(name, expression, tmp_path):
    """``pycap -r FILE -w OUT EXPR``: the byte order reaches the compiler."""
    out = tmp_path / "out.pcap"
    proc = subprocess.run([sys.executable, "-m", "pycap.cli", "-r", str(ROOT / "pcaps" / name),
                           "-w", str(out), expression], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with open_savefile(str(out)) as reader:
        written = [r.data for r in reader]
    _, _, records = capture(name)
    assert written == [records[i - 1][0] for i in sorted(expected(name)[expression])]
