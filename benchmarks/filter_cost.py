#!/usr/bin/env python3
"""pycap's compiled filters against libpcap's, measured side by side in one run.

    sudo python benchmarks/filter_cost.py [--quick] [--json PATH] [--cpu N]

Needs root (bpf(2)), gcc and libpcap-dev (for benchmarks/pcapc.c, built into
benchmarks/.build on first use).  Prints markdown tables; --json writes every
number.  Three parts (see benchmarks/README.md for the method):

1. **In-kernel cost**, for the expressions of the perf baseline table
   (shared/perf/results/filter_cost.md) on the same 15-frame mix: pycap's live
   program (``compile_filter(expr, offline=False)``) and libpcap's optimized
   cBPF converted the way the kernel does (``loaded`` form), both loaded as
   BPF_PROG_TYPE_SOCKET_FILTER and timed with BPF_PROG_TEST_RUN on the same
   frames, interleaved (per frame, pycap and libpcap back to back, order
   alternating; expression order shuffled each round), several rounds,
   median per frame, net of the harness floor (the smallest program, timed in
   every round; each side's empty filter is shown and used too).  Return
   values are checked against each other and against libpcap's interpreter.
2. **Compile time**: ``compile_filter`` against ``pcap_compile`` (pcapc bench,
   in process, same calibrated loop), interleaved per expression; and the
   distribution over every corpus expression on EN10MB.
3. **Instructions over the corpus**: pycap's count against the eBPF that
   libpcap's cBPF becomes when loaded, with the raw cBPF count beside it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import libpcap_ebpf as L  # noqa: E402
from pycap.compiler import compile_filter  # noqa: E402
from pycap.errors import FilterError, KernelError  # noqa: E402
from pycap.kernel.bpf import TEST_RUN_MAX_FRAME, dummy_ethernet_header, load_program  # noqa: E402

LINKTYPE_EN10MB = 1
SNAPLEN = 262144

PORTS10 = " or ".join("port %d" % p for p in range(1, 11))
PORTS40 = " or ".join("port %d" % p for p in range(1, 41))

# The expressions of shared/perf/results/filter_cost.md, in its order.
EXPRS = [
    "",
    "tcp",
    "udp",
    "ip",
    "ip6",
    "arp",
    "icmp",
    "icmp6",
    "port 443",
    "tcp port 443",
    "tcp dst port 443",
    "host 1.2.3.4",
    "src host 10.0.0.1 and dst host 1.2.3.4",
    "net 10.0.0.0/8",
    "net 10.0.0.0/8 and not port 22",
    "tcp port 80 or udp port 53",
    "ip[2:2] > 576",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and not src net 192.168.0.0/16",
    "vlan and tcp",
    "vlan 100 and tcp port 80",
    "ip6 and tcp port 443",
    "ip6 host 2001:db8::1",
    "ip6 net 2001:db8::/32 and udp",
    "ip host 10.0.0.1 or ip6 host 2001:db8::1",
    "portrange 1024-65535",
    "tcp port (80 or 443 or 8080 or 8443)",
    PORTS10,
    PORTS40,
    "ether host 02:00:00:00:00:01",
    "ether broadcast or ether multicast",
    "less 128",
    "greater 1000",
    "ip proto 47",
    "ip[6:2] & 0x1fff != 0",
    "not ip and not ip6",
    "udp and udp[8:4] = 0x12345678",
    "tcp and tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
]

# Both sides get exactly these bytes in front of each frame (as run_socket_filter
# does): BPF_PROG_TEST_RUN runs eth_type_trans() on a socket filter's input, which
# strips 14 bytes, so the program sees the real frame at offset 0.
DUMMY_ETH = dummy_ethernet_header()

# ------------------------------------------------------------------ pcapc (libpcap)

PCAPC_SRC = HERE / "pcapc.c"
BUILD = HERE / ".build"
PCAPC = BUILD / "pcapc"


def ensure_pcapc() -> Path:
    """Build benchmarks/.build/pcapc from pcapc.c if missing or stale."""
    if PCAPC.exists() and PCAPC.stat().st_mtime >= PCAPC_SRC.stat().st_mtime:
        return PCAPC
    if not Path("/usr/include/pcap/pcap.h").exists():
        sys.exit("filter_cost.py: libpcap-dev is missing, so benchmarks/pcapc.c cannot be built.\n"
                 "    apt-get install -y libpcap-dev gcc")
    if shutil.which("gcc") is None:
        sys.exit("filter_cost.py: gcc is missing (apt-get install -y gcc)")
    BUILD.mkdir(exist_ok=True)
    cmd = ["gcc", "-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter", "-o", str(PCAPC),
           str(PCAPC_SRC), "-lpcap"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("filter_cost.py: building pcapc failed:\n%s\n%s" % (" ".join(cmd), r.stderr))
    print("built %s" % PCAPC.relative_to(ROOT), file=sys.stderr)
    return PCAPC


def pcapc_dump(exprs: list[str], linktype: int = LINKTYPE_EN10MB) -> dict[str, list | str]:
    """libpcap's optimized cBPF for each expression (one batch process):
    expr -> [(code, jt, jf, k), ...] or the error string."""
    r = subprocess.run([str(ensure_pcapc()), "dump", "-l", str(linktype), "-s", str(SNAPLEN)],
                       input="".join(e + "\n" for e in exprs), capture_output=True, text=True, check=True)
    out = {}
    for line in r.stdout.splitlines():
        d = json.loads(line)
        out[d["expr"]] = [tuple(i) for i in d["insns"]] if d["ok"] else d["error"]
    return out


def pcapc_verdicts(expr: str, pcap: str) -> list[int]:
    """libpcap's own interpreter (bpf_filter) on every record of ``pcap``."""
    r = subprocess.run([str(ensure_pcapc()), "verdict", expr, pcap], capture_output=True, text=True)
    if r.returncode != 0:
        raise ValueError(r.stderr.strip())
    return [int(x) for x in r.stdout.split()]


