"""The capture engine through the command line, in private namespaces: drops
counted, signals and EPIPE leaving valid files, -i any, several -i, -Z,
rotation, -c, -U, the status line."""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pycap.kernel.netns import enter_netns
from pycap.savefile import open_savefile
from tests.kernelsupport import kernel, send_udp, udp_socket, veth  # noqa: F401

pytestmark = pytest.mark.kernel
REPO = Path(__file__).resolve().parent.parent
FAKE_MAC = bytes.fromhex("02deadbeef01")   # nobody's: frames arrive as PACKET_OTHERHOST


# ----------------------------------------------------------------- helpers


def start(netns: str, *args: str, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
          **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), TZ="UTC")
    return subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-m", "pycap.cli",
                             *args], stdout=stdout, stderr=stderr, env=env, bufsize=0, **kwargs)


def wait_listening(proc: subprocess.Popen, timeout: float = 15.0, count: int = 1) -> list[str]:
    lines, seen = [], b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(lines) < count:
        ready, _, _ = select.select([proc.stderr], [], [], 0.2)
        if ready:
            line = proc.stderr.readline()
            seen += line
            if line.startswith((b"listening on", b"pycap: listening on")):
                lines.append(line.decode().strip().removeprefix("pycap: "))
            elif not line:
                break
    if len(lines) < count:
        proc.kill()
        raise AssertionError(f"pycap did not start listening: {seen!r}")
    proc.before_listening = seen.decode().splitlines()   # type: ignore[attr-defined]
    return lines


def finish(proc: subprocess.Popen, sig: int | None = signal.SIGINT,
           timeout: float = 15) -> tuple[bytes, list[str]]:
    if sig is not None:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return out, err.decode().splitlines()


def summary(err_lines: list[str]) -> tuple[int, int, int]:
    tail = err_lines[-3:]
    assert [line.split(" ", 1)[1] for line in tail] == [
        "packets captured", "packets received by filter", "packets dropped by kernel"], err_lines
    return tuple(int(line.split()[0]) for line in tail)


def records(path) -> list:
    with open_savefile(str(path)) as reader:
        return list(reader)


