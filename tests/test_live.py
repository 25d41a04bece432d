"""Live capture through the CLI in a private network namespace pair."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pycap.savefile import open_savefile
from tests.kernelsupport import kernel, send_udp, udp_socket, veth  # noqa: F401

pytestmark = pytest.mark.kernel
REPO = Path(__file__).resolve().parent.parent


def start_pycap(netns: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), TZ="UTC")
    return subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-m", "pycap.cli",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            bufsize=0)


def wait_listening(proc: subprocess.Popen, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.2)
        if ready:
            line = proc.stderr.readline()
            seen += line
            if line.startswith((b"listening on", b"pycap: listening on")):
                return line.decode()
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"pycap did not start listening: {seen!r}")


def stop(proc: subprocess.Popen, sig: int = signal.SIGINT) -> tuple[bytes, bytes, float]:
    t0 = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=10)
    return out, err, time.monotonic() - t0


def test_filter_and_kernel_snaplen(veth, tmp_path):  # noqa: F811
    out = tmp_path / "live.pcap"
    proc = start_pycap(veth.b.netns, "-i", veth.b.ifname, "-w", str(out), "-s", "64",
                       "udp dst port 9000")
    listening = wait_listening(proc)
    assert listening.strip() == (f"pycap: listening on {veth.b.ifname}, link-type EN10MB "
                                 f"(Ethernet), snapshot length 64 bytes")   # tcpdump's form with -w
    with udp_socket(veth.a.netns) as sock:
        send_udp(sock, veth.b.ipv4, 9000, 10, size=500)
        send_udp(sock, veth.b.ipv4, 9001, 10, size=500)
    time.sleep(0.5)
    _, err, took = stop(proc)
    assert proc.returncode == 0, err
    assert took < 1.5
    summary = err.decode().splitlines()[-3:]
    assert summary == ["10 packets captured", "10 packets received by filter",
                       "0 packets dropped by kernel"]
    with open_savefile(str(out)) as reader:
        records = list(reader)
    assert len(records) == 10
    assert all(len(r.data) == 64 and r.wire_len == 14 + 20 + 8 + 500 for r in records)
    # scapy reads it back
    from scapy.utils import rdpcap
    pkts = rdpcap(str(out))
    assert len(pkts) == 10 and all(p.wirelen == 542 for p in pkts)
    if shutil.which("tcpdump"):
        listed = subprocess.run(["tcpdump", "-r", str(out), "-n", "-t"], capture_output=True)
        assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 10


def test_print_and_count(veth):  # noqa: F811
    proc = start_pycap(veth.b.netns, "-i", veth.b.ifname, "-n", "-t", "-c", "3", "udp")
    wait_listening(proc)
    with udp_socket(veth.a.netns) as sock:
        send_udp(sock, veth.b.ipv4, 9000, 5, size=100)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    lines = out.decode().splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"IP {veth.a.ipv4}.") and ".9000: UDP, length 100" in line
               for line in lines)


def test_sigterm_leaves_a_valid_file(veth, tmp_path):  # noqa: F811
    out = tmp_path / "term.pcap"
    proc = start_pycap(veth.b.netns, "-i", veth.b.ifname, "-w", str(out), "udp")
    wait_listening(proc)
    with udp_socket(veth.a.netns) as sock:
        send_udp(sock, veth.b.ipv4, 9000, 200, size=200)
    time.sleep(0.3)
    _, err, _ = stop(proc, signal.SIGTERM)
    assert proc.returncode == 0
    captured = int(err.decode().splitlines()[-3].split()[0])
    with open_savefile(str(out)) as reader:
        assert len(list(reader)) == captured == 200


def test_demo_runs_end_to_end(kernel):  # noqa: F811
    from pycap.demo import run
    import io
    out = io.StringIO()
    result = run(out=out)
    assert result.captured == result.expected == 13
    assert result.truncated_ok and result.read_back == 13
    assert "namespaces and veth removed." in out.getvalue()
