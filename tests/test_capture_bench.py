"""benchmarks/capture.py's summary, on made-up runs (the benchmark itself
needs root, the perf harness and minutes; it is not run in CI)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "capture.py"


def load():
    spec = importlib.util.spec_from_file_location("capture_bench_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(tool, cpu, written, dropped=0, rep=0):
    return {"tool": tool, "scenario": "all", "rate": "max", "rep": rep, "sent": 1000,
            "sent_pps": 250000.0, "expected": 1000, "written": written, "missing": 1000 - written,
            "tool_dropped": dropped, "tool_received": 1000, "tool_cpu_s": cpu,
            "tool_maxrss_kb": 20480}


def test_cells_and_table():
    bench = load()
    runs = [run("tcpdump", 0.010, 990, 10), run("pycap", 0.030, 1000),
            run("tcpdump", 0.012, 1000, 0, 1), run("pycap", 0.026, 1000, 0, 1)]
    rows = bench.cells(runs, {"tcpdump": {"cpu_s": 0.0}, "pycap": {"cpu_s": 0.002}})
    t, p = rows[0]["tcpdump"], rows[0]["pycap"]
    assert t["reps"] == p["reps"] == 2
    assert t["drops"] == 5 and p["drops"] == 0
    assert round(p["us"], 1) == 28.0 and round(p["us_net"], 1) == 26.0
    table = bench.table(rows).splitlines()
    assert len(table) == 3 and table[2].startswith("| all | max | 250 / 250 |")
    assert table[0].count("|") == table[1].count("|") == table[2].count("|")


def test_user_and_sys_split():
    bench = load()
    runs = [dict(run("tcpdump", 0.010, 1000), tool_utime_s=0.002, tool_stime_s=0.008),
            dict(run("pycap", 0.030, 1000), tool_utime_s=0.020, tool_stime_s=0.010)]
    rows = bench.cells(runs, {})
    assert round(rows[0]["pycap"]["us_user"], 1) == 20.0
    assert round(rows[0]["tcpdump"]["us_sys"], 1) == 8.0
    split = bench.split_table(rows).splitlines()
    assert split[2] == "| all | max | 2.00 | 20.00 | 8.00 | 10.00 |"