class PcapcBench:
    """A running ``pcapc bench``: one expression in, one JSON line out, so that
    libpcap's compile-time measurements interleave with pycap's."""

    def __init__(self, target_s: float, repeats: int):
        self.proc = subprocess.Popen(
            [str(ensure_pcapc()), "bench", "-T", str(target_s), "-r", str(repeats)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def measure(self, expr: str) -> dict:
        assert "\n" not in expr
        self.proc.stdin.write(expr + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()

# ------------------------------------------------------------------ programs


class Loaded:
    """One side's program for one expression: its instructions and the loaded Program."""

    def __init__(self, side: str, insns: int, prog, extra: dict | None = None):
        self.side, self.insns, self.prog = side, insns, prog
        self.info = L.prog_info(prog.fd)
        self.extra = extra or {}


def load_pycap(expr: str, linktype: int = LINKTYPE_EN10MB, offline: bool = False) -> Loaded:
    """pycap's program as a capture would attach it (live form unless ``offline``)."""
    cf = compile_filter(expr, linktype, SNAPLEN, offline=offline)
    prog = load_program(cf.bytecode, name="pycap_bench")
    return Loaded("pycap_offline" if offline else "pycap", len(cf.insns), prog)


def load_libpcap(cbpf: list) -> Loaded:
    """libpcap's cBPF as the kernel converts it, in the verifier-loadable form."""
    loaded = L.convert(cbpf, "loadable")
    kernel = L.convert(cbpf, "kernel")
    prog = load_program(L.encode(loaded), name="libpcap_bench")
    return Loaded("libpcap", len(loaded), prog, {"cbpf_insns": len(cbpf), "kernel_form_insns": len(kernel)})


def frame_inputs(frames: list[tuple[str, bytes]]) -> list[bytes]:
    for name, f in frames:
        if len(f) > TEST_RUN_MAX_FRAME:
            raise ValueError("frame %s too long for BPF_PROG_TEST_RUN" % name)
    return [DUMMY_ETH + f for _, f in frames]


def measure_pycap(expr: str, repeat: int = 1000, frames: list | None = None) -> dict:
    """pycap's side of part 1 for one expression: compile (live), load, run every
    frame of the mix once with ``repeat`` repetitions.  (Used by the smoke test.)"""
    frames = frames if frames is not None else L.make_frames()
    ld = load_pycap(expr)
    try:
        runs = [ld.prog.test_run(d, repeat) for d in frame_inputs(frames)]
    finally:
        ld.prog.close()
    return {"expr": expr, "insns": ld.insns, "xlated_insns": ld.info["xlated_insns"],
            "retvals": [r.retval for r in runs], "ns": [r.duration_ns for r in runs],
            "ns_mean": statistics.mean(r.duration_ns for r in runs)}

# ------------------------------------------------------------------ part 1: run time


def run_interleaved(entries: list[dict], datas: list[bytes], repeat: int, rounds: int, seed: int = 1) -> None:
    """Fill entry["ns"][side][frame] (one sample per round) and entry["retval"][side][frame].

    Per round the expression order is shuffled; per frame every side of the
    expression runs back to back, the order alternating with round and frame.
    """
    for ent in entries:
        ent["ns"] = {s: [[] for _ in datas] for s in ent["progs"]}
        ent["retval"] = {s: [None] * len(datas) for s in ent["progs"]}
    t0 = time.monotonic()
    for r in range(rounds):
        order = list(entries)
        random.Random(seed + r).shuffle(order)
        for ent in order:
            sides = list(ent["progs"].items())
            for fi, data in enumerate(datas):
                for side, ld in (sides if (r + fi) % 2 == 0 else sides[::-1]):
                    res = ld.prog.test_run(data, repeat)
                    ent["ns"][side][fi].append(res.duration_ns)
                    prev = ent["retval"][side][fi]
                    if prev is not None and prev != res.retval:
                        raise RuntimeError("non-deterministic verdict for %r" % ent["expr"])
                    ent["retval"][side][fi] = res.retval
        print("  round %d/%d done, %.0f s, load %s" % (r + 1, rounds, time.monotonic() - t0,
                                                        os.getloadavg()[0]), file=sys.stderr, flush=True)


# The harness floor: the smallest socket filter there is (``w0 = 0x40000; exit``).
# Its TEST_RUN time is the per-run overhead of the harness, common to both sides.
FLOOR = struct.pack("<BBhi", 0xB4, 0, 0, SNAPLEN) + struct.pack("<BBhi", 0x95, 0, 0, 0)
FLOOR_EXPR = "(harness floor)"


def summarize_side(ent: dict, side: str) -> dict:
    samples = ent["ns"][side]
    per_frame = [statistics.median(s) for s in samples]
    rounds = len(samples[0])
    return {"ns_per_frame_median": per_frame, "ns_mean": statistics.mean(per_frame),
            "ns_round_means": [statistics.mean(s[r] for s in samples) for r in range(rounds)]}


def net_of(out: dict, b: dict, prefix: str) -> None:
    """out[prefix...] = out's figures minus baseline summary b's."""
    out[prefix] = out["ns_mean"] - b["ns_mean"]
    net_frames = [a - c for a, c in zip(out["ns_per_frame_median"], b["ns_per_frame_median"])]
    out[prefix + "_worst_frame"] = max(net_frames)
    out[prefix + "_best_frame"] = min(net_frames)
    out[prefix + "_rounds"] = [a - c for a, c in zip(out["ns_round_means"], b["ns_round_means"])]


def part_runtime(exprs: list[str], frames, repeat: int, rounds: int, pcap: str) -> dict:
    cbpf = pcapc_dump(exprs)
    datas = frame_inputs(frames)
    entries = []
    for expr in exprs:
        ent = {"expr": expr, "progs": {}}
        try:
            ent["progs"]["pycap"] = load_pycap(expr)
        except (FilterError, KernelError) as e:
            ent["pycap_error"] = str(e)
        c = cbpf[expr]
        if isinstance(c, str):
            ent["libpcap_error"] = c
        else:
            try:
                ent["progs"]["libpcap"] = load_libpcap(c)
                ent["libpcap_interpreter"] = pcapc_verdicts(expr, pcap)
            except (L.Unsupported, ValueError, KernelError) as e:
                ent["libpcap_error"] = str(e)
        entries.append(ent)
    entries.append({"expr": FLOOR_EXPR, "progs": {"floor": Loaded("floor", 2, load_program(FLOOR, name="floor"))}})
    # Verdicts first (repeat 1): where pycap's live program disagrees with libpcap's
    # offline one (the offloaded-VLAN semantics of a live capture), time pycap's
    # offline form too, so that both programs doing the same work are compared.
    for ent in entries:
        p, lp = ent["progs"].get("pycap"), ent["progs"].get("libpcap")
        if p and lp and ent["expr"]:
            pv = [p.prog.test_run(d, 1).retval for d in datas]
            lv = [lp.prog.test_run(d, 1).retval for d in datas]
            if pv != lv:
                ent["progs"]["pycap_offline"] = load_pycap(ent["expr"], offline=True)
    print("part 1: %d expressions x %d frames x %d rounds, repeat %d" % (len(entries), len(datas), rounds, repeat),
          file=sys.stderr, flush=True)
    run_interleaved(entries, datas, repeat, rounds)
    for ent in entries:
        ent["summary"] = {side: summarize_side(ent, side) for side in ent["progs"]}
    floor = entries[-1]["summary"]["floor"]
    empty = next((e["summary"] for e in entries if e["expr"] == ""), {})
    for ent in entries:
        for side, sm in ent["summary"].items():
            net_of(sm, floor, "net")
            own = empty.get("libpcap" if side == "libpcap" else "pycap")
            if own is not None:
                net_of(sm, own, "net_own")
    rows = []
    for ent in entries:
        row = {"expr": ent["expr"]}
        for k in ("pycap_error", "libpcap_error", "libpcap_interpreter"):
            if k in ent:
                row[k] = ent[k]
        row["summary"] = {}
        for side, ld in ent["progs"].items():
            row[side] = {"insns": ld.insns, **ld.info, **ld.extra}
            row[side]["retvals"] = ent["retval"][side]
        row["summary"] = ent["summary"]
        row["matches"] = {s: sum(1 for v in ent["retval"][s] if v) for s in ent["progs"]}
        if "pycap" in ent["progs"] and "libpcap" in ent["progs"]:
            pv, lv = ent["retval"]["pycap"], ent["retval"]["libpcap"]
            row["verdicts_equal"] = pv == lv
            row["differing_frames"] = [frames[i][0] for i in range(len(frames)) if pv[i] != lv[i]]
            row["libpcap_equals_interpreter"] = lv == ent.get("libpcap_interpreter")
            if "pycap_offline" in ent["progs"]:
                row["offline_verdicts_equal"] = ent["retval"]["pycap_offline"] == lv
        rows.append(row)
        for ld in ent["progs"].values():
            ld.prog.close()
    return {"floor_ns": floor["ns_mean"], "empty_ns": {s: v["ns_mean"] for s, v in empty.items()},
            "rows": rows[:-1], "floor": rows[-1]}


def runtime_goals(part: dict, key: str = "net") -> dict:
    """The issue's goals on net figures: ``key`` "net" (minus the common harness
    floor) or "net_own" (minus each side's own empty filter)."""
    rows = [r for r in part["rows"] if r["expr"] and "pycap" in r["summary"] and "libpcap" in r["summary"]]
    deltas, ratios, slower, names = [], [], [], []
    for r in rows:
        p, lp = r["summary"]["pycap"].get(key), r["summary"]["libpcap"].get(key)
        if p is None or lp is None:
            continue
        deltas.append(p - lp)
        names.append(r["expr"])
        if lp > 0:
            ratios.append(p / lp)
        if p > lp + 2:
            slower.append(r["expr"])
    return {"expressions": len(deltas), "median_ratio": statistics.median(ratios) if ratios else None,
            "median_delta_ns": statistics.median(deltas) if deltas else None,
            "worst_delta_ns": max(deltas) if deltas else None,
            "worst_delta_expr": names[deltas.index(max(deltas))] if deltas else None,
            "slower_by_more_than_2ns": slower}

# ------------------------------------------------------------------ part 2: compile time


def time_pycap_compile(expr: str, target_s: float, repeats: int) -> list[float]:
    """µs per compile_filter(expr) (live, EN10MB): a loop calibrated to about
    target_s per measurement, ``repeats`` measurements (as pcapc bench does)."""
    compile_filter(expr)
    iters = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(iters):
            compile_filter(expr)
        dt = time.perf_counter() - t0
        if dt >= target_s / 4 or iters >= 1 << 20:
            iters = max(1, int(iters * target_s / dt)) if dt > 0 else iters * 2
            break
        iters *= 4
    out = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(iters):
            compile_filter(expr)
        out.append((time.perf_counter() - t0) * 1e6 / iters)
    return out


def part_compile(exprs: list[str], target_s: float, repeats: int) -> list[dict]:
    bench = PcapcBench(target_s, repeats)
    rows = []
    try:
        for expr in exprs:
            row = {"expr": expr}
            try:
                us = time_pycap_compile(expr, target_s, repeats)
                row["pycap_us"] = us
                row["pycap_us_median"] = statistics.median(us)
            except FilterError as e:
                row["pycap_error"] = str(e)
            lp = bench.measure(expr)
            if lp.get("ok"):
                row["libpcap_us"] = lp["us_per_compile"]
                row["libpcap_us_median"] = lp["us_median"]
            else:
                row["libpcap_error"] = lp.get("error")
            rows.append(row)
            print("  compile %-50.50s pycap %8s µs  libpcap %8s µs" % (
                expr or "(empty)", "%.1f" % row["pycap_us_median"] if "pycap_us_median" in row else "-",
                "%.1f" % row["libpcap_us_median"] if "libpcap_us_median" in row else "-"),
                file=sys.stderr, flush=True)
    finally:
        bench.close()
    return rows


def pctl(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * len(s) + 0.5)) - 1))]


