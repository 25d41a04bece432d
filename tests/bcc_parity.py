"""BCC backend parity: the C that pycap generates, compiled by BCC, must give
the default backend's verdict on every packet of the corpus captures, both run
by the kernel (``BPF_PROG_TEST_RUN``).

BCC costs ~0.2-0.5 s per compile, nearly all of it clang's start-up, so the
expressions of one link type go into a few large C sources (one function per
expression, ``BATCH`` functions per source) and each function is loaded by
name.  The CI selection covers every primitive family on every link type
(greedy set cover over the families the expressions use, topped up to
``MIN_EXPRESSIONS``); ``full=True`` takes every supported expression.

By hand: ``python -m tests.bcc_parity [--full] [--match SUBSTRING]``.
"""

from __future__ import annotations

import heapq
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pycap.bpf.c_backend import CFunction, c_program
from pycap.compiler import CompiledFilter, compile_filter
from pycap.errors import FilterError
from pycap.filter import ast
from tests import corpus

MIN_EXPRESSIONS = 300
BATCH = 150     # functions per C source: ~3 ms of clang each, after ~0.15 s of start-up


# ------------------------------------------------------------------ selection

Family = tuple


def families(node: object, out: set[Family] | None = None) -> set[Family]:
    """The primitive families an expression's AST uses: qualified primitives by
    (proto, dir, addr, operand kind), protocol abbreviations, special keywords,
    and in relations each indexed protocol and size, operator and ``len``."""
    out = set() if out is None else out
    if isinstance(node, ast.Primitive):
        q = node.qual
        out.add(("primitive", q.proto, q.dir, q.addr, type(node.operand).__name__))
    elif isinstance(node, ast.ProtoAbbrev):
        out.add(("proto", node.proto))
    elif isinstance(node, ast.Special):
        out.add(("special", node.kind, node.proto))
    elif isinstance(node, ast.Relation):
        out.add(("relation", node.op))
    elif isinstance(node, ast.Index):
        out.add(("index", node.proto, node.size))
    elif isinstance(node, ast.BinOp):
        out.add(("arith", node.op))
    elif isinstance(node, ast.Negate):
        out.add(("arith", "neg"))
    elif isinstance(node, ast.Length):
        out.add(("len",))
    for name in getattr(node, "_fields", ()):       # the AST's @frozen classes
        value = getattr(node, name)
        for child in value if isinstance(value, tuple) else (value,):
            if hasattr(child, "_fields"):
                families(child, out)
    return out


@dataclass(frozen=True)
class Case:
    linktype: int
    expression: str
    compiled: CompiledFilter


def supported(linktype: int) -> list[Case]:
    """Every corpus expression pycap compiles for ``linktype``, in corpus order."""
    cases = []
    for expr in corpus.expressions():
        try:
            cases.append(Case(linktype, expr, compile_filter(expr, linktype, offline=True)))
        except FilterError:
            continue
    return cases


