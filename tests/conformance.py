"""Run corpus expressions through pycap and compare with tcpdump's verdicts.

Used by tests/test_conformance.py and runnable by hand for a report:
``python -m tests.conformance [--kernel] [--limit N]``.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field

from pycap.compiler import compile_filter
from pycap.errors import FilterError, UnsupportedFilterError
from pycap.ir.interp import runs
from tests import corpus


def is_ipv6(linktype: int, data: bytes) -> bool:
    """Whether the packet is IPv6 at the network layer (possibly behind
    802.1Q tags on Ethernet)."""
    if linktype == 101:
        return data[:1] and data[0] >> 4 == 6
    off = {1: 12, 113: 14, 276: 0}[linktype]
    while linktype == 1 and data[off:off + 2] in (b"\x81\x00", b"\x88\xa8", b"\x91\x00"):
        off += 4
    return data[off:off + 2] == b"\x86\xdd"


@dataclass
class Report:
    supported: int = 0
    unsupported: int = 0
    mismatches: list[tuple[str, str, str]] = field(default_factory=list)  # (linktype, expr, detail)
    packets: int = 0
    unsupported_reasons: Counter = field(default_factory=Counter)


def verdicts_kernel(program, recs) -> set[int]:
    from pycap.kernel.bpf import TEST_RUN_MAX_FRAME, run_socket_filter
    out = set()
    for i, (data, wire_len) in enumerate(recs, 1):
        if len(data) > TEST_RUN_MAX_FRAME:
            continue
        if run_socket_filter(program, data, wire_len):
            out.add(i)
    return out


def check_expression(expr: str, linktype: int, report: Report, kernel: bool,
                     ipv6_extra_ok: frozenset = frozenset()) -> None:
    """Compare pycap with tcpdump for one expression on one link type.  For
    expressions in ``ipv6_extra_ok`` pycap may select *more* packets than
    tcpdump, but only IPv6 ones (see DELIBERATE_DIFFERENCES in
    test_conformance.py)."""
    tag = corpus.LINKTYPES[linktype]
    want_error = corpus.errors().get((linktype, expr))
    caps = [c for c in corpus.captures_of(linktype) if expr in corpus.expected(c)]
    if want_error is None and not caps:
        return
    try:
        compiled = compile_filter(expr, linktype, offline=True)
    except UnsupportedFilterError as err:
        report.unsupported += 1
        report.unsupported_reasons[err.message] += 1
        return
    except FilterError as err:
        if want_error is None:
            report.mismatches.append((tag, expr, f"rejected: {err.message}"))
        else:
            report.supported += 1
        return
    if want_error is not None:
        report.mismatches.append((tag, expr, f"accepted, tcpdump says {want_error}"))
        return
    report.supported += 1
    program = None
    if kernel:
        from pycap.kernel.bpf import load_program
        program = load_program(compiled.bytecode)
    try:
        for cap in caps:
            recs = corpus.records(cap)
            want = corpus.expected(cap)[expr]
            got = {i for i, (d, w) in enumerate(recs, 1) if runs(compiled.graph, d, w)}
            report.packets += len(recs)
            if expr in ipv6_extra_ok:
                got = {i for i in got if i in want or not is_ipv6(linktype, recs[i - 1][0])}
            if got != want:
                report.mismatches.append((tag, expr, f"{cap}: interp extra {sorted(got - want)[:5]} "
                                          f"missing {sorted(want - got)[:5]}"))
                continue
            if program is not None:
                from pycap.kernel.bpf import TEST_RUN_MAX_FRAME
                kgot = verdicts_kernel(program, recs)
                if expr in ipv6_extra_ok:
                    kgot = {i for i in kgot if i in want or not is_ipv6(linktype, recs[i - 1][0])}
                kwant = {i for i in want if len(recs[i - 1][0]) <= TEST_RUN_MAX_FRAME}
                if kgot != kwant:
                    report.mismatches.append((tag, expr, f"{cap}: kernel extra {sorted(kgot - kwant)[:5]} "
                                              f"missing {sorted(kwant - kgot)[:5]}"))
    finally:
        if program is not None:
            program.close()


def run(kernel: bool = False, limit: int | None = None,
        ipv6_extra_ok: frozenset = frozenset()) -> Report:
    report = Report()
    exprs = corpus.expressions()[:limit]
    for linktype in corpus.LINKTYPES:
        for expr in exprs:
            check_expression(expr, linktype, report, kernel, ipv6_extra_ok)
    return report


if __name__ == "__main__":
    kernel = "--kernel" in sys.argv
    limit = int(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else None
    from tests.test_conformance import IPV6_TRANSPORT
    rep = run(kernel, limit, IPV6_TRANSPORT)
    print(f"supported {rep.supported} unsupported {rep.unsupported} mismatches {len(rep.mismatches)}"
          f" packets {rep.packets}")
    for reason, n in rep.unsupported_reasons.most_common(15):
        print(f"  unsupported x{n}: {reason}")
    for m in rep.mismatches[:int(__import__("os").environ.get("SHOW","60"))]:
        print("  MISMATCH", *m)