def dist(values: list[float]) -> dict:
    return {"n": len(values), "median": statistics.median(values), "p90": pctl(values, 90),
            "p99": pctl(values, 99), "max": max(values)}


def part_corpus(exprs: list[str], samples: int, libpcap_target_s: float, load_xlated: bool) -> dict:
    """Per corpus expression (EN10MB): pycap compile time and instructions; libpcap
    compile time, cBPF, loaded and kernel-form eBPF; optionally both xlated counts."""
    cbpf = pcapc_dump(exprs)
    bench = PcapcBench(libpcap_target_s, 3)
    rows = []
    t0 = time.monotonic()
    try:
        for i, expr in enumerate(exprs):
            row = {"expr": expr}
            try:
                t = time.perf_counter()
                cf = compile_filter(expr)  # first compile of this expression
                row["pycap_first_us"] = (time.perf_counter() - t) * 1e6
                ts = []
                for _ in range(samples):
                    t = time.perf_counter()
                    compile_filter(expr)
                    ts.append((time.perf_counter() - t) * 1e6)
                row["pycap_us"] = statistics.median(ts)
                row["pycap_insns"] = len(cf.insns)
                if load_xlated:
                    with load_program(cf.bytecode, name="pycap_bench") as p:
                        row["pycap_xlated"] = L.prog_info(p.fd)["xlated_insns"]
            except FilterError as e:
                row["pycap_error"] = str(e)
            except KernelError as e:
                row["pycap_load_error"] = str(e)
            c = cbpf.get(expr, "no output from pcapc")
            if isinstance(c, str):
                row["libpcap_error"] = c
            else:
                row["libpcap_cbpf"] = len(c)
                try:
                    loaded = L.convert(c, "loadable")
                    row["libpcap_loaded"] = len(loaded)
                    row["libpcap_kernel_form"] = len(L.convert(c, "kernel"))
                    if load_xlated:
                        with load_program(L.encode(loaded), name="libpcap_bench") as p:
                            row["libpcap_xlated"] = L.prog_info(p.fd)["xlated_insns"]
                except (L.Unsupported, ValueError) as e:
                    row["libpcap_convert_error"] = str(e)
                except KernelError as e:
                    row["libpcap_load_error"] = str(e)
                if "pycap_us" in row:  # libpcap's compile time where both compile
                    lp = bench.measure(expr)
                    if lp.get("ok"):
                        row["libpcap_us"] = lp["us_median"]
            rows.append(row)
            if (i + 1) % 200 == 0:
                print("  corpus %d/%d, %.0f s" % (i + 1, len(exprs), time.monotonic() - t0), file=sys.stderr,
                      flush=True)
    finally:
        bench.close()
    return {"rows": rows, "summary": corpus_summary(rows)}


