"""In-kernel cost per packet of the same filters compiled three ways, measured
in the same run on the same frames with ``BPF_PROG_TEST_RUN``:

* pycap   -- pycap's own eBPF code generator (the default backend);
* bcc     -- pycap's C for the filter (``pycap -d c``) compiled by BCC's clang;
* libpcap -- tcpdump's optimized classic BPF (``tcpdump -ddd``), translated to
  eBPF the way the kernel's bpf_convert_filter() does (the "loadable" form of
  ../shared/perf/filter_cost.py: packet loads stay LD_ABS/LD_IND).

For each expression: instructions as compiled, instructions after the
verifier (``xlated``: every LD_ABS/LD_IND becomes a helper call), the mean
ns/run over the frames (each the median of ``--trials`` runs of ``--repeat``
repetitions), and the ratios.  Every frame's verdict must be the same for all
three, else the line is flagged.  Needs root, BPF, BCC (scripts/setup.sh
--bcc), tcpdump, and ../shared/perf/filter_cost.py (frames, expressions and
the cBPF translator).

    python benchmarks/bcc_cost.py                      # filter_cost.py's 38 expressions
    python benchmarks/bcc_cost.py --repeat 20000 --expr 'tcp port 80' --expr udp
    python benchmarks/bcc_cost.py --show 'tcp port 80' # the three programs, disassembled

Last run (2-core VM, kernel 6.18, BCC 0.26 / clang 14, 15 frames, repeat
100000, median of 3, pinned to CPU 1): mean over the 38 filters pycap 50.4
ns/run, bcc 51.3, libpcap 51.9 (the empty filter, i.e. the test-run floor, is
34 ns).  clang beats pycap clearly in one place: ``vlan 100 and tcp port 80``
(34.5 vs 50.5 ns), because pycap copies the leading packet bytes to the
stack with bpf_skb_load_bytes before the ``__sk_buff`` vlan tests that reject
every frame here, where clang tests the context fields first and never reads
the packet; on ``ip6 host``-style filters the same copy costs pycap a few ns
on the frames one ethertype load rejects (within run-to-run noise, ~5 %).
clang loses by 5-15 % on port filters: every load carries its explicit length
check (two instructions), and pycap's one copy of the headers replaces
several LD_ABS helper calls.  Before the length checks, a volatile barrier
per load stopped clang from loading a field once: the 40-port filter cost
782 ns, now 73.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pycap.bpf.asm import decode, disassemble_one  # noqa: E402
from pycap.bpf.c_backend import CFunction, c_program  # noqa: E402
from pycap.compiler import compile_filter  # noqa: E402
from pycap.kernel.bcc_loader import compile_functions  # noqa: E402
from pycap.kernel.bpf import dummy_ethernet_header, load_program  # noqa: E402

PERF = ROOT.parent / "shared" / "perf"


def perf_module(path: Path):
    spec = importlib.util.spec_from_file_location("filter_cost", path / "filter_cost.py")
    if spec is None or not (path / "filter_cost.py").is_file():
        sys.exit(f"bcc_cost.py: {path}/filter_cost.py not found (use --perf-dir)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def libpcap_program(fc, expr: str, pcap: str):
    """tcpdump's cBPF for ``expr`` as loadable eBPF bytes, or None."""
    try:
        cbpf = fc.tcpdump_cbpf(expr, pcap)
        return b"".join(i.enc() for i in fc.convert(cbpf, "loadable"))
    except (ValueError, fc.Unsupported):
        return None


def xlated(fc, fd: int) -> int:
    return fc.prog_info(fd)["xlated_insns"]


def time_program(program, frames: list[bytes], repeat: int, trials: int) -> tuple[list[int], float]:
    """(verdict per frame, mean over frames of the median ns/run)."""
    verdicts, per_frame = [], []
    for frame in frames:
        data = dummy_ethernet_header() + frame
        runs = [program.test_run(data, repeat=repeat) for _ in range(trials)]
        verdicts.append(runs[0].retval)
        per_frame.append(statistics.median(r.duration_ns for r in runs))
    return verdicts, statistics.mean(per_frame)


