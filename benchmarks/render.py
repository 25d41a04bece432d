"""Packets per second printed to /dev/null: pycap against tcpdump.

Builds one large Ethernet capture by repeating the corpus captures
(expr/corpus/pcaps) into a temporary pcap of about ``--packets`` records,
then times, in the same run and on the same file:

* ``tcpdump -r F -n > /dev/null``
* ``python -m pycap.cli -r F -n > /dev/null`` (the real CLI path: savefile
  reader, offline filter, pipeline sink, renderer, console)
* reader, renderer and console in process, without the pipeline (its filter
  and sink): what printing itself costs
* the renderer alone, in process (``Renderer.render`` on records in memory)

and prints packets/second for each, by wall-clock time and by CPU time (user
+ system, from wait4(2) for the commands), and pycap's rates as fractions of
tcpdump's (the goal for the default line is >= 0.25).  The contenders run
interleaved, best of ``--repeat``.  Extra flags after
``--`` are passed to both commands (e.g. ``-- -t`` or ``-- -v``).

    python benchmarks/render.py                     # ~200k packets, corpus mix
    python benchmarks/render.py --mix core          # TCP/UDP/ICMP/ARP/DNS only
    python benchmarks/render.py --packets 50000 -- -tttt
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pycap.savefile import open_savefile  # noqa: E402

CORPUS = ROOT / "expr" / "corpus" / "pcaps"
PYCAP_ONLY = {"--json"}      # flags tcpdump does not have: its default line is the reference
LINKTYPE_EN10MB = 1


def corpus_records(mix: str) -> list[tuple[int, bytes, int]]:
    """Every Ethernet record of the corpus as (ts_ns, data, wire_len)."""
    out = []
    core = None
    if mix == "core":
        from pycap.render import RenderOptions, Renderer
        core = Renderer(RenderOptions(timestamp="none"))
    for path in sorted(CORPUS.iterdir()):
        try:
            with open_savefile(str(path)) as reader:
                for rec in reader:
                    if rec.linktype != LINKTYPE_EN10MB or not rec.data:
                        continue
                    if core is not None and not _is_core(core.render(rec.data, rec.wire_len, 1, 0)):
                        continue
                    out.append((rec.timestamp_ns, rec.data, rec.wire_len))
        except Exception:  # noqa: BLE001 - a damaged corpus file: use what was read
            continue
    return out


def _is_core(line: str) -> bool:
    return (line.startswith("ARP, ") or
            (line.startswith(("IP ", "IP6 ")) and any(k in line for k in (
                ": Flags [", ": UDP, ", ": ICMP", ".53: ", ".53 > "))))


def build_capture(path: str, packets: int, mix: str) -> int:
    """Write about ``packets`` records to ``path``; returns the count written."""
    recs = corpus_records(mix)
    if not recs:
        raise SystemExit("no Ethernet records in %s" % CORPUS)
    hdr = struct.Struct("<IIII")
    n = 0
    base = 1_700_000_000 * 1_000_000_000
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_EN10MB))
        buf = []
        while n < packets:
            for _ts, data, wire_len in recs:
                ts = base + n * 1_000_017  # monotonic, about 1000 packets per second
                buf.append(hdr.pack(ts // 1_000_000_000, (ts // 1000) % 1_000_000, len(data), wire_len))
                buf.append(data)
                n += 1
                if n >= packets:
                    break
            f.write(b"".join(buf))
            buf.clear()
    return n


def time_command(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the child)."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit("%s failed (%d): %s" % (argv[0], proc.returncode,
                                                     err.read().decode(errors="replace")[-500:]))
    return wall, usage.ru_utime + usage.ru_stime


def time_renderer(path: str, flags: list[str]) -> tuple[float, float]:
    from pycap import cli
    from pycap.cliargs import parse
    from pycap.render import Renderer
    args = parse(["-r", path, "-n", *flags])
    renderer = Renderer(cli._render_options(args))
    with open_savefile(path) as reader:
        recs = [(data, wire_len, linktype, ts_ns)
                for ts_ns, data, wire_len, _, linktype in reader.rows()]
    render = renderer.render
    t0, c0 = time.perf_counter(), time.process_time()
    for rec in recs:
        render(*rec)
    return time.perf_counter() - t0, time.process_time() - c0


def time_read_render_write(path: str, flags: list[str]) -> tuple[float, float]:
    """The printing path without the pipeline: the savefile reader's batches of
    rows -> Renderer -> Console, one write per batch, as the CLI's ``-r`` loop."""
    from pycap import cli
    from pycap.cliargs import parse
    from pycap.render import Renderer
    from pycap.render.console import Console
    args = parse(["-r", path, "-n", *flags])
    renderer = Renderer(cli._render_options(args))
    t0, c0 = time.perf_counter(), time.process_time()
    with open(os.devnull, "w") as out, open_savefile(path) as reader:
        console = Console(out, color="never")
        render = renderer.render
        for batch in reader.row_batches():
            console.write_lines([render(data, wire_len, linktype, ts_ns)
                                 for ts_ns, data, wire_len, _, linktype in batch])
        console.flush()
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packets", type=int, default=200_000)
    ap.add_argument("--mix", choices=("all", "core"), default="all",
                    help="all Ethernet corpus records, or only ARP/IP TCP/UDP/ICMP/DNS ones")
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs")
    ap.add_argument("--keep", metavar="FILE", help="write the capture here and keep it")
    ap.add_argument("flags", nargs="*", help="extra printing flags for both (after --)")
    a = ap.parse_args(argv)
    tcpdump = shutil.which("tcpdump")
    env = dict(os.environ, TZ="UTC")
    env.pop("NO_COLOR", None)
    tmpdir = None
    if a.keep:
        path = a.keep
    else:
        tmpdir = tempfile.mkdtemp(prefix="pycap-bench-")
        path = os.path.join(tmpdir, "bench.pcap")
    try:
        n = build_capture(path, a.packets, a.mix)
        print("capture: %d packets (%s mix), %.1f MB, flags: -n %s"
              % (n, a.mix, os.path.getsize(path) / 1e6, " ".join(a.flags)))
        # run pycap as an installed copy runs: with its bytecode cached (this
        # environment may set PYTHONDONTWRITEBYTECODE, which would make every
        # start compile the sources again)
        penv = dict(env, PYTHONPYCACHEPREFIX=os.path.join(tmpdir or tempfile.gettempdir(),
                                                          "pycache"))
        penv.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([sys.executable, "-c", "import pycap.cli, pycap.pipeline, pycap.render,"
                        " pycap.render.console"], env=penv, check=True)
        runs = {}
        if tcpdump:
            tflags = [f for f in a.flags if f not in PYCAP_ONLY]
            if tflags != a.flags:
                print("tcpdump runs without %s (pycap only)" % " ".join(sorted(set(a.flags) - set(tflags))))
            runs["tcpdump"] = lambda: time_command([tcpdump, "-r", path, "-n", *tflags], env)
        else:
            print("tcpdump not installed: no reference rate")
        runs["pycap (CLI)"] = lambda: time_command(
            [sys.executable, "-m", "pycap.cli", "-r", path, "-n", *a.flags], penv)
        os.environ["TZ"] = "UTC"
        time.tzset()
        runs["pycap (read+render+write)"] = lambda: time_read_render_write(path, a.flags)
        runs["pycap (renderer only)"] = lambda: time_renderer(path, a.flags)
        best = {name: [float("inf"), float("inf")] for name in runs}
        load_before = os.getloadavg()
        for _ in range(a.repeat):          # interleaved, so load changes hit every contender
            for name, run in runs.items():
                wall, cpu = run()
                best[name][0] = min(best[name][0], wall)
                best[name][1] = min(best[name][1], cpu)
        print("load average %.2f before, %.2f after (2 cores: other work slows both sides)"
              % (load_before[0], os.getloadavg()[0]))
        print("%-26s %14s %14s   (best of %d; CPU time is user+system, steadier on a busy machine)"
              % ("", "packets/s wall", "packets/s CPU", a.repeat))
        ref = best.get("tcpdump")
        for name, (wall, cpu) in best.items():
            ratio = ("   %.3fx / %.3fx tcpdump" % (ref[0] / wall, ref[1] / cpu)
                     if ref and name != "tcpdump" else "")
            print("%-26s %14.0f %14.0f%s" % (name, n / wall, n / cpu, ratio))
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