def select(cases: list[Case], minimum: int = MIN_EXPRESSIONS) -> list[Case]:
    """A deterministic subset covering every (link type, family) pair that
    ``cases`` cover, topped up with evenly spaced others to ``minimum``."""
    covers = [{(c.linktype, *f) for f in families(c.compiled.tree)} for c in cases]
    needed = set().union(*covers) if covers else set()
    # lazy greedy set cover: a case's gain only shrinks, so a stale heap entry
    # that still beats the next one after recomputing is the true best
    heap = [(-len(cover), i) for i, cover in enumerate(covers)]
    heapq.heapify(heap)
    chosen: list[int] = []
    while needed and heap:
        _, i = heapq.heappop(heap)
        gain = len(covers[i] & needed)
        if heap and gain < -heap[0][0]:
            heapq.heappush(heap, (-gain, i))
            continue
        if gain:
            chosen.append(i)
            needed -= covers[i]
    taken = set(chosen)
    rest = [i for i in range(len(cases)) if i not in taken]
    missing = max(0, minimum - len(chosen))
    if missing and rest:
        step = max(1, len(rest) // missing)
        chosen += rest[::step][:missing]
    return [cases[i] for i in sorted(chosen)]


# ------------------------------------------------------------------------ runs


@dataclass
class Report:
    expressions: int = 0
    packets: int = 0               # (expression, packet) verdicts compared
    skipped_frames: int = 0        # larger than BPF_PROG_TEST_RUN takes
    compiles: int = 0
    compile_s: float = 0.0
    run_s: float = 0.0
    mismatches: list[tuple[str, str, str]] = field(default_factory=list)
    covered: set = field(default_factory=set)
    default_unloadable: list[tuple[int, str, str]] = field(default_factory=list)


def _batches(items: list[Case], size: int) -> Iterator[list[Case]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _frames(linktype: int) -> list[tuple[str, int, bytes, int]]:
    """(capture, 1-based index, data, wire length) of every corpus record."""
    return [(cap, i, data, wire_len) for cap in corpus.captures_of(linktype)
            for i, (data, wire_len) in enumerate(corpus.records(cap), 1)]


def check(cases: Iterable[Case], report: Report | None = None) -> Report:
    from pycap.kernel.bcc_loader import compile_functions
    from pycap.kernel.bpf import TEST_RUN_MAX_FRAME, run_socket_filter
    from pycap.linktype import link_info
    report = report or Report()
    by_linktype: dict[int, list[Case]] = {}
    for case in cases:
        by_linktype.setdefault(case.linktype, []).append(case)
    for linktype, group in by_linktype.items():
        frames = _frames(linktype)
        runnable = [f for f in frames if len(f[2]) <= TEST_RUN_MAX_FRAME]
        tag = link_info(linktype).name
        for batch in _batches(group, BATCH):
            functions = [CFunction(f"f{n}", c.compiled.predicate, c.compiled.snaplen, "cb0",
                                   c.expression, tag) for n, c in enumerate(batch)]
            t0 = time.monotonic()
            programs = compile_functions(c_program(functions), [f.name for f in functions])
            report.compile_s += time.monotonic() - t0
            report.compiles += 1
            t0 = time.monotonic()
            try:
                for function, case in zip(functions, batch):
                    report.expressions += 1
                    report.covered |= {(linktype, *f) for f in families(case.compiled.tree)}
                    report.skipped_frames += len(frames) - len(runnable)
                    bcc = programs[function.name]
                    reference = _reference(case, report)
                    try:
                        differ = []
                        for cap, index, data, wire_len in runnable:
                            want = reference(data, wire_len)
                            got = run_socket_filter(bcc, data, wire_len)
                            if got != want:
                                differ.append(f"{cap}#{index}: bcc {got} pycap {want}")
                    finally:
                        close = getattr(reference, "close", None)
                        if close:
                            close()
                    report.packets += len(runnable)
                    if differ:
                        report.mismatches.append((tag, case.expression, "; ".join(differ[:5])))
            finally:
                for program in programs.values():
                    program.close()
            report.run_s += time.monotonic() - t0
    return report


def _reference(case: Case, report: Report):
    """The default backend's program as a verdict function (data, wire_len) ->
    return value; the IR interpreter when the kernel refuses that program (a
    default-backend bug that test_conformance reports, not a BCC one)."""
    from pycap.errors import KernelError
    from pycap.ir.interp import matches
    from pycap.kernel.bpf import load_program, run_socket_filter
    try:
        program = load_program(case.compiled.bytecode)
    except KernelError as err:
        report.default_unloadable.append((case.linktype, case.expression, str(err)))
        snaplen, predicate = case.compiled.snaplen, case.compiled.predicate
        return lambda data, wire_len: snaplen if matches(predicate, data, wire_len) else 0

    class _Run:
        def __call__(self, data: bytes, wire_len: int) -> int:
            return run_socket_filter(program, data, wire_len)

        def close(self) -> None:
            program.close()
    return _Run()


def all_cases(full: bool) -> list[Case]:
    cases = [case for linktype in corpus.LINKTYPES for case in supported(linktype)]
    return cases if full else select(cases)


if __name__ == "__main__":
    cases = all_cases("--full" in sys.argv)
    if "--match" in sys.argv:
        word = sys.argv[sys.argv.index("--match") + 1]
        cases = [c for c in cases if word in c.expression]
    rep = check(cases)
    print(f"expressions {rep.expressions} (link type, family) pairs {len(rep.covered)} "
          f"verdicts {rep.packets} skipped frames {rep.skipped_frames} "
          f"compiles {rep.compiles} ({rep.compile_s:.1f} s) runs {rep.run_s:.1f} s "
          f"mismatches {len(rep.mismatches)}")
    for m in rep.default_unloadable[:10]:
        print("  DEFAULT BACKEND CANNOT LOAD", *m)
    for m in rep.mismatches[:40]:
        print("  MISMATCH", *m)
