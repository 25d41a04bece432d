"""-C/-G/-W/-z: tcpdump 4.99's file names and rotation points, checked against
the real tcpdump where it is installed (byte-identical files)."""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pycap.errors import UsageError
from pycap.savefile import PcapngWriter, PcapWriter, RotatingWriter, open_savefile, open_writer
from pycap.savefile.rotate import counter_width, parse_file_size, rotation_name

REPO = Path(__file__).resolve().parent.parent


def pycap(*args: str, cwd=None, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, TZ="UTC", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "pycap.cli", *args], capture_output=True,
                          timeout=timeout, env=env, cwd=cwd)


def write_sample(path: Path, count: int = 10000, size: int = 500) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(count):
            data = bytes(12) + b"\x08\x00" + bytes([i & 0xFF]) * (size - 14)
            f.write(struct.pack("<IIII", 1_700_000_000 + i // 1000, i % 1000 * 1000, size, size))
            f.write(data)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rot") / "in.pcap"
    write_sample(path)
    return path


# ----------------------------------------------------------------------- names


def test_counter_width_is_tcpdumps_getWflagChars():
    assert [counter_width(n) for n in (1, 2, 10, 11, 100, 101)] == [0, 1, 1, 2, 2, 3]


def test_rotation_names():
    assert rotation_name("out.pcap", 0, 0) == "out.pcap"
    assert rotation_name("out.pcap", 3, 0) == "out.pcap3"
    assert rotation_name("out.pcap", 0, 2) == "out.pcap00"
    when = time.mktime((2024, 5, 6, 7, 8, 9, 0, 0, -1))
    assert rotation_name("cap-%Y%m%d-%H%M%S.pcap", 0, 0, when) == "cap-20240506-070809.pcap"
    assert rotation_name("cap-%H.pcap", 4, 1, when) == "cap-07.pcap4"
    with pytest.raises(UsageError):
        rotation_name("", 0, 0)


def test_file_sizes():
    assert parse_file_size("1") == 1_000_000
    assert parse_file_size("20k") == 20 * 1024
    assert parse_file_size("3M") == 3 * 1024 * 1024
    for bad in ("0", "-1", "x", "1x", ""):
        with pytest.raises(UsageError, match="invalid file size"):
            parse_file_size(bad)


# ------------------------------------------------------------ rotation points


def listing(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.mark.parametrize("extra", [[], ["-W", "3"], ["-W", "11"]])
def test_size_rotation_matches_tcpdump(sample, tmp_path, extra):
    ours = tmp_path / "ours"
    ours.mkdir()
    proc = pycap("-r", str(sample), "-w", str(ours / "out.pcap"), "-C", "1", *extra)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in ours.iterdir())
    if not extra:
        assert names == ["out.pcap", "out.pcap1", "out.pcap2", "out.pcap3", "out.pcap4",
                         "out.pcap5"]
    elif extra[1] == "3":
        assert names == ["out.pcap0", "out.pcap1", "out.pcap2"]
    else:
        assert names == [f"out.pcap{i:02d}" for i in range(6)]
    for name, data in listing(ours).items():
        if name not in ("out.pcap5", "out.pcap05", "out.pcap2"):
            # over the limit by the one packet that crossed it
            assert 1_000_000 < len(data) <= 1_000_000 + 16 + 500
    if shutil.which("tcpdump") is None:
        return
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    done = subprocess.run(["tcpdump", "-Z", "root", "-r", str(sample), "-w",
                           str(theirs / "out.pcap"), "-C", "1", *extra],
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert listing(ours) == listing(theirs)


def test_rotating_writer_splits_encoded_blocks_like_per_packet_writes(tmp_path):
    """Whole blocks appended to the buffer, then split at tcpdump's points,
    give the same files as packet-by-packet writes."""
    rnd = random.Random(11)
    packets = [(i * 1000, rnd.randbytes(rnd.choice([60, 300, 1400])), 1500) for i in range(3000)]
    for pcapng in (False, True):
        results = []
        for mode in ("packet", "block"):
            d = tmp_path / f"{mode}-{pcapng}"
            d.mkdir()
            opener = lambda path: open_writer(path, 1, 262144, pcapng=pcapng)  # noqa: E731
            rot = RotatingWriter(str(d / "x"), opener, size_limit=100_000, max_files=7)
            if mode == "packet":
                for ts, data, wire in packets:
                    rot.write_raw(ts, data, wire)
            else:
                scratch = io.BytesIO()
                enc = (PcapngWriter(scratch, [(1, 262144, None)]) if pcapng
                       else PcapWriter(scratch, 1, 262144))
                header = len(scratch.getvalue())
                for first in range(0, len(packets), 250):
                    chunk = packets[first:first + 250]
                    for ts, data, wire in chunk:
                        enc.write_raw(ts, data, wire)
                    enc.flush()
                    encoded = scratch.getvalue()[header:]
                    scratch.seek(header)
                    scratch.truncate()
                    assert rot.before_packet()
                    start = len(rot.buffer)
                    rot.buffer.extend(encoded)
                    rot.commit(len(chunk), start)
            rot.close()
            assert rot.records == len(packets)
            results.append(listing(d))
        assert results[0] == results[1]
        assert len(results[0]) == 7


def test_time_rotation_with_W_stops(tmp_path):
    now = [1000.0]
    opened = []

    def opener(path):
        opened.append(path)
        return open_writer(path, 1, 262144)
    rotated = []
    rot = RotatingWriter(str(tmp_path / "t-%s.pcap"), opener, seconds=2, max_files=3,
                         post_rotate=rotated.append, clock=lambda: now[0])
    assert rot.write_raw(0, b"x" * 60, 60)
    now[0] += 1.9
    assert rot.write_raw(0, b"x" * 60, 60)          # same file
    now[0] += 0.2
    assert rot.write_raw(0, b"x" * 60, 60)          # second file
    now[0] += 5
    assert rot.write_raw(0, b"x" * 60, 60)          # third file
    now[0] += 2
    assert not rot.write_raw(0, b"x" * 60, 60)      # -W 3 reached
    rot.close()
    names = [Path(p).name for p in opened]
    assert names == [time.strftime("t-%s.pcap", time.localtime(t)) for t in (1000, 1002, 1007)]
    assert rotated == opened                           # -z ran on every file it closed
    counts = []
    for path in opened:
        with open_savefile(path) as reader:
            counts.append(len(list(reader)))
    assert counts == [2, 1, 1]


def test_time_and_size_rotation_names(tmp_path):
    now = [2000.0]
    opened = []

    def opener(path):
        opened.append(Path(path).name)
        return open_writer(path, 1, 262144)
    rot = RotatingWriter(str(tmp_path / "g%s-"), opener, seconds=10, size_limit=1000,
                         max_files=3, clock=lambda: now[0])
    for _ in range(3):
        rot.write_raw(0, bytes(600), 600)
    now[0] += 10
    rot.write_raw(0, bytes(600), 600)
    rot.close()
    assert opened == ["g2000-0", "g2000-1", "g2010-0"]


def test_post_rotate_runs_on_rotated_files_only(sample, tmp_path):
    log = tmp_path / "log"
    script = tmp_path / "hook.sh"
    script.write_text(f"#!/bin/sh\necho \"$1\" >> {log}\n")
    script.chmod(0o755)
    proc = pycap("-r", str(sample), "-w", str(tmp_path / "o.pcap"), "-C", "2", "-z", str(script))
    assert proc.returncode == 0, proc.stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (not log.exists() or
                                           len(log.read_text().split()) < 2):
        time.sleep(0.05)
    assert sorted(log.read_text().split()) == [str(tmp_path / "o.pcap"),
                                               str(tmp_path / "o.pcap1")]
    assert (tmp_path / "o.pcap2").exists()


def test_rotation_needs_a_file_name(sample):
    proc = pycap("-r", str(sample), "-w", "-", "-C", "1")
    assert proc.returncode == 1
    assert proc.stderr.decode().splitlines() == [
        "pycap: -C and -G need a file name to rotate: use -w FILE"]
    proc = pycap("-r", str(sample), "-w", "x", "-W", "0")
    assert proc.stderr.decode().splitlines() == ["pycap: invalid number of output files 0"]