def disasm(blob: bytes) -> str:
    lines = []
    for pc, insn in enumerate(decode(blob)):
        try:
            text = disassemble_one(insn, pc)
        except (KeyError, ValueError):
            text = f".insn {insn.code:#04x} {insn.dst} {insn.src} {insn.off} {insn.imm}"
        lines.append(f"({pc:03d}) {text}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=100000)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--expr", action="append", help="expression(s) instead of filter_cost's list")
    ap.add_argument("--cpu", type=int, help="pin to this CPU")
    ap.add_argument("--perf-dir", type=Path, default=PERF)
    ap.add_argument("--show", metavar="EXPR", help="print the three programs for EXPR and exit")
    args = ap.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    fc = perf_module(args.perf_dir)
    frames = [f for _, f in fc.make_frames()]
    tmp = tempfile.mkdtemp(prefix="bcc_cost.")
    pcap = os.path.join(tmp, "frames.pcap")
    fc.write_pcap(pcap, fc.make_frames())

    exprs = [args.show] if args.show else (args.expr or fc.EXPRS)
    compiled = {e: compile_filter(e) for e in exprs}
    functions = [CFunction(f"f{i}", c.predicate, c.snaplen, "len", e)
                 for i, (e, c) in enumerate(compiled.items())]
    bcc = compile_functions(c_program(functions), [f.name for f in functions])

    if args.show:
        c = compiled[args.show]
        print(f"pycap ({len(c.insns)} insns):\n{disasm(c.bytecode)}\n")
        print(f"bcc ({bcc['f0'].insn_count} insns):\n{disasm(bcc['f0'].bytecode)}\n")
        lib = libpcap_program(fc, args.show, pcap)
        if lib is not None:
            print(f"libpcap ({len(lib) // 8} insns):\n{disasm(lib)}")
        return

    print(f"{len(frames)} frames, repeat {args.repeat}, median of {args.trials}; "
          f"kernel {os.uname().release}")
    head = (f"| expression | insns pycap / bcc / libpcap | xlated pycap / bcc / libpcap "
            f"| ns/run pycap | bcc | libpcap | bcc/pycap | libpcap/pycap |")
    print(head)
    print("|" + "---|" * 9)
    totals = {"pycap": [], "bcc": [], "libpcap": []}
    for function, (expr, c) in zip(functions, compiled.items()):
        ours = load_program(c.bytecode)
        theirs = bcc[function.name]
        lib_bytes = libpcap_program(fc, expr, pcap)
        lib = load_program(lib_bytes) if lib_bytes is not None else None
        v_ours, ns_ours = time_program(ours, frames, args.repeat, args.trials)
        v_bcc, ns_bcc = time_program(theirs, frames, args.repeat, args.trials)
        insns = [str(len(c.insns)), str(theirs.insn_count), "-"]
        xl = [str(xlated(fc, ours.fd)), str(xlated(fc, theirs.fd)), "-"]
        ns_lib = None
        flag = "" if v_ours == v_bcc else " **bcc verdicts differ**"
        if lib is not None:
            v_lib, ns_lib = time_program(lib, frames, args.repeat, args.trials)
            insns[2], xl[2] = str(len(lib_bytes) // 8), str(xlated(fc, lib.fd))
            if [bool(v) for v in v_lib] != [bool(v) for v in v_ours]:
                flag += " **libpcap verdicts differ**"
            lib.close()
        ours.close()
        theirs.close()
        totals["pycap"].append(ns_ours)
        totals["bcc"].append(ns_bcc)
        if ns_lib is not None:
            totals["libpcap"].append(ns_lib)
        lib_ns = f"{ns_lib:.1f}" if ns_lib is not None else "-"
        lib_ratio = f"{ns_lib / ns_ours:.2f}" if ns_lib is not None else "-"
        print(f"| `{expr or '(empty)'}`{flag} | {' / '.join(insns)} | {' / '.join(xl)} "
              f"| {ns_ours:.1f} | {ns_bcc:.1f} | {lib_ns} | {ns_bcc / ns_ours:.2f} | {lib_ratio} |",
              flush=True)
    for name, values in totals.items():
        if values:
            print(f"{name}: mean {statistics.mean(values):.1f} ns/run over {len(values)} filters")


if __name__ == "__main__":
    main()
