"""pycap.capture.devices: ``-D``'s list and the default interface in libpcap's
order, checked against what ``tcpdump -D`` (4.99.3, libpcap 1.10.3) printed
on this project's VM."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pycap.capture.devices import Device, _device, describe, rank
from tests.kernelsupport import kernel, veth  # noqa: F401

REPO = Path(__file__).resolve().parent.parent


def test_the_order_and_text_of_tcpdump_d():
    """The VM: eth0 up with a link, lo, two ifb devices that are down."""
    found = [Device("lo", loopback=True), Device("ifb0", False, False),
             Device("ifb1", False, False), Device("eth0", connected=True)]
    assert [describe(d) for d in rank(found)] == [
        "eth0 [Up, Running, Connected]",
        "any (Pseudo-device that captures on all interfaces) [Up, Running]",
        "lo [Up, Running, Loopback]",
        "ifb0 [none]",
        "ifb1 [none]",
    ]


def test_an_empty_namespace_captures_on_any():
    """Only lo, and it is down: tcpdump picks (and lists first) ``any``."""
    ranked = rank([Device("lo", False, False, loopback=True)])
    assert [describe(d) for d in ranked] == [
        "any (Pseudo-device that captures on all interfaces) [Up, Running]", "lo [Loopback]"]


def test_instance_numbers_then_disconnected_links_go_last_among_equals():
    found = [Device("eth2"), Device("eth1"), Device("veth-b"), Device("wan0", connected=False)]
    assert [d.name for d in rank(found)] == ["veth-b", "eth1", "eth2", "any", "wan0"]


def test_flags_come_from_sys(tmp_path):
    def fake(name, flags, operstate, carrier=None):
        (tmp_path / name).mkdir()
        (tmp_path / name / "flags").write_text(f"{flags:#x}\n")
        (tmp_path / name / "operstate").write_text(operstate + "\n")
        if carrier is not None:
            (tmp_path / name / "carrier").write_text(carrier + "\n")
    fake("eth0", 0x1003, "up", "1")
    fake("lo", 0x9, "unknown")
    fake("ifb0", 0x82, "down")
    fake("veth-x", 0x1003, "lowerlayerdown", "0")
    root = str(tmp_path)
    assert _device("eth0", root) == Device("eth0", True, True, False, True)
    assert _device("lo", root) == Device("lo", True, True, True, None)
    assert _device("ifb0", root) == Device("ifb0", False, False, False, None)
    assert _device("veth-x", root) == Device("veth-x", True, False, False, False)
    assert _device("gone", root) == Device("gone", False, False, False, None)


def _pycap(netns: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-m", "pycap.cli",
                           *args], capture_output=True, env=env, timeout=60)


@pytest.mark.kernel
def test_default_interface_and_numbers_in_a_namespace(veth):  # noqa: F811
    """A namespace holding lo and one end of a veth pair, both up: the veth
    end comes first, so it is the default, and ``-i 1`` names it."""
    deadline = time.monotonic() + 5           # the kernel sets the link's state a bit later
    while time.monotonic() < deadline and subprocess.run(
            ["ip", "netns", "exec", veth.b.netns, "cat",
             f"/sys/class/net/{veth.b.ifname}/operstate"],
            capture_output=True).stdout.strip() != b"up":
        time.sleep(0.05)
    listed = _pycap(veth.b.netns, "-D").stdout.decode().splitlines()
    assert listed[0].startswith(f"1.{veth.b.ifname} [Up, Running")
    assert listed[1].startswith("2.any ") and listed[2].startswith("3.lo [Up, Running, Loopback]")
    for args in ([], ["-i", "1"]):
        proc = _pycap(veth.b.netns, *args, "-J")
        assert proc.stderr.decode().startswith(f"Time stamp types for {veth.b.ifname} "), proc
    bad = _pycap(veth.b.netns, "-i", "9", "-J")
    assert bad.returncode == 1 and bad.stderr.decode() == "pycap: Invalid adapter index\n"
