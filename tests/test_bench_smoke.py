"""Smoke test for benchmarks/filter_cost.py, so the benchmark cannot rot.

Benchmarks are not tests: this only imports the script and runs one expression
through each side's in-kernel measurement with a small repeat count.  It needs
no libpcap (the libpcap program below is a fixed cBPF program, as pcapc would
print it).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.kernelsupport import require_kernel

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _load():
    spec = importlib.util.spec_from_file_location("filter_cost", BENCH / "filter_cost.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("filter_cost", mod)
    spec.loader.exec_module(mod)
    return mod


# libpcap's program for `ip` (ldh [12]; jeq #0x800, 0, 1; ret #262144; ret #0):
# enough to exercise the cBPF -> eBPF conversion and the load.
CBPF_IP = [(0x28, 0, 0, 12), (0x15, 0, 1, 0x0800), (0x06, 0, 0, 262144), (0x06, 0, 0, 0)]


@pytest.mark.kernel
def test_filter_cost_pycap_side_runs() -> None:
    require_kernel()
    fc = _load()
    frames = fc.L.make_frames()
    res = fc.measure_pycap("tcp dst port 443", repeat=1000, frames=frames)
    assert res["insns"] > 0 and res["xlated_insns"] > 0
    assert len(res["ns"]) == len(frames) and all(ns > 0 for ns in res["ns"])
    matched = [name for (name, _), rv in zip(frames, res["retvals"]) if rv]
    assert matched == ["tcp4_syn_443", "tcp6_443"]
    assert set(res["retvals"]) == {0, fc.SNAPLEN}


@pytest.mark.kernel
def test_filter_cost_libpcap_side_runs() -> None:
    require_kernel()
    fc = _load()
    frames = fc.L.make_frames()
    ld = fc.load_libpcap(CBPF_IP)
    try:
        assert ld.insns == 9 and ld.extra == {"cbpf_insns": 4, "kernel_form_insns": 26}
        got = [ld.prog.test_run(d, 1000).retval for d in fc.frame_inputs(frames)]
    finally:
        ld.prog.close()
    ip4 = {name for name, f in frames if f[12:14] == b"\x08\x00"}
    assert {name for (name, _), rv in zip(frames, got) if rv} == ip4


def test_render_benchmark_runs() -> None:
    """benchmarks/render.py cannot rot either (it once called a parser the
    CLI no longer has): a small run gives its three pycap rows."""
    import shutil
    import subprocess
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump is not installed")
    proc = subprocess.run([sys.executable, str(BENCH / "render.py"), "--packets", "3000",
                           "--repeat", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("pycap (")]
    assert len(rows) == 3 and all(line.rstrip().endswith("tcpdump") for line in rows), proc.stdout