def corpus_summary(rows: list[dict]) -> dict:
    s: dict = {"expressions": len(rows)}
    ok = [r for r in rows if "pycap_us" in r]
    s["pycap_compiles"] = len(ok)
    s["pycap_filter_errors"] = sum(1 for r in rows if "pycap_error" in r)
    s["pycap_compile_us"] = dist([r["pycap_us"] for r in ok])
    s["pycap_first_compile_us"] = dist([r["pycap_first_us"] for r in ok])
    s["pycap_over_10ms"] = sorted((r["pycap_us"], r["expr"]) for r in ok if r["pycap_us"] > 10000)
    s["pycap_slowest"] = sorted(((r["pycap_us"], r["expr"]) for r in ok), reverse=True)[:5]
    lp = [r for r in ok if "libpcap_us" in r]
    if lp:
        s["libpcap_compile_us"] = dist([r["libpcap_us"] for r in lp])
        s["both_compile_n"] = len(lp)
        s["pycap_compile_us_same_set"] = dist([r["pycap_us"] for r in lp])
    both = [r for r in ok if "pycap_insns" in r and "libpcap_loaded" in r]
    s["libpcap_rejects_pycap_compiles"] = sum(1 for r in ok if "libpcap_error" in r)
    s["libpcap_reject_examples"] = [(r["expr"], r["libpcap_error"]) for r in ok if "libpcap_error" in r][:3]
    s["libpcap_unconvertible"] = sum(1 for r in ok if "libpcap_convert_error" in r or "libpcap_load_error" in r)
    why: dict = {}
    for r in ok:
        e = r.get("libpcap_convert_error") or r.get("libpcap_load_error")
        if e:
            why.setdefault(e.splitlines()[0], []).append(r["expr"])
    s["libpcap_unconvertible_why"] = {k: "%d, e.g. %s" % (len(v), q(v[0])) for k, v in why.items()}
    s["compared"] = len(both)
    if both:
        n = len(both)
        s["share_le_loaded"] = sum(r["pycap_insns"] <= r["libpcap_loaded"] for r in both) / n
        s["share_le_cbpf"] = sum(r["pycap_insns"] <= r["libpcap_cbpf"] for r in both) / n
        s["share_le_kernel_form"] = sum(r["pycap_insns"] <= r["libpcap_kernel_form"] for r in both) / n
        ratios = [r["pycap_insns"] / r["libpcap_loaded"] for r in both]
        s["ratio_to_loaded"] = dist(ratios)
        s["pycap_insns"] = dist([r["pycap_insns"] for r in both])
        s["libpcap_cbpf"] = dist([r["libpcap_cbpf"] for r in both])
        s["libpcap_loaded"] = dist([r["libpcap_loaded"] for r in both])
        s["worst"] = [{k: r.get(k) for k in ("expr", "pycap_insns", "libpcap_cbpf", "libpcap_loaded",
                                             "pycap_xlated", "libpcap_xlated")}
                      for r in sorted(both, key=lambda r: (r["pycap_insns"] - r["libpcap_loaded"],
                                                           r["pycap_insns"] / r["libpcap_loaded"]),
                                      reverse=True)[:12]]
        x = [r for r in both if "pycap_xlated" in r and "libpcap_xlated" in r]
        if x:
            s["xlated_compared"] = len(x)
            s["share_xlated_le"] = sum(r["pycap_xlated"] <= r["libpcap_xlated"] for r in x) / len(x)
            s["pycap_xlated"] = dist([r["pycap_xlated"] for r in x])
            s["libpcap_xlated"] = dist([r["libpcap_xlated"] for r in x])
    return s