def udp_frame(src_mac: str, port: int = 9, payload: int = 100, seq: int = 0) -> bytes:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + payload, seq & 0xFFFF, 0, 64, 17, 0,
                     socket.inet_aton("10.99.0.1"), socket.inet_aton("10.99.0.2"))
    udp = struct.pack("!HHHH", 40000, port, 8 + payload, 0)
    return FAKE_MAC + bytes.fromhex(src_mac.replace(":", "")) + b"\x08\x00" + ip + udp + \
        seq.to_bytes(4, "big") * (payload // 4)


class Injector:
    """Raw frames out of veth-a, as fast as Python goes (bounded)."""

    def __init__(self, end):
        self.end = end
        with enter_netns(end.netns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.sock.bind((end.ifname, 0))
        self.sent = 0

    def burst(self, count: int, port: int = 9, payload: int = 100) -> None:
        for i in range(count):
            self._send(udp_frame(self.end.mac, port, payload, i))

    def _send(self, frame: bytes) -> None:
        while True:
            try:
                self.sock.send(frame)
                self.sent += 1
                return
            except BlockingIOError:
                time.sleep(0.0005)
            except OSError as err:
                if err.errno != 105:   # ENOBUFS: the qdisc is full, wait
                    raise
                time.sleep(0.0005)

    def background(self, seconds: float, port: int = 9, pause_every: int = 0):
        stop = threading.Event()

        def run():
            deadline = time.monotonic() + seconds
            i = 0
            while not stop.is_set() and time.monotonic() < deadline:
                self._send(udp_frame(self.end.mac, port, 100, i))
                i += 1
                if pause_every and i % pause_every == 0:
                    time.sleep(0.01)
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return stop, thread

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def inject(veth):  # noqa: F811
    injector = Injector(veth.a)
    yield injector
    injector.close()


# ------------------------------------------------------- signals and drops


def test_sigterm_during_a_burst_keeps_every_captured_packet(veth, inject, tmp_path):  # noqa: F811
    out = tmp_path / "burst.pcap"
    proc = start(veth.b.netns, "-i", veth.b.ifname, "-w", str(out), "udp")
    wait_listening(proc)
    stop, thread = inject.background(3.0)
    time.sleep(0.5)
    _, err = finish(proc, signal.SIGTERM)
    stop.set()
    thread.join()
    assert proc.returncode == 0, err
    captured, received, dropped = summary(err)
    assert captured > 1000 and received >= captured
    got = records(out)                       # reads to the end: the file is whole
    assert len(got) == captured
    assert all(len(r.data) == r.wire_len == 14 + 20 + 8 + 100 for r in got)


@pytest.mark.parametrize("mode", ["write", "print"])
def test_a_stop_keeps_the_packets_of_the_block_still_filling(veth, inject, tmp_path, mode):  # noqa: F811
    """The kernel hands a ring block over when it is full or its timeout
    expires (a second when writing, as under tcpdump, which loses what is
    in it at a stop).  A signal right after a few packets: pycap waits for
    that block, and every packet the kernel took is captured."""
    out = tmp_path / "last.pcap"
    args = ["-w", str(out)] if mode == "write" else ["-n"]
    proc = start(veth.b.netns, "-i", veth.b.ifname, *args, "udp")
    wait_listening(proc)
    inject.burst(40)
    time.sleep(0.05)
    stopped = time.monotonic()
    stdout, err = finish(proc)
    took = time.monotonic() - stopped
    assert proc.returncode == 0, err
    assert summary(err) == (40, 40, 0)
    if mode == "write":
        assert len(records(out)) == 40
    else:
        assert len([line for line in stdout.decode().splitlines() if " UDP" in line]) == 40
    assert took < 1.0 + 0.25 + 2.0            # one block timeout and the grace, then exit


def test_listening_lines_in_tcpdumps_two_forms(veth, tmp_path):  # noqa: F811
    """Printing without -v: "verbose output suppressed" then a bare
    "listening on"; writing (or -v): "pycap: listening on"."""
    forms = {}
    for mode, args in (("print", ["-n"]), ("verbose", ["-v"]),
                       ("write", ["-w", str(tmp_path / "l.pcap")])):
        proc = start(veth.b.netns, "-i", veth.b.ifname, *args, "udp port 7")
        wait_listening(proc)
        finish(proc)
        forms[mode] = [line.split(",")[0] for line in proc.before_listening]
    listening = f"listening on {veth.b.ifname}"
    assert forms["print"] == ["pycap: verbose output suppressed", listening]   # cut at ","
    assert forms["verbose"] == forms["write"] == [f"pycap: {listening}"]


def test_an_idle_stop_is_prompt(veth, tmp_path):  # noqa: F811
    """Nothing in the ring: no wait for a block at a stop."""
    proc = start(veth.b.netns, "-i", veth.b.ifname, "-w", str(tmp_path / "idle.pcap"),
                 "udp port 7")
    wait_listening(proc)
    stopped = time.monotonic()
    _, err = finish(proc)
    assert proc.returncode == 0, err
    assert summary(err)[0] == 0
    assert time.monotonic() - stopped < 0.9   # under the write block timeout


def test_block_timeout_is_tcpdumps_second_when_only_writing():
    from pycap.pipeline import Job, block_timeout_ms
    assert block_timeout_ms(Job(write="f.pcap", print_packets=False)) == 1000
    assert block_timeout_ms(Job(write="f.pcap", print_packets=False, packet_buffered=True)) == 100
    assert block_timeout_ms(Job(write="f.pcap", print_packets=True)) == 100   # --print
    assert block_timeout_ms(Job()) == 100                                     # printing


def test_stop_flag_counts_signals():
    from pycap.pipeline import StopFlag
    stop = StopFlag()
    assert not stop and not stop.again
    stop.set()
    assert stop and not stop.again
    stop.set()
    assert stop.again


def test_paused_reader_drops_are_counted(veth, inject, tmp_path):  # noqa: F811
    """A 64 KiB ring and a stopped process: the kernel drops, pycap counts
    the drops in its summary and in the pcapng statistics block."""
    out = tmp_path / "drops.pcapng"
    proc = start(veth.b.netns, "-i", veth.b.ifname, "-B", "64", "-w", str(out), "udp")
    wait_listening(proc)
    proc.send_signal(signal.SIGSTOP)
    try:
        inject.burst(3000)
    finally:
        proc.send_signal(signal.SIGCONT)
    time.sleep(0.5)
    _, err = finish(proc)
    captured, received, dropped = summary(err)
    assert received == 3000
    assert dropped > 0 and captured + dropped == received
    assert len(records(out)) == captured
    isb = interface_statistics(out.read_bytes())
    assert isb == [{"ifrecv": received, "ifdrop": dropped}]
    from scapy.utils import rdpcap
    assert len(rdpcap(str(out))) == captured


def interface_statistics(data: bytes) -> list[dict]:
    """ifrecv/ifdrop of each Interface Statistics Block of a little-endian pcapng."""
    found, pos = [], 0
    while pos + 8 <= len(data):
        btype, blen = struct.unpack_from("<II", data, pos)
        if btype == 5:
            opts, end, stats = pos + 20, pos + blen - 4, {}
            while opts + 4 <= end:
                code, length = struct.unpack_from("<HH", data, opts)
                if code == 0:
                    break
                if code in (4, 5):
                    stats["ifrecv" if code == 4 else "ifdrop"] = \
                        struct.unpack_from("<Q", data, opts + 4)[0]
                opts += 4 + (length + 3 & ~3)
            found.append(stats)
        pos += blen
    return found


def test_count_is_exact_and_nanosecond_stamps(veth, inject, tmp_path):  # noqa: F811
    out = tmp_path / "count.pcap"
    proc = start(veth.b.netns, "-i", veth.b.ifname, "-c", "25", "--time-stamp-precision",
                 "nano", "-w", str(out), "udp")
    wait_listening(proc)
    t0 = time.time_ns()
    inject.burst(100)
    _, err = finish(proc, None)           # stops by itself
    assert proc.returncode == 0
    assert summary(err)[0] == 25
    assert out.read_bytes()[:4] == struct.pack("<I", 0xA1B23C4D)
    got = records(out)
    assert len(got) == 25
    assert all(t0 <= r.timestamp_ns <= time.time_ns() for r in got)
    assert len({r.timestamp_ns % 1000 for r in got}) > 1     # really nanoseconds


def test_packet_buffered_output_is_on_disk_at_once(veth, inject, tmp_path):  # noqa: F811
    out = tmp_path / "u.pcap"
    proc = start(veth.b.netns, "-i", veth.b.ifname, "-U", "--immediate-mode", "-w", str(out),
                 "udp")
    wait_listening(proc)
    inject.burst(5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(records(out)) < 5:
        time.sleep(0.05)
    assert len(records(out)) == 5          # while pycap still runs
    finish(proc)


def test_write_to_a_closed_pipe_ends_cleanly(veth, inject):  # noqa: F811
    proc = start(veth.b.netns, "-i", veth.b.ifname, "-U", "--immediate-mode", "-w", "-", "udp")
    wait_listening(proc)
    inject.burst(5)
    head = proc.stdout.read(24)
    assert head[:4] == struct.pack("<I", 0xA1B2C3D4)
    proc.stdout.close()                   # the reader goes away
    stop, thread = inject.background(10.0, pause_every=50)
    try:
        proc.wait(timeout=10)
        err = proc.stderr.read().decode().splitlines()
    finally:
        stop.set()
        thread.join()
    assert proc.returncode == 0
    assert not any("Traceback" in line or "Broken pipe" in line for line in err), err
    summary(err)


# --------------------------------------------------------- interfaces


def test_any_selects_and_decodes(veth, tmp_path):  # noqa: F811
    out = tmp_path / "any.pcap"
    proc = start(veth.b.netns, "-i", "any", "-w", str(out), "udp dst port 9000")
    assert wait_listening(proc) == ["listening on any, link-type LINUX_SLL2 (Linux cooked v2), "
                                    "snapshot length 262144 bytes"]
    with udp_socket(veth.b.netns, (veth.b.ipv4, 9000)), udp_socket(veth.a.netns) as sock:
        send_udp(sock, veth.b.ipv4, 9000, 5, 100)
        send_udp(sock, veth.b.ipv4, 9001, 5, 100)
        time.sleep(0.4)
    _, err = finish(proc)
    assert summary(err)[0] == 5
    with open_savefile(str(out)) as reader:
        assert reader.linktype == 276
        got = list(reader)
    ifindex = veth.b.ifindex
    mac_a = bytes.fromhex(veth.a.mac.replace(":", ""))
    for r in got:
        assert r.data[:20] == struct.pack("!HHIHBB8s", 0x0800, 0, ifindex, 1, 0, 6, mac_a)
        assert r.wire_len == 20 + 20 + 8 + 100 and len(r.data) == r.wire_len
    from scapy.layers.inet import UDP
    from scapy.layers.l2 import CookedLinuxV2
    from scapy.utils import rdpcap
    pkts = rdpcap(str(out))
    assert all(isinstance(p, CookedLinuxV2) and p.ifindex == ifindex for p in pkts)
    assert [p[UDP].dport for p in pkts] == [9000] * 5


def test_any_with_linux_sll(veth, tmp_path):  # noqa: F811
    out = tmp_path / "sll.pcap"
    proc = start(veth.b.netns, "-i", "any", "-y", "LINUX_SLL", "-s", "40", "-w", str(out),
                 "udp dst port 9000")
    wait_listening(proc)
    with udp_socket(veth.b.netns, (veth.b.ipv4, 9000)), udp_socket(veth.a.netns) as sock:
        send_udp(sock, veth.b.ipv4, 9000, 3, 100)
        time.sleep(0.4)
    finish(proc)
    with open_savefile(str(out)) as reader:
        assert reader.linktype == 113
        got = list(reader)
    assert len(got) == 3
    assert all(len(r.data) == 40 and r.wire_len == 16 + 128 for r in got)
    assert all(r.data[:2] == b"\x00\x00" and r.data[14:16] == b"\x08\x00" for r in got)


def test_any_falls_back_to_user_space_filtering(veth, monkeypatch, tmp_path):  # noqa: F811
    """A compiler without ``cooked_live``: everything goes up, the filter runs
    in user space on the frame with its cooked header."""
    from pycap import compiler, pipeline
    real = compiler.compile_filter

    def old_compiler(*args, **kwargs):
        if "cooked_live" in kwargs:
            raise TypeError("compile_filter() got an unexpected keyword argument 'cooked_live'")
        return real(*args, **kwargs)
    monkeypatch.setattr(compiler, "compile_filter", old_compiler)   # imported when compiling
    out = tmp_path / "fallback.pcap"
    job = pipeline.Job(expression="udp dst port 9000", write=str(out), print_packets=False,
                       buffer_kib=1024)
    stop = pipeline.StopFlag()
    listening = threading.Event()
    result = {}
    fds_before = sorted(os.listdir("/proc/self/fd"))

    def run():
        with enter_netns(veth.b.netns):
            result["outcome"] = pipeline.run_live(job, ["any"], stop, lambda _: listening.set())
    thread = threading.Thread(target=run)
    thread.start()
    assert listening.wait(10)
    with udp_socket(veth.b.netns, (veth.b.ipv4, 9000)), udp_socket(veth.a.netns) as sock:
        send_udp(sock, veth.b.ipv4, 9000, 4, 100)
        send_udp(sock, veth.b.ipv4, 9001, 6, 100)
        time.sleep(0.4)
    stop.set()
    thread.join(10)
    outcome = result["outcome"]
    assert outcome.captured == 4
    assert outcome.received >= 10           # the kernel let everything through
    got = records(out)
    assert [struct.unpack_from("!H", r.data, 20 + 20 + 2)[0] for r in got] == [9000] * 4
    assert sorted(os.listdir("/proc/self/fd")) == fds_before   # socket, program, file: closed


def test_several_interfaces_to_pcapng(veth, tmp_path):  # noqa: F811
    out = tmp_path / "two.pcapng"
    proc = start(veth.b.netns, "-i", veth.b.ifname, "-i", "lo", "-w", str(out), "udp")
    lines = wait_listening(proc, count=2)
    assert [line.split(",")[0] for line in lines] == [f"listening on {veth.b.ifname}",
                                                      "listening on lo"]
    with udp_socket(veth.b.netns, (veth.b.ipv4, 9000)), udp_socket(veth.a.netns) as sock:
        send_udp(sock, veth.b.ipv4, 9000, 3, 100)
    with udp_socket(veth.b.netns, ("127.0.0.1", 9001)), udp_socket(veth.b.netns) as sock:
        send_udp(sock, "127.0.0.1", 9001, 2, 50)
    time.sleep(0.4)
    _, err = finish(proc)
    assert summary(err)[0] == 5
    with open_savefile(str(out)) as reader:
        got = list(reader)
        assert [i.name for i in reader.interfaces] == [veth.b.ifname, "lo"]
    assert sorted(r.interface for r in got) == [0, 0, 0, 1, 1]
    assert len(interface_statistics(out.read_bytes())) == 2
    from scapy.utils import rdpcap
    assert len(rdpcap(str(out))) == 5
    if shutil.which("tshark"):
        names = subprocess.run(["tshark", "-r", str(out), "-T", "fields", "-e",
                                "frame.interface_name"], capture_output=True, timeout=60)
        assert sorted(names.stdout.decode().split()) == ["lo", "lo"] + [veth.b.ifname] * 3


def test_several_interfaces_refuse_pcap(veth, tmp_path):  # noqa: F811
    out = tmp_path / "two.pcap"
    proc = start(veth.b.netns, "-i", veth.b.ifname, "-i", "lo", "-w", str(out))
    _, err = finish(proc, None)
    assert proc.returncode == 1
    assert err == [f"pycap: {out}: a pcap file holds one interface; write pcapng "
                   f"(--pcapng or a .pcapng name) to capture on several"]
    assert not out.exists()


# ------------------------------------------------------------ -Z, rotation


def test_drop_privileges_after_opening(veth, inject, tmp_path):  # noqa: F811
    import pwd
    nobody = pwd.getpwnam("nobody")
    tmp_path.chmod(0o777)
    out = tmp_path / "z.pcap"
    proc = start(veth.b.netns, "-i", veth.b.ifname, "-Z", "nobody", "-w", str(out), "udp")
    wait_listening(proc)
    status = Path(f"/proc/{proc.pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines())
    assert fields["Uid"].split() == [str(nobody.pw_uid)] * 4
    assert fields["Gid"].split() == [str(nobody.pw_gid)] * 4
    assert int(fields["CapEff"], 16) == 0 and int(fields["CapPrm"], 16) == 0
    assert out.stat().st_uid == nobody.pw_uid
    inject.burst(20)
    time.sleep(0.3)
    _, err = finish(proc)
    assert proc.returncode == 0, err
    assert summary(err)[0] == 20 == len(records(out))


def test_live_size_rotation(veth, inject, tmp_path):  # noqa: F811
    out = tmp_path / "r.pcap"
    proc = start(veth.b.netns, "-i", veth.b.ifname, "-C", "20k", "-w", str(out), "udp")
    wait_listening(proc)
    inject.burst(400, payload=500)           # 400 x 558 bytes: about 11 files of 20 KiB
    time.sleep(0.5)
    _, err = finish(proc)
    captured = summary(err)[0]
    files = sorted(tmp_path.iterdir(), key=lambda p: int(p.name[6:] or 0))
    assert [p.name for p in files] == ["r.pcap"] + [f"r.pcap{i}" for i in range(1, len(files))]
    assert len(files) >= 10
    total = 0
    for path in files:
        got = records(path)
        total += len(got)
        size = path.stat().st_size
        if path != files[-1]:
            last = 16 + len(got[-1].data)
            assert size - last <= 20 * 1024 < size    # tcpdump's rule: over by one packet
    assert total == captured == 400


def test_live_time_rotation_stops_after_W_files(veth, inject, tmp_path):  # noqa: F811
    pattern = str(tmp_path / "g-%s.pcap")
    proc = start(veth.b.netns, "-i", veth.b.ifname, "-G", "1", "-W", "2", "-w", pattern, "udp")
    wait_listening(proc)
    stop, thread = inject.background(6.0, pause_every=20)
    try:
        _, err = finish(proc, None, timeout=10)   # ends by itself after the second file
    finally:
        stop.set()
        thread.join()
    assert proc.returncode == 0
    assert err[-4] == "Maximum file limit reached: 2"
    captured = summary(err)[0]
    files = sorted(tmp_path.glob("g-*.pcap"))
    assert len(files) == 2
    stamps = [int(p.name[2:-5]) for p in files]
    assert stamps[1] - stamps[0] in (1, 2)
    assert sum(len(records(p)) for p in files) == captured


# ------------------------------------------------------------- status line


def test_status_line_on_a_terminal_only(veth, inject, tmp_path):  # noqa: F811
    master, slave = pty.openpty()
    proc = start(veth.b.netns, "-i", veth.b.ifname, "-w", str(tmp_path / "s.pcap"), "udp",
                 stderr=slave)
    os.close(slave)
    seen = b""
    stop, thread = inject.background(5.0, pause_every=20)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and b"written" not in seen:
            if select.select([master], [], [], 0.2)[0]:
                seen += os.read(master, 4096)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        stop.set()
        thread.join()
        os.close(master)
    text = seen.decode(errors="replace")
    assert "captured" in text and "dropped" in text and "written" in text
    assert "packets captured" in text


# ------------------------------------------------------------- time stamps


def test_time_stamp_types(veth, inject, tmp_path):  # noqa: F811
    """veth has no hardware clock: -J offers host only, and -j adapter_unsynced
    warns as tcpdump does, then captures with host time stamps."""
    listed = start(veth.b.netns, "-J", "-i", veth.b.ifname)
    out, err = finish(listed, None)
    assert (out, err) == (b"", [                         # on stderr, as tcpdump has it
        f"Time stamp types for {veth.b.ifname} (use option -j to set):", "  host (Host)"])
    path = tmp_path / "j.pcap"
    proc = start(veth.b.netns, "-j", "adapter_unsynced", "-c", "3", "-w", str(path),
                 "-i", veth.b.ifname, "udp")
    wait_listening(proc)
    inject.burst(3)
    finish(proc, None)
    assert proc.before_listening[0] == (
        f"pycap: WARNING: When trying to set timestamp type 'adapter_unsynced' on "
        f"{veth.b.ifname}: That type of time stamp is not supported by that device")
    assert len(records(path)) == 3
    bad = start(veth.b.netns, "-j", "bogus", "-i", veth.b.ifname)
    _, err = finish(bad, None)
    assert bad.returncode == 1 and err == ["pycap: invalid time stamp type bogus"]


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
def test_monitor_mode_is_refused_as_tcpdump_refuses_it(veth):  # noqa: F811
    """-I on a device that is not 802.11 (veth, lo, any, one that does not
    exist): libpcap's error and status 1, as tcpdump's; -r ignores -I."""
    for interface in (veth.b.ifname, "lo", "any", "nosuch0"):
        said = []
        for argv in (["tcpdump"], [sys.executable, "-m", "pycap.cli"]):
            proc = subprocess.run(["ip", "netns", "exec", veth.b.netns, *argv, "-I", "-i", interface],
                                  capture_output=True, timeout=30,
                                  env=dict(os.environ, PYTHONPATH=str(REPO)))
            said.append((proc.returncode, proc.stderr.decode().split(": ", 1)[1]))
        assert said[0] == said[1] == (1, f"{interface}: That device doesn't support monitor mode\n")
    capture = str(REPO / "expr" / "corpus" / "pcaps" / "dns_tcp.pcap")
    proc = subprocess.run([sys.executable, "-m", "pycap.cli", "-I", "-n", "-r", capture, "-c", "1"],
                          capture_output=True, timeout=30, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 0 and proc.stdout.count(b"\n") == 1
