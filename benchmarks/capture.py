#!/usr/bin/env python3
"""Capture throughput, drops, CPU and memory: ``pycap -w`` against ``tcpdump -w``,
side by side, on the perf baseline's veth pair and generator.

This drives ``shared/perf/capture_bench.py`` (our own harness, next to the
repository: ``<repo>/../shared/perf``) with two tools interleaved within every
repetition, then prints one table with the ratios.  It needs root, gcc (the
generator is built on first use) and tcpdump.

    sudo python benchmarks/capture.py                        # 5 reps: ~12 minutes
    sudo python benchmarks/capture.py --reps 2 --rates max   # quicker, noisier
         [--scenarios all,sel443,snap64] [--rates 100k,300k,max,max2] [--duration 4]
         [--json PATH] [--pycap-args "-B 2048"] [--idle-runs 3]

Per cell: frames written against the exact number expected (the generator
reports what it sent per kind, so ``tcp dst port 443`` is known exactly), the
drops the tool reports, its CPU (user + sys from ``wait4``) per packet written,
and its peak RSS.  CPU includes start-up; the start-up cost of each tool, with
no traffic, is measured separately (``--idle-runs``) and also subtracted in
the "net" column.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import signal
import statistics
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PERF = REPO.parent / "shared" / "perf"
TCPDUMP = "tcpdump -i {iface} -w {out} -s {snaplen} {filter}"


def pycap_command(python: str = sys.executable) -> list[str]:
    """The ``pycap`` command installed next to ``python``, as a user runs it
    (``python -m pycap.cli`` costs ``runpy``'s imports too, about 2 ms a start);
    ``-m`` where there is no such script."""
    script = Path(python).with_name("pycap")
    return [str(script)] if script.exists() else [python, "-m", "pycap.cli"]


def install_copy(venv: Path) -> list[str]:
    """Install the repository, not editable, into a fresh venv and return its
    ``pycap`` command.  An editable install puts an import hook in every start
    of Python (about 8 ms, see README); a user's ``pip install`` has none.
    Only pycap itself goes in: writing a capture needs none of its
    dependencies (scapy and rich are for printing packets)."""
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "-q", "--no-deps", str(REPO)], check=True)
    return pycap_command(str(venv / "bin" / "python"))


def pycap_template(command: list[str], extra: str) -> str:
    return f"{' '.join(command)} -i {{iface}} -w {{out}} -s {{snaplen}} {extra} {{filter}}"


def ensure_generator() -> None:
    if not (PERF / "bin" / "gen").exists():
        subprocess.run(["bash", str(PERF / "build.sh")], check=True)


IDLE_OUT = Path("/dev/shm/pycap-bench-idle.pcap")    # the idle runs' (empty) output
BENCH_VENV = Path("/tmp/pycap-bench-venv")           # the installed copy the runs use


def idle_cost(argv: list[str], runs: int) -> dict:
    """CPU and RSS of a tool that starts, listens, sees nothing and stops."""
    results = []
    for _ in range(runs):
        proc = subprocess.Popen(["ip", "netns", "exec", "pcapbench-b", *argv],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line or b"listening on" in line:
                break
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, _, usage = os.wait4(proc.pid, 0)
        proc.stderr.close()
        results.append((usage.ru_utime + usage.ru_stime, usage.ru_maxrss))
    return {"cpu_s": statistics.median(r[0] for r in results),
            "rss_kb": statistics.median(r[1] for r in results)}


def run_harness(args, json_path: Path, pycap: list[str]) -> None:
    cmd = [sys.executable, str(PERF / "capture_bench.py"),
           "--tool", f"tcpdump={TCPDUMP}", "--tool", f"pycap={pycap_template(pycap, args.pycap_args)}",
           "--scenarios", args.scenarios, "--rates", args.rates, "--reps", str(args.reps),
           "--duration", str(args.duration), "--json", str(json_path), "--no-topo"]
    env = dict(os.environ)
    if args.editable:
        env["PYTHONPATH"] = str(REPO)
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)


def _med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def _range(xs, fmt):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    lo, hi = min(xs), max(xs)
    return fmt(lo) if lo == hi else f"{fmt(lo)}–{fmt(hi)}"


def _per_packet(runs: list[dict], key: str) -> list:
    """µs of ``key`` (seconds) per written packet, run by run."""
    return [1e6 * r[key] / r["written"] if r["written"] and r.get(key) is not None else None
            for r in runs]


def cells(runs: list[dict], idle: dict) -> list[dict]:
    """Per (scenario, rate): each tool's medians (and ranges) over repetitions."""
    out = []
    keys = []
    for r in runs:
        if (r["scenario"], r["rate"]) not in keys:
            keys.append((r["scenario"], r["rate"]))
    for scenario, rate in keys:
        row = {"scenario": scenario, "rate": rate}
        for tool in ("tcpdump", "pycap"):
            rs = [r for r in runs if r["tool"] == tool and r["scenario"] == scenario
                  and r["rate"] == rate]
            if not rs:
                continue
            pct = [100.0 * r["written"] / r["expected"] if r["expected"] else None for r in rs]
            us = _per_packet(rs, "tool_cpu_s")
            base = idle.get(tool, {}).get("cpu_s", 0.0)
            net = [1e6 * max(0.0, r["tool_cpu_s"] - base) / r["written"] if r["written"] else None
                   for r in rs]
            row[tool] = {
                "reps": len(rs), "sent_kpps": _med(r["sent_pps"] / 1000 for r in rs),
                "pct": _med(pct), "pct_range": _range(pct, lambda v: f"{v:.2f}"),
                "missing": _med(r["missing"] for r in rs),
                "drops": _med(r["tool_dropped"] for r in rs),
                "drops_range": _range([r["tool_dropped"] for r in rs], lambda v: f"{v:.0f}"),
                "drop_share": _med(100.0 * r["tool_dropped"] / r["tool_received"]
                                   if r["tool_received"] else 0.0 for r in rs),
                "us": _med(us), "us_range": _range(us, lambda v: f"{v:.2f}"),
                "us_net": _med(net), "us_user": _med(_per_packet(rs, "tool_utime_s")),
                "us_sys": _med(_per_packet(rs, "tool_stime_s")),
                "rss_mb": _med(r["tool_maxrss_kb"] / 1024 for r in rs),
            }
        out.append(row)
    return out


def table(rows: list[dict]) -> str:
    head = ("| scenario | rate | sent kpps | written/expected % tcpdump | pycap | drops tcpdump "
            "| pycap | CPU µs/pkt tcpdump | pycap | ratio | net of start-up: tcpdump | pycap "
            "| ratio | peak RSS MB tcpdump | pycap |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in rows:
        t, p = row.get("tcpdump"), row.get("pycap")
        if not t or not p:
            continue
        ratio = p["us"] / t["us"] if t["us"] and p["us"] else None
        net_ratio = p["us_net"] / t["us_net"] if t["us_net"] and p["us_net"] else None
        lines.append(
            f"| {row['scenario']} | {row['rate']} | {t['sent_kpps']:.0f} / {p['sent_kpps']:.0f} "
            f"| {t['pct']:.2f} ({t['pct_range']}) | {p['pct']:.2f} ({p['pct_range']}) "
            f"| {t['drops']:.0f} ({t['drops_range']}) | {p['drops']:.0f} ({p['drops_range']}) "
            f"| {t['us']:.2f} ({t['us_range']}) | {p['us']:.2f} ({p['us_range']}) "
            f"| {_fmt(ratio)} | {t['us_net']:.2f} | {p['us_net']:.2f} | {_fmt(net_ratio)} "
            f"| {t['rss_mb']:.1f} | {p['rss_mb']:.1f} |")
    return "\n".join(lines)


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.2f}×"


def split_table(rows: list[dict]) -> str:
    """Where the CPU goes: user and kernel time per written packet (medians,
    start-up included), the part a tool's own code decides and the part the
    kernel spends writing the file and waking the tool."""
    lines = ["| scenario | rate | user µs/pkt tcpdump | pycap | sys µs/pkt tcpdump | pycap |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        t, p = row.get("tcpdump"), row.get("pycap")
        if not t or not p:
            continue
        cols = [_us(t["us_user"]), _us(p["us_user"]), _us(t["us_sys"]), _us(p["us_sys"])]
        lines.append(f"| {row['scenario']} | {row['rate']} | " + " | ".join(cols) + " |")
    return "\n".join(lines)


def _us(v) -> str:
    return "-" if v is None else f"{v:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", default="all,sel443,snap64")
    ap.add_argument("--rates", default="100k,300k,max,max2")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--duration", type=float, default=4.0)
    ap.add_argument("--idle-runs", type=int, default=3)
    ap.add_argument("--pycap-args", default="", help="extra pycap options, e.g. '-B 2048'")
    ap.add_argument("--json", type=Path, default=Path("/tmp/pycap-capture-bench.json"))
    ap.add_argument("--editable", action="store_true",
                    help="run the pycap of this Python's environment (the editable dev install) "
                         "instead of a copy installed for the run")
    ap.add_argument("--resummarize", action="store_true",
                    help="only print the table of an earlier --json")
    args = ap.parse_args()
    if not args.resummarize:
        if os.geteuid() != 0:
            sys.exit("capture.py: needs root (namespaces, AF_PACKET, bpf)")
        if not (PERF / "capture_bench.py").exists():
            sys.exit(f"capture.py: the perf harness is missing: {PERF}")
        ensure_generator()
        if args.editable:
            # start-up as an installed package has it: byte code compiled once
            compileall.compile_dir(str(REPO / "pycap"), quiet=1)
            pycap = pycap_command()
        else:
            pycap = install_copy(BENCH_VENV)
        load_before = os.getloadavg()
        subprocess.run([str(PERF / "topo.sh"), "up"], check=True, stdout=subprocess.DEVNULL)
        try:
            idle = {
                "tcpdump": idle_cost(["tcpdump", "-i", "veth-b", "-w", str(IDLE_OUT)],
                                     args.idle_runs),
                "pycap": idle_cost([*pycap, "-i", "veth-b", "-w",
                                    str(IDLE_OUT), *args.pycap_args.split()],
                                   args.idle_runs),
            }
            run_harness(args, args.json, pycap)
        finally:
            subprocess.run([str(PERF / "topo.sh"), "down"], stdout=subprocess.DEVNULL)
            IDLE_OUT.unlink(missing_ok=True)
            shutil.rmtree(BENCH_VENV, ignore_errors=True)
        data = json.loads(args.json.read_text())
        data["idle"] = idle
        data["meta"]["load_before"], data["meta"]["load_after"] = load_before, os.getloadavg()
        args.json.write_text(json.dumps(data, indent=1))
    data = json.loads(args.json.read_text())
    idle = data.get("idle", {})
    print(f"reps {data['meta']['reps']}, {data['meta']['duration_s']} s of traffic per run, "
          f"tool on CPU {data['meta']['tool_cpu']}, generator(s) on CPU {data['meta']['gen_cpu']}"
          f" (max2: the second generator shares the tool's CPU); medians (min–max)")
    for tool, cost in idle.items():
        print(f"start-up + shutdown with no traffic, {tool}: {cost['cpu_s'] * 1000:.0f} ms CPU, "
              f"{cost['rss_kb'] / 1024:.1f} MB RSS")
    load = [data["meta"].get(k) for k in ("load_before", "load_after")]
    if all(load):
        print("load average (1, 5, 15 min) before: %s, after: %s"
              % tuple(", ".join(f"{x:.2f}" for x in avg) for avg in load))
    print()
    rows = cells(data["runs"], idle)
    print(table(rows))
    print()
    print(split_table(rows))
    print(f"\nJSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
