"""Names without -n: host, port, protocol and Ethernet names as tcpdump 4.99
prints them (pycap.render.names and the printers that ask it).

The unit tests give ``Names`` their own resolver and files.  The tests
against tcpdump run both tools in a network namespace whose name service
reads only files written here (``ip netns exec`` puts /etc/netns/NAME/hosts
and nsswitch.conf in place of the system's): every name comes from that
hosts file, and no look-up leaves the namespace.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pycap.render import Renderer, RenderOptions
from pycap.render.names import OUI_NAMES, Names, read_ethers, read_services
from tests import corpus
from tests.kernelsupport import require_kernel
from tests.test_render import TCPDUMP, tcpdump_packets, tcpdump_texts

REPO = Path(__file__).resolve().parent.parent
V4 = re.compile(r"(?<![\w.:])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?!\d)")
V6 = re.compile(r"(?<![\w:])([0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7})(?![\w:])")


class Lookups:
    """A resolver from a table, counting its calls."""

    def __init__(self, table: dict[str, str]):
        self.table = {ipaddress.ip_address(a).packed: n for a, n in table.items()}
        self.calls: list[bytes] = []

    def __call__(self, family: int, packed: bytes) -> str | None:
        assert family == (socket.AF_INET if len(packed) == 4 else socket.AF_INET6)
        self.calls.append(packed)
        return self.table.get(packed)


def _v4(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def test_a_host_is_looked_up_once_and_unknown_ones_stay_numbers():
    lookups = Lookups({"10.0.0.1": "gw.example.test", "fd00::1": "six.example.test"})
    names = Names(lookups)
    assert names.ipv4(_v4("10.0.0.1")) == "gw.example.test"
    assert names.ipv4(_v4("10.0.0.1")) == "gw.example.test"
    assert names.ipv4(_v4("10.0.0.9")) == "10.0.0.9"
    assert names.ipv4(_v4("10.0.0.9")) == "10.0.0.9"
    assert names.ipv6(ipaddress.IPv6Address("fd00::1").packed) == "six.example.test"
    assert names.ipv6(ipaddress.IPv6Address("fd00::2").packed) == "fd00::2"
    assert len(lookups.calls) == 4                  # one per address, answered or not


def test_minus_N_cuts_the_domain():
    names = Names(Lookups({"10.0.0.1": "gw.example.test", "10.0.0.2": "bare"}), strip_domain=True)
    assert names.ipv4(_v4("10.0.0.1")) == "gw"
    assert names.ipv4(_v4("10.0.0.2")) == "bare"


def test_minus_f_names_only_the_local_network_and_every_ipv6_address():
    lookups = Lookups({"10.1.2.3": "inside", "192.168.1.1": "outside", "fd00::1": "six"})
    names = Names(lookups, foreign=(0x0A000000, 0xFF000000))
    assert names.ipv4(_v4("10.1.2.3")) == "inside"
    assert names.ipv4(_v4("192.168.1.1")) == "192.168.1.1"
    assert _v4("192.168.1.1") not in lookups.calls        # not even asked
    assert names.ipv6(ipaddress.IPv6Address("fd00::1").packed) == "six"   # as tcpdump: IPv4 only


def test_services_first_line_of_a_port_wins_per_protocol(tmp_path):
    path = tmp_path / "services"
    path.write_text("# comment\nhttp\t80/tcp\twww # WorldWideWeb\nhttp-alt 80/tcp\n"
                    "domain 53/udp\nsomething 53/tcp\nbroken\nodd x/tcp\nddp 2/ddp\n")
    table = read_services(str(path))
    assert table == {("tcp", 80): "http", ("udp", 53): "domain", ("tcp", 53): "something"}
    names = Names(Lookups({}), services=table)
    assert (names.tcp_port(80), names.udp_port(80), names.udp_port(53), names.tcp_port(53)) == (
        "http", "80", "domain", "something")
    assert read_services(str(tmp_path / "missing")) == {}


def test_ethers_broadcast_and_vendors(tmp_path):
    path = tmp_path / "ethers"
    path.write_text("00:11:22:33:44:55 box1\n0:1:2:3:4:5 short  # single digits\n"
                    "not-an-address x\nff:ff:ff:ff:ff:ff everyone\n00:11:22 toolittle\n")
    table = read_ethers(str(path))
    assert table == {bytes.fromhex("001122334455"): "box1", bytes.fromhex("000102030405"): "short",
                     b"\xff" * 6: "everyone"}
    names = Names(Lookups({}), ethers=table)
    assert names.ether(bytes.fromhex("001122334455")) == "box1"
    assert names.ether(b"\xff" * 6) == "everyone"                 # the file wins, as in tcpdump
    plain = Names(Lookups({}), ethers={})
    assert plain.ether(b"\xff" * 6) == "Broadcast"
    assert plain.ether(bytes.fromhex("00000c010203")) == "00:00:0c:01:02:03 (oui Cisco)"
    assert plain.ether(bytes.fromhex("0080c2000001")) == "00:80:c2:00:00:01 (oui Ethernet bridged)"
    assert plain.ether(bytes.fromhex("020000000001")) == "02:00:00:00:00:01 (oui Unknown)"
    assert OUI_NAMES[0x009069] == "Juniper"


def _tcp_frame(src: str, dst: str, sport: int, dport: int) -> bytes:
    ip = bytes.fromhex("450000280001000040060000") + _v4(src) + _v4(dst)
    tcp = sport.to_bytes(2, "big") + dport.to_bytes(2, "big") + bytes(8) + bytes([0x50, 0x02]) + \
        b"\x20\x00" + bytes(4)
    return bytes.fromhex("0000000000020000000000010800") + ip + tcp


def test_a_tcp_line_with_names_and_the_numeric_default():
    frame = _tcp_frame("10.0.0.1", "10.0.0.2", 443, 40000)
    opts = RenderOptions(timestamp="none", numeric=False)
    names = Names(Lookups({"10.0.0.1": "web.example.test"}), services={("tcp", 443): "https"},
                  ethers={})
    numeric = Renderer(RenderOptions(timestamp="none")).render(frame, len(frame), 1, 0)
    assert numeric.startswith("IP 10.0.0.1.443 > 10.0.0.2.40000: Flags [S]")
    named = Renderer(opts, names=names).render(frame, len(frame), 1, 0)
    assert named == numeric.replace("10.0.0.1.443", "web.example.test.https")
    with_link = Renderer(RenderOptions(timestamp="none", numeric=False, link_header=True),
                         names=names).render(frame, len(frame), 1, 0)
    assert with_link.startswith("00:00:00:00:00:01 (oui Ethernet) > 00:00:00:00:00:02 "
                                "(oui Ethernet), ethertype IPv4")


def test_ip_protocols_without_a_printer_get_tcpdumps_own_names():
    frag = bytes.fromhex("4500001c0001000840ff0000") + _v4("10.0.0.1") + _v4("10.0.0.2") + bytes(8)
    opts = RenderOptions(timestamp="none", numeric=False)
    names = Names(Lookups({}), services={}, ethers={})
    assert Renderer(opts, names=names).render(frag, len(frag), 101, 0) == \
        "IP 10.0.0.1 > 10.0.0.2: reserved"                 # 255, a fragment: no printer
    assert Renderer(RenderOptions(timestamp="none")).render(frag, len(frag), 101, 0) == \
        "IP 10.0.0.1 > 10.0.0.2: ip-proto-255"


# ---------------------------------------------------------------- against tcpdump


@pytest.fixture
def private_names() -> Iterator[tuple[str, Path]]:
    """A network namespace (only its loopback) whose name service reads
    files alone: (its name, the directory of its /etc files)."""
    require_kernel()
    name = f"pycap-names-{secrets.token_hex(3)}"
    etc = Path("/etc/netns") / name
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, timeout=30)
    try:
        etc.mkdir(parents=True)
        (etc / "nsswitch.conf").write_text("hosts: files\nservices: files\nprotocols: files\n"
                                           "ethers: files\nnetworks: files\n")
        (etc / "hosts").write_text("127.0.0.1 localhost\n")
        yield name, etc
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        shutil.rmtree(etc, ignore_errors=True)


def _name_every_address(etc: Path, modes: list[tuple[str, ...]]) -> int:
    """A hosts file naming every address tcpdump -n prints over the corpus
    in these modes; the number of names."""
    v4s, v6s = set(), set()
    kinds = ((V4, ipaddress.IPv4Address, v4s), (V6, ipaddress.IPv6Address, v6s))
    for path in sorted((corpus.CORPUS / "pcaps").iterdir()):
        for mode in modes:
            for text in tcpdump_packets(str(path), ("-t", *mode)):
                for pattern, parse, found in kinds:
                    for a in pattern.findall(text):
                        try:
                            found.add(parse(a))
                        except ValueError:
                            pass
    v4s.discard(ipaddress.IPv4Address("127.0.0.1"))
    lines = ["127.0.0.1 localhost"]
    lines += [f"{a} h4-{i}.corp.test" for i, a in enumerate(sorted(v4s))]
    lines += [f"{a} h6-{i}.corp.test" for i, a in enumerate(sorted(v6s))]
    (etc / "hosts").write_text("\n".join(lines) + "\n")
    return len(lines) - 1


def _pycap_texts(netns: str, flags: list[str], names: list[str]) -> dict[str, list[str]]:
    proc = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-m", "tests.render_corpus",
                           json.dumps(flags), *names], capture_output=True, check=True, timeout=600,
                          cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO), TZ="UTC"))
    return json.loads(proc.stdout)


MODES = [(), ("-e",), ("-vv",), ("-N", "-q")]


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
def test_the_corpus_prints_tcpdumps_names(private_names, capsys):
    """Every address of the corpus has a name: wherever pycap prints a
    packet as tcpdump -n does, it prints it as tcpdump does without -n."""
    netns, etc = private_names
    assert _name_every_address(etc, [m for m in MODES if "-N" not in m]) > 500
    captures = sorted(p.name for p in (corpus.CORPUS / "pcaps").iterdir())
    for mode in MODES:
        named = _pycap_texts(netns, list(mode), captures)
        numeric = _pycap_texts(netns, ["-n", *mode], captures)
        compared, with_names, differ = 0, 0, []
        for name in captures:
            argv = ["ip", "netns", "exec", netns, TCPDUMP, "-r", str(corpus.CORPUS / "pcaps" / name),
                    "-#", "-t", *mode]
            want, want_n = tcpdump_texts(argv), tcpdump_texts([*argv, "-n"])
            for i, (got, got_n, w, w_n) in enumerate(zip(named[name], numeric[name], want, want_n)):
                if got_n != w_n:
                    continue                  # a difference of its own (test_render counts those)
                compared += 1
                with_names += ".corp.test" in w or "h4-" in w
                if got != w:
                    differ.append((name, i + 1, w, got))
        with capsys.disabled():
            print(f"\nnames {' '.join(mode) or '(default)'}: {compared} packets compared, "
                  f"{with_names} with host names, {len(differ)} differ")
        assert compared > 2500 and with_names > 1500, mode
        assert differ == [], differ[:5]


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
@pytest.mark.parametrize("args", [(), ("-N",), ("-f",), ("-e", "-c", "3"), ("-n",)])
def test_the_command_without_n_prints_what_tcpdump_prints(private_names, args):
    """The command itself (the system resolver, /etc/services) against
    tcpdump, on a capture of DNS over TCP whose hosts are in the hosts file.
    -f with -r is tcpdump's usage error."""
    netns, etc = private_names
    (etc / "hosts").write_text("127.0.0.1 localhost\n192.168.1.11 client.corp.test client\n"
                               "209.87.249.18 ns1.example.test\n192.139.46.66 www.example.test\n")
    capture = str(corpus.CORPUS / "pcaps" / "dns_tcp.pcap")
    env = dict(os.environ, PYTHONPATH=str(REPO), TZ="UTC")
    ns = ["ip", "netns", "exec", netns]
    want = subprocess.run([*ns, TCPDUMP, "-r", capture, *args], capture_output=True, env=env,
                          timeout=60)
    got = subprocess.run([*ns, sys.executable, "-m", "pycap.cli", "-r", capture, *args],
                         capture_output=True, env=env, timeout=60)
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout)
    assert got.stderr.replace(b"pycap:", b"tcpdump:") == want.stderr
    if want.returncode == 0:
        assert (b"client" in got.stdout) == ("-n" not in args)


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
def test_minus_f_on_an_interface_without_ipv4_warns_as_tcpdump(private_names):
    """-f asks for the capture interface's IPv4 network once it is open; a
    veth without an address gets tcpdump's warning, then the capture."""
    netns, _ = private_names
    ns = ["ip", "netns", "exec", netns]
    subprocess.run([*ns, "ip", "link", "add", "vf-a", "type", "veth", "peer", "name", "vf-b"],
                   check=True, timeout=30)
    for dev in ("vf-a", "vf-b"):
        subprocess.run([*ns, "ip", "link", "set", dev, "up"], check=True, timeout=30)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    first_lines = []
    for argv in ([TCPDUMP], [sys.executable, "-m", "pycap.cli"]):
        proc = subprocess.Popen([*ns, *argv, "-f", "-i", "vf-a", "udp port 7"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        line = proc.stderr.readline().decode()
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
        first_lines.append(line.split(": ", 1)[1])
    assert first_lines[0] == first_lines[1] == \
        "WARNING: foreign (-f) flag used but: vf-a: no IPv4 address assigned\n"


def test_the_fast_path_names_as_the_general_printers_do():
    """Without -n the fast path (render/_fast.py) prints what the general
    printers print, every address named, on every corpus packet it takes."""
    def everyone(family: int, packed: bytes) -> str:
        return f"h-{packed.hex()}.corp.test"

    services = read_services()
    opts = RenderOptions(timestamp="none", numeric=False)
    hits = 0
    for path in sorted((corpus.CORPUS / "pcaps").iterdir()):
        fast = Renderer(opts, names=Names(everyone, services=services, ethers={}))
        general = Renderer(opts, names=Names(everyone, services=services, ethers={}))
        general._fast_links = {}
        linktype = corpus.captures().get(path.name, 1)
        for rec in corpus.records(path.name):
            want = general.render(rec[0], rec[1], linktype, 0)
            assert fast.render(rec[0], rec[1], linktype, 0) == want, (path.name, rec[0].hex())
            hits += fast._fast_links.get(linktype) is not None and "h-" in want
    assert hits > 1000
