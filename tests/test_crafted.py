"""Hand-made packets for printer paths the corpus captures do not reach,
each printed by pycap as tcpdump prints it (the installed tcpdump is the
reference, as in test_render); a frame given with a length is captured
only that far.  One case per mistake found in review:
each of these printed something else before its fix.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_render import TCPDUMP

REPO = Path(__file__).resolve().parent.parent
V6_SRC = bytes.fromhex("fe800000000000000000000000000001")
V6_DST = bytes.fromhex("ff02000000000000000000000000000d")


def _eth(ethertype: int, payload: bytes, dst: bytes = bytes.fromhex("001122334455")) -> bytes:
    return dst + bytes.fromhex("006677889900") + struct.pack("!H", ethertype) + payload


def _cksum(data: bytes) -> int:
    data += b"\0" * (len(data) & 1)
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ip4(proto: int, payload: bytes, src: bytes = b"\x0a\0\0\x01",
         dst: bytes = b"\x0a\0\0\x02") -> bytes:
    header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto,
                                   0, src, dst))
    struct.pack_into("!H", header, 10, _cksum(bytes(header)))
    return bytes(header) + payload


def _ip6(next_header: int, payload: bytes, dst: bytes = V6_DST) -> bytes:
    return struct.pack("!IHBB", 0x60000000, len(payload), next_header, 64) + V6_SRC + dst + payload


def _summed(message: bytes, at: int, pseudo: bytes, flip: bool = False) -> bytes:
    """``message`` with its checksum at ``at`` over the pseudo-header, or one off."""
    out = bytearray(message)
    struct.pack_into("!H", out, at, _cksum(pseudo + message) ^ flip)
    return bytes(out)


def _vrrp3(six: bool, flip: bool = False) -> bytes:
    address = V6_SRC if six else b"\x0a\0\0\x01"
    message = struct.pack("!BBBBHH", 0x31, 1, 100, 1, 100, 0) + address
    if six:
        group = bytes.fromhex("ff020000000000000000000000000012")
        pseudo = V6_SRC + group + struct.pack("!I", len(message)) + b"\0\0\0\x70"
        return _eth(0x86DD, _ip6(112, _summed(message, 6, pseudo, flip), dst=group))
    pseudo = address + b"\xe0\0\0\x12" + struct.pack("!HH", 112, len(message))
    return _eth(0x800, _ip4(112, _summed(message, 6, pseudo, flip), dst=b"\xe0\0\0\x12"))


def _pim_hello_via_routing_header() -> bytes:
    """A PIMv2 Hello summed for the routing header's final destination."""
    hop = bytes.fromhex("20010000000000000000000000000009")
    hello = struct.pack("!BBH", 0x20, 0, 0) + struct.pack("!HHH", 1, 2, 105)
    pseudo = V6_SRC + V6_DST + struct.pack("!I", len(hello)) + b"\0\0\0\x67"
    routing = bytes([103, 2, 0, 1, 0, 0, 0, 0]) + V6_DST
    return _eth(0x86DD, _ip6(43, routing + _summed(hello, 2, pseudo), dst=hop))