# ------------------------------------------------------------------ output


def q(expr: str) -> str:
    e = expr or "(empty)"
    if len(e) > 70:
        e = e[:40] + " … " + e[-20:]
    return "`%s`" % e.replace("|", "\\|")


def f1(x) -> str:
    return "-" if x is None else "%.1f" % x


def render(res: dict) -> str:
    out = []
    m = res["meta"]
    out.append("## pycap vs libpcap: filter cost\n")
    out.append("%s, kernel %s, %d CPUs, bpf_jit_enable=%s, pycap %s; load average %s at start, %s at end.\n" % (
        m["date"], m["kernel"], m["cpus"], m["jit_enable"], m["pycap_rev"], m["loadavg_start"],
        m.get("loadavg_end")))
    rt = res.get("runtime")
    if rt:
        out.append("### 1. In-kernel cost (BPF_PROG_TEST_RUN, %d frames, repeat %d, %d interleaved rounds)\n" % (
            len(m["frames"]), m["repeat"], m["rounds"]))
        e = rt["empty_ns"]
        out.append("Harness floor (`w0 = 0x40000; exit`, measured in every round like an expression): %.1f ns per run. "
                   "**net** = ns/run minus this floor, for both sides alike; Δ = pycap − libpcap. The empty filters "
                   "cost pycap %s ns, libpcap %s ns net; *own* = net of each side's own empty filter instead (the "
                   "baseline table's convention). ns = mean over the 15 frames of the per-frame median over rounds.\n" % (
                       rt["floor_ns"], f1(e.get("pycap", 0) - rt["floor_ns"]) if e else "-",
                       f1(e.get("libpcap", 0) - rt["floor_ns"]) if e else "-"))
        out.append("| expression | pycap insns | libpcap cBPF | libpcap loaded | libpcap kernel form | pycap xlated | "
                   "libpcap xlated | matched frames | verdicts |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for r in rt["rows"]:
            p, lp = r.get("pycap"), r.get("libpcap")
            if not (p and lp):
                out.append("| %s | %s |" % (q(r["expr"]), r.get("pycap_error") or r.get("libpcap_error")))
                continue
            verd = "=" if r["verdicts_equal"] else "differ: %s" % ", ".join(r["differing_frames"])
            if not r.get("libpcap_equals_interpreter", True):
                verd += " (libpcap loaded ≠ its interpreter!)"
            out.append("| %s | %d | %d | %d | %d | %d | %d | %d | %s |" % (
                q(r["expr"]), p["insns"], lp["cbpf_insns"], lp["insns"], lp["kernel_form_insns"], p["xlated_insns"],
                lp["xlated_insns"], r["matches"]["pycap"], verd))
        out.append("")
        out.append("| expression | pycap ns net | libpcap ns net | ratio | Δ ns | own: pycap / libpcap | "
                   "worst frame p / l | rounds min–max p / l |")
        out.append("|---|---|---|---|---|---|---|---|")
        for r in rt["rows"]:
            ps, ls = r["summary"].get("pycap"), r["summary"].get("libpcap")
            if not (ps and ls):
                continue
            ratio = ps["net"] / ls["net"] if ls["net"] >= 1 else None
            out.append("| %s | %.1f | %.1f | %s | %+.1f | %s / %s | %.0f / %.0f | %.0f–%.0f / %.0f–%.0f |" % (
                q(r["expr"]), ps["net"], ls["net"], "%.2f" % ratio if ratio is not None else "-",
                ps["net"] - ls["net"], f1(ps.get("net_own")), f1(ls.get("net_own")), ps["net_worst_frame"],
                ls["net_worst_frame"], min(ps["net_rounds"]), max(ps["net_rounds"]), min(ls["net_rounds"]),
                max(ls["net_rounds"])))
        off = [r for r in rt["rows"] if "pycap_offline" in r["summary"]]
        if off:
            out.append("\nWhere pycap's live program decides differently from libpcap's offline one on these "
                       "frames, pycap's offline form (`offline=True`, same frames, same rounds):\n")
            out.append("| expression | pycap offline insns | ns net | libpcap ns net | ratio | verdicts = libpcap |")
            out.append("|---|---|---|---|---|---|")
            for r in off:
                po, ls = r["summary"]["pycap_offline"], r["summary"]["libpcap"]
                out.append("| %s | %d | %.1f | %.1f | %s | %s |" % (
                    q(r["expr"]), r["pycap_offline"]["insns"], po["net"], ls["net"],
                    "%.2f" % (po["net"] / ls["net"]) if ls["net"] > 0 else "-",
                    "yes" if r.get("offline_verdicts_equal") else "no"))
        for g, what in ((rt["goals"], "net of the harness floor"),
                        (rt.get("goals_own_empty"), "net of each side's own empty filter")):
            if not g or not g["expressions"]:
                continue
            out.append("\nGoal check, %s (%d expressions): median ratio pycap/libpcap = %s (goal ≤ 0.70); "
                       "median Δ = %+.1f ns; worst Δ = %+.1f ns on %s; slower than libpcap by more than 2 ns "
                       "(goal: none): %s." % (
                           what, g["expressions"], "%.2f" % g["median_ratio"] if g["median_ratio"] is not None else "-",
                           g["median_delta_ns"], g["worst_delta_ns"], q(g["worst_delta_expr"]),
                           ", ".join(q(e) for e in g["slower_by_more_than_2ns"]) or "none"))
        out.append("")
    cp = res.get("compile")
    if cp:
        out.append("### 2. Compile time (µs per compile, median of %d calibrated loops of ~%.2f s, interleaved)\n" % (
            m["compile_repeats"], m["compile_target_s"]))
        out.append("| expression | pycap µs | libpcap µs (pcap_compile -O) | pycap / libpcap | pycap spread |")
        out.append("|---|---|---|---|---|")
        for r in cp:
            pu, lu = r.get("pycap_us_median"), r.get("libpcap_us_median")
            spread = (max(r["pycap_us"]) - min(r["pycap_us"])) / pu * 100 if pu else None
            out.append("| %s | %s | %s | %s | %s |" % (
                q(r["expr"]), f1(pu) if pu is not None else r.get("pycap_error"),
                f1(lu) if lu is not None else r.get("libpcap_error"),
                "%.2f" % (pu / lu) if pu and lu else "-", "%.0f%%" % spread if spread is not None else "-"))
        pm = [r["pycap_us_median"] for r in cp if r["expr"] and "pycap_us_median" in r]
        lm = [r["libpcap_us_median"] for r in cp if r["expr"] and "libpcap_us_median" in r]
        p40 = next((r for r in cp if r["expr"] == PORTS40), None)
        out.append("\nMedian over these expressions: pycap %s µs, libpcap %s µs. 40-port `or` chain: pycap %s µs "
                   "(goal < 2000), libpcap %s µs.\n" % (
                       f1(statistics.median(pm)) if pm else "-", f1(statistics.median(lm)) if lm else "-",
                       f1(p40.get("pycap_us_median")) if p40 else "-", f1(p40.get("libpcap_us_median")) if p40 else "-"))
    co = res.get("corpus")
    if co:
        s = co["summary"]
        out.append("### 2b. Compile time over the corpus (EN10MB; %d expressions, %d compile in pycap, %d FilterError)\n"
                   % (s["expressions"], s["pycap_compiles"], s["pycap_filter_errors"]))
        out.append("| µs per compile | n | median | p90 | p99 | max |")
        out.append("|---|---|---|---|---|---|")

        def drow(name, d):
            out.append("| %s | %d | %.1f | %.1f | %.1f | %.1f |" % (name, d["n"], d["median"], d["p90"], d["p99"],
                                                                 d["max"]))
        drow("pycap (median of %d compiles)" % m["corpus_samples"], s["pycap_compile_us"])
        drow("pycap, first compile of each", s["pycap_first_compile_us"])
        if "libpcap_compile_us" in s:
            drow("pycap, where libpcap compiles too", s["pycap_compile_us_same_set"])
            drow("libpcap pcap_compile, same set", s["libpcap_compile_us"])
        out.append("\nOver 10 ms (pycap): %s. Slowest: %s.\n" % (
            len(s["pycap_over_10ms"]), "; ".join("%s %.0f µs" % (q(e), u) for u, e in s["pycap_slowest"])))
        out.append("### 3. Instructions over the corpus (EN10MB, both compile: %d expressions)\n" % s["compared"])
        if s["compared"]:
            out.append("pycap (live form) ≤ libpcap loaded eBPF: **%.1f %%** (goal ≥ 95 %%); ≤ libpcap raw cBPF: "
                       "%.1f %%; ≤ libpcap kernel form: %.1f %%. Ratio pycap / loaded: median %.2f, p90 %.2f, max "
                       "%.2f.%s\n" % (
                           100 * s["share_le_loaded"], 100 * s["share_le_cbpf"], 100 * s["share_le_kernel_form"],
                           s["ratio_to_loaded"]["median"], s["ratio_to_loaded"]["p90"], s["ratio_to_loaded"]["max"],
                           (" After the verifier (xlated, %d loaded): pycap ≤ libpcap on %.1f %%." % (
                               s["xlated_compared"], 100 * s["share_xlated_le"])) if "xlated_compared" in s else ""))
            out.append("| instructions | median | p90 | p99 | max |")
            out.append("|---|---|---|---|---|")
            for name, key in (("pycap eBPF", "pycap_insns"), ("libpcap cBPF", "libpcap_cbpf"),
                              ("libpcap loaded eBPF", "libpcap_loaded"), ("pycap xlated", "pycap_xlated"),
                              ("libpcap xlated", "libpcap_xlated")):
                if key in s:
                    d = s[key]
                    out.append("| %s | %g | %g | %g | %g |" % (name, d["median"], d["p90"], d["p99"], d["max"]))
            out.append("\nWorst cases (pycap − loaded):\n")
            out.append("| expression | pycap | libpcap cBPF | libpcap loaded | pycap xlated | libpcap xlated |")
            out.append("|---|---|---|---|---|---|")
            for w in s["worst"]:
                out.append("| %s | %s | %s | %s | %s | %s |" % (
                    q(w["expr"]), w["pycap_insns"], w["libpcap_cbpf"], w["libpcap_loaded"],
                    w.get("pycap_xlated") or "-", w.get("libpcap_xlated") or "-"))
        notes = []
        if s["libpcap_rejects_pycap_compiles"]:
            notes.append("libpcap rejects %d that pycap compiles (%s)" % (
                s["libpcap_rejects_pycap_compiles"], "; ".join("%s: %s" % (q(e), m) for e, m in s["libpcap_reject_examples"])))
        if s["libpcap_unconvertible"]:
            notes.append("%d libpcap programs are not compared because the kernel would not load them (%s)" % (
                s["libpcap_unconvertible"], "; ".join("%s: %s" % (k, v) for k, v in s["libpcap_unconvertible_why"].items())))
        if notes:
            out.append("\nNot compared: " + ". ".join(notes) + ".\n")
    return "\n".join(out)

# ------------------------------------------------------------------ main


def pycap_revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "pycap"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" + uncommitted changes in pycap/" if dirty else "")
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and rounds (about 1 minute)")
    ap.add_argument("--repeat", type=int, help="BPF_PROG_TEST_RUN repeat per call (default 100000; quick 20000)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default 9; quick 3)")
    ap.add_argument("--compile-target", type=float, help="seconds per compile-time measurement (default 0.1)")
    ap.add_argument("--compile-repeats", type=int, default=5)
    ap.add_argument("--expr", action="append", help="expression(s) instead of the baseline list for part 1/2")
    ap.add_argument("--skip", action="append", default=[], choices=["runtime", "compile", "corpus"])
    ap.add_argument("--cpu", type=int, help="pin this process to a CPU")
    ap.add_argument("--json", help="write every number to this file")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("filter_cost.py: needs root (bpf(2) and BPF_PROG_TEST_RUN)", file=sys.stderr)
        return 2
    repeat = args.repeat or (20000 if args.quick else 100000)
    rounds = args.rounds or (3 if args.quick else 9)
    target = args.compile_target or (0.02 if args.quick else 0.1)
    repeats = 3 if args.quick and args.compile_repeats == 5 else args.compile_repeats
    corpus_samples = 1 if args.quick else 5
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    ensure_pcapc()
    exprs = args.expr if args.expr else EXPRS
    if args.expr and "" not in exprs:
        exprs = [""] + exprs  # the baseline
    frames = L.make_frames()
    res = {"meta": {
        "date": time.strftime("%Y-%m-%d %H:%M"), "kernel": platform.release(), "cpus": os.cpu_count(),
        "jit_enable": Path("/proc/sys/net/core/bpf_jit_enable").read_text().strip(),
        "pycap_rev": pycap_revision(), "loadavg_start": "%.2f" % os.getloadavg()[0],
        "repeat": repeat, "rounds": rounds, "compile_target_s": target, "compile_repeats": repeats,
        "corpus_samples": corpus_samples, "cpu": args.cpu, "frames": [(n, len(f)) for n, f in frames],
        "dummy_header": DUMMY_ETH.hex(), "quick": args.quick}}
    with tempfile.TemporaryDirectory(prefix="filter_cost.") as tmp:
        pcap = os.path.join(tmp, "frames.pcap")
        L.write_pcap(pcap, frames)
        if "runtime" not in args.skip:
            rt = part_runtime(exprs, frames, repeat, rounds, pcap)
            rt["goals"] = runtime_goals(rt)
            rt["goals_own_empty"] = runtime_goals(rt, "net_own")
            res["runtime"] = rt
    if "compile" not in args.skip:
        print("part 2: compile time", file=sys.stderr, flush=True)
        res["compile"] = part_compile(exprs, target, repeats)
    if "corpus" not in args.skip:
        from tests import corpus
        cexprs = corpus.expressions()
        print("part 2b/3: %d corpus expressions" % len(cexprs), file=sys.stderr, flush=True)
        res["corpus"] = part_corpus(cexprs, corpus_samples, 0.002 if args.quick else 0.005, not args.quick)
    res["meta"]["loadavg_end"] = "%.2f" % os.getloadavg()[0]
    text = render(res)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
        print("\nJSON: %s" % args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
