"""The command line as a user meets it: output, exit codes, one-line errors."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests import corpus

ETHER_CAPTURE = str(corpus.CORPUS / "pcaps" / "synthetic-ether.pcap")


def pycap(*args: str, input: bytes | None = None, unprivileged: bool = False,
          timeout: float = 60) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pycap.cli", *args]
    if unprivileged:   # root's uid but no capabilities: no BPF, no packet sockets
        cmd = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", *cmd]
    env = dict(os.environ, TZ="UTC", PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    return subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, env=env)


def assert_one_clean_error(proc: subprocess.CompletedProcess, text: str) -> None:
    """One error line (after tcpdump's "reading from file" line, which -r
    prints as soon as the file is open)."""
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr.decode()
    assert error_lines(proc)[0] == f"pycap: {text}"


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.decode().splitlines()
            if not line.startswith("reading from file ")]


def test_dump_program():
    proc = pycap("-d", "tcp port 443")
    assert proc.returncode == 0
    lines = proc.stdout.decode().splitlines()
    assert lines[0].startswith("(000)") and lines[-1].endswith("exit")


def test_dump_c_array_and_decimal():
    c_array = pycap("-dd", "ip").stdout.decode().splitlines()
    decimal = pycap("-ddd", "ip").stdout.decode().splitlines()
    assert all(line.startswith("{ 0x") and line.endswith("},") for line in c_array)
    assert int(decimal[0]) == len(c_array) == len(decimal) - 1


def test_dump_for_another_link_type():
    raw = pycap("-d", "-y", "RAW", "ip").stdout.decode()
    assert "skb[12]" not in raw   # no ethertype on raw IP


def test_read_filter_and_print():
    proc = pycap("-r", ETHER_CAPTURE, "-n", "-t", "arp")
    assert proc.returncode == 0
    lines = proc.stdout.decode().splitlines()
    assert lines and all(line.startswith("ARP") for line in lines)
    assert len(lines) == len(corpus.expected("synthetic-ether.pcap")["arp"])


def test_read_write_round_trip(tmp_path):
    out = tmp_path / "tcp.pcap"
    proc = pycap("-r", ETHER_CAPTURE, "-w", str(out), "tcp")
    assert proc.returncode == 0
    again = pycap("-r", str(out), "-n", "-t")
    assert len(again.stdout.decode().splitlines()) == \
        len(corpus.expected("synthetic-ether.pcap")["tcp"])


def test_read_from_stdin_and_count():
    data = Path(ETHER_CAPTURE).read_bytes()
    proc = pycap("-r", "-", "-c", "3", "-t", "-n", input=data)
    assert proc.returncode == 0
    assert len(proc.stdout.decode().splitlines()) == 3


def test_reading_line_as_tcpdump_prints_it():
    """On stderr, once the file is open, before anything else (a filter
    error included); the same text as tcpdump 4.99 for all 272 captures of
    the corpora (checked when this was written)."""
    proc = pycap("-r", ETHER_CAPTURE, "-c", "1", "-n")
    assert proc.stderr.decode() == (f"reading from file {ETHER_CAPTURE}, link-type EN10MB "
                                    f"(Ethernet), snapshot length 65535\n")
    data = Path(ETHER_CAPTURE).read_bytes()
    piped = pycap("-r", "-", "-c", "1", "tcp port 99999", input=data)
    assert piped.stderr.decode().splitlines()[:2] == [
        "reading from file -, link-type EN10MB (Ethernet), snapshot length 65535",
        "pycap: illegal port number 99999 > 65535"]


def test_malformed_expression_gets_a_caret():
    proc = pycap("-r", ETHER_CAPTURE, "tcp port 99999")
    assert_one_clean_error(proc, "illegal port number 99999 > 65535")
    lines = error_lines(proc)
    assert lines[1].strip() == "tcp port 99999" and lines[2].strip() == "^^^^^"


def test_syntax_error():
    assert_one_clean_error(pycap("-d", "host and"), "can't parse filter expression: syntax error")


def test_missing_file():
    assert_one_clean_error(pycap("-r", "/nonexistent.pcap"),
                           "/nonexistent.pcap: No such file or directory")


def test_truncated_savefile_keeps_what_was_read(tmp_path):
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(Path(ETHER_CAPTURE).read_bytes()[:1000])
    out = tmp_path / "out.pcap"
    proc = pycap("-r", str(cut), "-w", str(out))
    assert proc.returncode != 0 and b"Traceback" not in proc.stderr
    assert b"truncated dump file" in proc.stderr
    listed = pycap("-r", str(out), "-t", "-n")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) > 0


def test_not_a_savefile(tmp_path):
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"this is not a capture file at all")
    proc = pycap("-r", str(junk))
    assert proc.returncode != 0 and b"Traceback" not in proc.stderr
    assert b"unknown file format" in proc.stderr


@pytest.mark.parametrize("linktype,message", [
    (147, "DLT 147 link-layer type filtering not implemented"),   # tcpdump's words
])
def test_filter_on_a_link_type_the_compiler_lacks(tmp_path, linktype, message):
    capture = tmp_path / "other.pcap"
    frame = bytes(4) + bytes.fromhex("45000014000100004006000a0a0000010a000002")
    capture.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
                        + struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame)
    assert_one_clean_error(pycap("-r", str(capture), "tcp"), message)
    assert pycap("-n", "-r", str(capture)).returncode == 0  # printing needs no filter


def test_unknown_interface():
    assert_one_clean_error(pycap("-i", "nosuchif0", "tcp"), "nosuchif0: No such device exists")


def test_bad_flag():
    proc = pycap("--no-such-flag")
    assert proc.returncode != 0 and b"Traceback" not in proc.stderr


def test_bad_count():
    assert_one_clean_error(pycap("-r", ETHER_CAPTURE, "-c", "0"), "invalid packet count 0")


@pytest.mark.kernel
def test_no_permission():
    from tests.kernelsupport import require_kernel
    require_kernel()
    proc = pycap("-i", "lo", "tcp", unprivileged=True)
    assert_one_clean_error(proc, "lo: You don't have permission to perform this capture on "
                                 "that device (bpf: Operation not permitted)")


def test_offline_works_unprivileged():
    """Without BPF privileges the IR interpreter gives the same verdicts."""
    proc = pycap("-r", ETHER_CAPTURE, "-w", "-", "udp", unprivileged=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == pycap("-r", ETHER_CAPTURE, "-w", "-", "udp").stdout


def test_write_to_stdout_pipe():
    proc = pycap("-r", ETHER_CAPTURE, "-w", "-", "icmp")
    assert proc.returncode == 0 and proc.stdout[:4] == b"\xd4\xc3\xb2\xa1"


def test_list_interfaces():
    proc = pycap("-D")
    assert proc.returncode == 0 and b".lo" in proc.stdout


def test_a_full_disk_under_stdout_is_one_line():
    """Printing into /dev/full: one line and status 1, from main() (the
    first write that fails) or from the final flush in entry()."""
    capture = Path(__file__).resolve().parent.parent / "expr" / "loopback" / "pcaps" / "null-le.pcap"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    for args in (["-r", str(capture), "-n"], ["--version"]):
        with open("/dev/full", "w") as full:
            proc = subprocess.run([sys.executable, "-m", "pycap.cli", *args], stdout=full,
                                  stderr=subprocess.PIPE, env=env, timeout=60)
        assert proc.returncode == 1, args
        assert error_lines(proc) == ["pycap: write error: No space left on device"], args


def test_the_command_exits_without_teardown_but_flushes():
    """entry(): what main() printed reaches a pipe although the interpreter's
    teardown is skipped."""
    proc = pycap("--version")
    assert proc.returncode == 0 and proc.stdout.decode().startswith("pycap version ")


TCPDUMP = __import__("shutil").which("tcpdump")


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
@pytest.mark.parametrize("args", [
    ("--count",), ("--count", "tcp"), ("-c", "3", "--count"),
    ("-n", "-S"), ("-n", "-c", "4", "--nano"), ("-n", "-c", "2", "--micro"),
    ("-n", "-O", "tcp or udp"), ("-n", "-l", "-c", "3"),
    ("-n", "-c", "2", "--snapshot-length=40"), ("-n", "--no-optimize", "-c", "2", "port 80"),
    ("-n", "-v", "-K", "-c", "20"), ("-n", "-vv", "--dont-verify-checksums", "-c", "20")])
def test_options_print_what_tcpdump_prints(args):
    """tcpdump 4.99's output for the same options: --count's number on
    stdout, -S's absolute sequence numbers, --micro and --nano, -O, -l, -K
    and the long names of -s, -O."""
    verbose = any(a.startswith("-v") for a in args)    # -v: a capture pycap prints as tcpdump
    capture = str(corpus.CORPUS / "pcaps" / ("dns_tcp.pcap" if verbose else "AH-IPcomp-IPv6.pcap"))
    want = subprocess.run([TCPDUMP, "-r", capture, *args], capture_output=True,
                          env=dict(os.environ, TZ="UTC"))
    got = pycap("-r", capture, *args)
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout)


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
@pytest.mark.parametrize("interface", ["lo", "any"])
def test_list_link_types_as_tcpdump(interface):
    """-L: tcpdump's list for lo and any (pycap does not list DOCSIS, which
    libpcap offers on Ethernet devices)."""
    want = subprocess.run([TCPDUMP, "-L", "-i", interface], capture_output=True)
    got = pycap("-L", "-i", interface)
    assert (got.returncode, got.stdout, got.stderr) == (want.returncode, b"", want.stderr)
    missing = pycap("-L", "-i", "pycap-no-such0")
    assert (missing.returncode, error_lines(missing)) == (
        1, ["pycap: pycap-no-such0: No such device exists"])


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
@pytest.mark.parametrize("args", [("-n",), ("-n", "-u")])
def test_nfs_handles_undecoded_with_u(args):
    """-u: NFS file handles as their 32-bit words (fh[f0c862c6:1000:...]),
    not decoded (fh Unknown/F0C8...), as tcpdump prints them."""
    capture = str(corpus.CORPUS / "pcaps" / "nfs-write-verf-cookie.pcapng")
    want = subprocess.run([TCPDUMP, "-r", capture, *args], capture_output=True,
                          env=dict(os.environ, TZ="UTC"))
    got = pycap("-r", capture, *args)
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout)
    assert (b" fh[" in got.stdout) == ("-u" in args)


def _md5_segment(secret: bytes, payload: bytes = b"", six: bool = False, flip: bool = False) -> bytes:
    """An Ethernet frame with a TCP segment signed as RFC 2385 says (one
    signature bit flipped if ``flip``)."""
    import hashlib
    if six:
        src, dst = bytes.fromhex("fd00" + "00" * 13 + "01"), bytes.fromhex("fd00" + "00" * 13 + "02")
    else:
        src, dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    tcp_len = 40 + len(payload)
    header = struct.pack("!HHIIBBHHH", 179, 40000, 1000, 0, 10 << 4, 0x02, 1024, 0, 0)
    pseudo = (src + dst + tcp_len.to_bytes(4, "big") + b"\0\0\0\x06" if six else
              src + dst + b"\0\x06" + tcp_len.to_bytes(2, "big"))
    digest = bytearray(hashlib.md5(pseudo + header + payload + secret).digest())
    digest[0] ^= flip
    tcp = header + bytes([19, 18]) + digest + b"\x01\x01" + payload
    if six:
        ip = struct.pack("!IHBB", 0x60000000, len(tcp), 6, 64) + src + dst
        return bytes(6) + bytes(5) + b"\x01\x86\xdd" + ip + tcp
    ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0) + src + dst
    return bytes(6) + bytes(5) + b"\x01\x08\x00" + ip + tcp


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
@pytest.mark.parametrize("args", [("-n",), ("-n", "-M", "s3cret"), ("-n", "-M", "other")])
def test_tcp_md5_signatures_checked_with_M(args, tmp_path):
    """-M: TCP-MD5 signatures (RFC 2385) over IPv4 and IPv6, with data or
    without, valid or not, and one cut short by the snap length, printed as
    tcpdump prints them; without -M, tcpdump's "shared secret not supplied"."""
    frames = [_md5_segment(b"s3cret"), _md5_segment(b"s3cret", b"hello"),
              _md5_segment(b"s3cret", flip=True), _md5_segment(b"s3cret", b"data6", six=True)]
    cut = _md5_segment(b"s3cret", b"x" * 40)
    capture = tmp_path / "md5.pcap"
    body = b"".join(struct.pack("<IIII", i, 0, len(f), len(f)) + f for i, f in enumerate(frames))
    body += struct.pack("<IIII", 9, 0, len(cut) - 20, len(cut)) + cut[:-20]
    capture.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + body)
    want = subprocess.run([TCPDUMP, "-r", str(capture), *args], capture_output=True,
                          env=dict(os.environ, TZ="UTC"))
    got = pycap("-r", str(capture), *args)
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout)
    assert got.stdout.count(b"md5 ") == 5