def _udp(sport: int, dport: int, data: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def _bootp(options: bytes, sname: bytes = b"") -> bytes:
    fixed = struct.pack("!BBBBIHH16s", 1, 1, 6, 0, 0x1234, 0, 0, bytes(16))
    return (fixed + bytes.fromhex("006677889900") + bytes(10) + sname.ljust(64, b"\0")[:64]
            + bytes(128) + b"\x63\x82\x53\x63" + options)


def _dstopt(option: bytes) -> bytes:
    """A destination-options header holding ``option``, padded, then UDP."""
    pad = -(2 + len(option)) % 8
    body = option + (bytes([1, pad - 2]) + bytes(pad - 2) if pad >= 2 else bytes(pad))
    return _ip6(60, bytes([17, (2 + len(body)) // 8 - 1]) + body + _udp(1000, 2000, b"hello"))


def _home_address(sub_options: bytes) -> bytes:
    return bytes([0xC9, 16 + len(sub_options)]) + bytes.fromhex("2001" + "00" * 13 + "05") \
        + sub_options


def _lldp(*tlvs: tuple[int, bytes]) -> bytes:
    body = b"".join(struct.pack("!H", (t << 9) | len(v)) + v
                    for t, v in (*tlvs, (0, b"")))
    return _eth(0x88CC, body, dst=bytes.fromhex("0180c200000e"))


def _isakmp(initiator_cookie: bytes, responder_cookie: bytes) -> bytes:
    return initiator_cookie + responder_cookie + struct.pack("!BBBBII", 1, 0x10, 2, 0, 0, 28)


def _decnet(message: bytes) -> bytes:
    """A DECnet frame: the little-endian length, then the message (from its flags byte)."""
    return _eth(0x6003, struct.pack("<H", len(message)) + message + bytes(10),
                dst=bytes.fromhex("aa0004000104"))


def _le(value: int) -> bytes:
    return struct.pack("<H", value)


DN_ROUTER_HELLO = bytes([0x0B, 2, 0, 0]) + bytes(4) + _le(1025) + bytes([2]) + _le(1498) \
    + bytes([64, 0]) + _le(15) + bytes([0])
DN_DATA_ACK = bytes([0x02]) + _le(1029) + _le(1030) + bytes([3]) \
    + bytes([0x04]) + _le(1) + _le(2) + _le(0x8009) + _le(0xA00A)
def _cdp(*tlvs: tuple[int, bytes]) -> bytes:
    """A CDPv2 frame in 802.3 with LLC/SNAP (Cisco, PID 0x2000)."""
    body = bytes([2, 180, 0, 0]) + b"".join(struct.pack("!HH", t, 4 + len(v)) + v for t, v in tlvs)
    llc = bytes.fromhex("aaaa0300000c2000") + body
    return bytes.fromhex("01000ccccccc006677889900") + struct.pack("!H", len(llc)) + llc


def _pim_hello(option_type: int, value: bytes) -> bytes:
    hello = struct.pack("!BBH", 0x20, 0, 0) + struct.pack("!HH", option_type, len(value)) + value
    return _eth(0x800, _ip4(103, _summed(hello, 2, b""), dst=b"\xe0\0\0\x0d"))


COOKIE = bytes.fromhex("0102030405060708")
CASES = {
    # rfc1048_print(): a letter without a case of its own prints the bytes
    "dhcp-message-of-length-2": (("-v",), [_eth(0x800, _ip4(17, _udp(68, 67, _bootp(
        bytes([53, 2, 1, 3, 51, 4, 0, 0, 0x0E, 0x10, 255])))))]),
    # nd_printztn(): a server name without NUL is cut short
    "bootp-sname-without-nul": (("-v",), [_eth(0x800, _ip4(17, _udp(68, 67, _bootp(
        bytes([53, 1, 1, 255]), b"A" * 64))))]),
    # dstopt_process(): the options only with -v
    "dstopt-bad-option-without-v": ((), [_eth(0x86DD, _dstopt(bytes([5, 1, 0])))]),
    "home-address-sub-options": (("-v",), [_eth(0x86DD, _dstopt(_home_address(sub)))
                                           for sub in (bytes([7, 2, 0xAA, 0xBB]),
                                                       bytes([7, 9, 0xAA, 0xBB]), bytes([7]))]),
    # LLDP 802.1 Application Priority: priority byte, then the protocol ID
    "lldp-application-priority": (("-v",), [_lldp(
        (1, b"\x04" + bytes.fromhex("001122334455")), (2, b"\x03" + bytes.fromhex("001122334455")),
        (3, b"\x00\x78"), (127, bytes.fromhex("0080c20c00") + bytes.fromhex("61888e" "a00050")))]),
    # ahcp1_body_print(): four bytes, then as many as the body's length says
    "ahcp-body-lengths": ((), [_eth(0x800, _ip4(17, _udp(5359, 5359, bytes([43, 1]) + bytes(22) + body)))
                               for body in (b"", b"\x01\x00\x00\x09abc", b"\x01\x00\x00\x03abc")]),
    # print_decnet_ctlmsg(): the name, then the length check, then the capture check
    "decnet-control-sizes": ((), [
        _decnet(bytes([0x01]) + _le(1027) + bytes([6]) + _le(576) + bytes([2, 0, 0]) + _le(15)),
        _decnet(bytes([0x0D]) + bytes(9)),
        (_decnet(DN_ROUTER_HELLO), 14 + 2 + 12),
        (_decnet(DN_DATA_ACK), 14 + 2 + 6 + 8)]),
    # print-lldp.c: a TLV header or value cut short ends the packet with
    # [|lldp] but keeps the link header out of -x's dump
    "lldp-cut-short": (("-v", "-x"), [(_lldp((1, b"\x04" + bytes(6)), (2, b"\x03" + bytes(6))), cut)
                                      for cut in (14 + 9 + 1, 14 + 9 + 3)]),
    # nextproto4_cksum()/nextproto6_cksum(): VRRPv3 and PIM over IPv6 (to the
    # routing header's final destination) are summed with the pseudo-header
    "pseudo-header-checksums": (("-v",), [_vrrp3(False), _vrrp3(False, flip=True), _vrrp3(True),
                                          _vrrp3(True, flip=True), _pim_hello_via_routing_header()]),
    # print-ether.c: a TapAgg subtype it does not know is dumped raw, after
    # the addresses and type (again) when -e has not printed them
    "arista-unknown-subtype": ((), [_eth(0xD28B, bytes.fromhex("00020010") + bytes(12))]),
    "arista-unknown-subtype-e": (("-e",), [_eth(0xD28B, bytes.fromhex("00020010") + bytes(12))]),
    # cdptlvs[]: each type's printer and its least and most value lengths
    "cdp-tlv-table": (("-v",), [
        _cdp((1, b"sw1"), (4, b"\0\x29"), (7, bytes(7)), (2, bytes(4) + b"\x0a\0\0\x01"),
             (0x10, bytes(4)), (0x0E, b"\x01\x00\x05"), (0x0F, b"\x20\x00"), (0x15, b"\x01"),
             (0x0C, b"\x02")),
        (_cdp((1, b"switch-one"), (3, b"Gi0/1")), 14 + 8 + 4 + 4 + 6)]),
    # pimv2_print(): Hello options of a fixed length, each given another
    "pim-hello-option-lengths": (("-v",), [_pim_hello(t, bytes(n)) for t, n in
                                           ((1, 3), (2, 2), (19, 2), (20, 2), (21, 5), (1, 2))]),
    # cookie_sidecheck(): initiator or responder by the source address alone
    "isakmp-side-by-source": ((), [
        _eth(0x800, _ip4(17, _udp(500, 500, _isakmp(COOKIE, bytes(8))))),
        _eth(0x800, _ip4(17, _udp(500, 500, _isakmp(COOKIE, b"\x11" * 8)), dst=b"\x0a\0\0\x03")),
        _eth(0x800, _ip4(17, _udp(500, 500, _isakmp(COOKIE, b"\x11" * 8)),
                         src=b"\x0a\0\0\x02", dst=b"\x0a\0\0\x09")),
        _eth(0x800, _ip4(17, _udp(500, 500, _isakmp(COOKIE, b"\x11" * 8)),
                         src=b"\x0a\0\0\x07", dst=b"\x0a\0\0\x01"))]),
}


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
@pytest.mark.parametrize("name", sorted(CASES))
def test_crafted_packets_print_as_tcpdump_prints_them(name, tmp_path):
    flags, frames = CASES[name]
    capture = tmp_path / f"{name}.pcap"
    records = [(f, len(f)) if isinstance(f, bytes) else f for f in frames]   # (frame, caplen)
    capture.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + b"".join(
        struct.pack("<IIII", i, 0, cut, len(f)) + f[:cut] for i, (f, cut) in enumerate(records)))
    env = dict(os.environ, TZ="UTC", PYTHONPATH=str(REPO))
    argv = ["-n", "-t", "-r", str(capture), *flags]
    want = subprocess.run([TCPDUMP, *argv], capture_output=True, env=env, timeout=60)
    got = subprocess.run([sys.executable, "-m", "pycap.cli", *argv], capture_output=True,
                         env=env, timeout=60)
    assert want.returncode == 0 and want.stdout.count(b"\n") >= len(frames)
    assert got.stdout.decode() == want.stdout.decode()
