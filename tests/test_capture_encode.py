"""The -w hot path without a kernel: ring blocks laid out as TPACKET_V3 does,
encoded in place, must give exactly the records the savefile writers give
for the same packets (and the savefile readers must read them back).

Every test runs twice: with the C encoder (``pycap.capture._ringcodec``,
skipped where it is not built; tests/test_capture_ringcodec.py fails instead
in CI) and with the Python loops."""

from __future__ import annotations

import io
import random
import struct

import pytest

from pycap.capture import encode
from pycap.capture.encode import BlockEncoder, Layout, reserve_for
from pycap.capture.ring import TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID, Block
from pycap.linktype import LinkType
from pycap.savefile import PcapngWriter, PcapWriter, open_savefile

TPACKET3_HDRLEN = 68
_HDR = struct.Struct("=IIIIIIHHIIH")     # tpacket3_hdr up to hv1.tp_vlan_tpid
_SLL = struct.Struct("=HHiHBB8s")        # sockaddr_ll, sll_protocol kept as read


@pytest.fixture(autouse=True, params=["c", "python"])
def implementation(request, monkeypatch):
    """The encoder picks the C half at construction when it is importable."""
    if request.param == "python":
        monkeypatch.setattr(encode, "_ringcodec", None)
    elif encode._ringcodec is None:
        pytest.skip("pycap.capture._ringcodec is not built")
    return request.param


def align(n: int, a: int) -> int:
    return (n + a - 1) & -a


def make_block(packets: list[dict], reserve: int, dgram: bool = False, size: int = 1 << 16):
    """A block laid out like net/packet/af_packet.c with TPACKET_V3: each packet
    is ``{"data", "wire", "sec", "nsec", "status", "tci", "tpid", "pkttype",
    "ifindex", "proto", "hatype", "addr"}`` (most optional)."""
    ring = bytearray(random.Random(7).randbytes(size))   # garbage, like a reused block
    off = 48
    offsets = []
    for i, p in enumerate(packets):
        p.setdefault("sec", 1_700_000_000 + i)
        p.setdefault("nsec", 123_456_789)
        p.setdefault("wire", len(p["data"]))
        data = p["data"]
        maclen = 0 if dgram else 14
        netoff = align(TPACKET3_HDRLEN + max(16, maclen), 16) + reserve
        mac = netoff - (0 if dgram else maclen)
        nxt = align(mac + len(data), 8) if i < len(packets) - 1 else 0
        _HDR.pack_into(ring, off, nxt, p["sec"], p["nsec"], len(data), p["wire"],
                       p.get("status", 1), mac, netoff, 0,
                       p.get("tci", 0), p.get("tpid", 0))
        proto = struct.pack("!H", p.get("proto", 0x0800))
        _SLL.pack_into(ring, off + 48, 17, struct.unpack("=H", proto)[0], p.get("ifindex", 2),
                       p.get("hatype", 1), p.get("pkttype", 0), 6,
                       p.get("addr", b"\x02\x00\x00\x00\x00\x01"))
        ring[off + mac:off + mac + len(data)] = data
        offsets.append(off)
        off += nxt
    return memoryview(ring), Block(0, 0, len(packets), 48)


def frames(count: int, seed: int = 1) -> list[bytes]:
    rnd = random.Random(seed)
    out = []
    for i in range(count):
        n = rnd.choice([60, 61, 62, 63, 64, 590, 1514])
        out.append(bytes([i & 0xFF]) * 12 + b"\x08\x00" + rnd.randbytes(n - 14))
    return out


def expected(packets, pcapng: bool, nanosecond: bool, linktype: int = 1,
             snaplen: int = 262144) -> bytes:
    """What the savefile writers make of the same packets."""
    f = io.BytesIO()
    w = (PcapngWriter(f, [(linktype, snaplen, None)], nanosecond) if pcapng
         else PcapWriter(f, linktype, snaplen, nanosecond))
    header = f.getvalue()
    for p in packets:
        w.write_raw(p["sec"] * 1_000_000_000 + p["nsec"], p["data"], p["wire"])
    w.flush()
    return f.getvalue()[len(header):]


@pytest.mark.parametrize("pcapng", [False, True])
@pytest.mark.parametrize("nanosecond", [False, True])
def test_fast_path_matches_the_writers(pcapng, nanosecond):
    packets = [{"data": d, "wire": len(d) + (i % 3), "sec": 1_700_000_000 + i,
                "nsec": 999_999_999 - i * 1_000_001} for i, d in enumerate(frames(60))]
    headroom = 28 if pcapng else 16
    view, block = make_block(packets, reserve_for(None, headroom))
    enc = BlockEncoder(view, Layout(snaplen=262144, vlan=True, headroom=headroom,
                                    kernel_snaplen=True), pcapng=pcapng, nanosecond=nanosecond)
    assert enc.fast
    out = bytearray()
    assert enc.encode(block, out) == 60
    assert block.exhausted
    assert bytes(out) == expected(packets, pcapng, nanosecond)


@pytest.mark.parametrize("pcapng", [False, True])
def test_general_path_matches_the_fast_path(pcapng):
    packets = [{"data": d, "wire": len(d)} for d in frames(40, seed=3)]
    results = []
    for fast in (True, False):
        view, block = make_block(packets, reserve_for(None, 28))
        enc = BlockEncoder(view, Layout(snaplen=262144, vlan=True, headroom=28,
                                        kernel_snaplen=fast), pcapng=pcapng)
        assert enc.fast is fast
        out = bytearray()
        enc.encode(block, out)
        results.append(bytes(out))
    assert results[0] == results[1]


def test_encoding_resumes_where_it_stopped():
    packets = [{"data": d, "wire": len(d)} for d in frames(50, seed=5)]
    view, block = make_block(packets, reserve_for(None, 16))
    enc = BlockEncoder(view, Layout(snaplen=262144, headroom=16, kernel_snaplen=True))
    out = bytearray()
    counts = []
    while not block.exhausted:
        counts.append(enc.encode(block, out, 7))
    assert counts == [7] * 7 + [1]
    assert bytes(out) == expected(packets, False, False)


def test_vlan_tag_is_reinserted_in_place():
    plain = frames(3, seed=9)
    packets = [{"data": d, "wire": len(d)} for d in plain]
    packets[1].update(status=1 | TP_STATUS_VLAN_VALID, tci=0x2064)
    packets[2].update(status=1 | TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID,
                      tci=5, tpid=0x88A8)
    view, block = make_block(packets, reserve_for(None, 16))
    enc = BlockEncoder(view, Layout(snaplen=262144, vlan=True, headroom=16, kernel_snaplen=True))
    out = bytearray()
    assert enc.encode(block, out) == 3
    tagged = [plain[0],
              plain[1][:12] + b"\x81\x00\x20\x64" + plain[1][12:],
              plain[2][:12] + b"\x88\xa8\x00\x05" + plain[2][12:]]
    want = [{"data": d, "wire": len(d), "sec": p["sec"], "nsec": p["nsec"]}
            for d, p in zip(tagged, packets)]
    assert bytes(out) == expected(want, False, False)


def test_vlan_tag_respects_the_snap_length():
    data = frames(1)[0][:64]
    packets = [{"data": data, "wire": 1000, "status": 1 | TP_STATUS_VLAN_VALID, "tci": 7}]
    view, block = make_block(packets, reserve_for(None, 16))
    enc = BlockEncoder(view, Layout(snaplen=64, vlan=True, headroom=16, kernel_snaplen=True))
    out = bytearray()
    enc.encode(block, out)
    sec, usec, caplen, wire = struct.unpack_from("<IIII", out)
    assert (caplen, wire) == (64, 1004)
    assert out[16:16 + 64] == data[:12] + b"\x81\x00\x00\x07" + data[12:60]


@pytest.mark.parametrize("cooked,linktype,hlen", [("sll2", LinkType.LINUX_SLL2, 20),
                                                   ("sll", LinkType.LINUX_SLL, 16)])
def test_cooked_headers_are_synthesized(cooked, linktype, hlen):
    ip = bytes.fromhex("4500001c000100004011") + bytes(18)
    packets = [{"data": ip, "wire": len(ip), "pkttype": 4, "ifindex": 7, "proto": 0x0800},
               {"data": ip, "wire": len(ip), "pkttype": 0, "ifindex": 258, "proto": 0x86DD,
                "hatype": 772}]
    view, block = make_block(packets, reserve_for(cooked, 16), dgram=True)
    enc = BlockEncoder(view, Layout(snaplen=262144, cooked=cooked, headroom=16))
    assert enc.fast_cooked
    out = bytearray()
    assert enc.encode(block, out) == 2
    # the general path (as with a user-space filter) agrees
    view2, block2 = make_block(packets, reserve_for(cooked, 16), dgram=True)
    general = BlockEncoder(view2, Layout(snaplen=262144, cooked=cooked, headroom=16,
                                         accept=lambda data, wire: True))
    assert not general.fast_cooked
    out2 = bytearray()
    assert general.encode(block2, out2) == 2
    assert out2 == out
    addr = b"\x02\x00\x00\x00\x00\x01\x00\x00"
    if cooked == "sll2":
        heads = [struct.pack("!HHIHBB8s", 0x0800, 0, 7, 1, 4, 6, addr),
                 struct.pack("!HHIHBB8s", 0x86DD, 0, 258, 772, 0, 6, addr)]
    else:
        heads = [struct.pack("!HHH8sH", 4, 1, 6, addr, 0x0800),
                 struct.pack("!HHH8sH", 0, 772, 6, addr, 0x86DD)]
    want = [{"data": h + ip, "wire": len(ip) + hlen, "sec": 1_700_000_000 + i,
             "nsec": 123_456_789} for i, h in enumerate(heads)]
    assert bytes(out) == expected(want, False, False, linktype)


def test_loopback_outgoing_copies_and_direction_out():
    packets = [{"data": d, "wire": len(d), "pkttype": k, "ifindex": 1}
               for d, k in zip(frames(4, seed=2), (0, 4, 0, 4))]
    kept = {}
    for name, layout in (("lo", Layout(snaplen=262144, lo_ifindex=1, headroom=16)),
                         ("out", Layout(snaplen=262144, direction="out", headroom=16))):
        view, block = make_block(packets, reserve_for(None, 16))
        out = bytearray()
        kept[name] = BlockEncoder(view, layout).encode(block, out)
    assert kept == {"lo": 2, "out": 2}


def test_user_space_filter_sees_the_whole_frame_then_cuts():
    packets = [{"data": d, "wire": len(d)} for d in frames(20, seed=4)]
    seen = []

    def accept(data, wire):
        seen.append((len(data), wire))
        return len(data) > 100

    view, block = make_block(packets, reserve_for(None, 16))
    enc = BlockEncoder(view, Layout(snaplen=80, accept=accept, headroom=16))
    out = bytearray()
    n = enc.encode(block, out)
    assert seen == [(len(p["data"]), p["wire"]) for p in packets]
    big = [p for p in packets if len(p["data"]) > 100]
    assert n == len(big)
    want = [{"data": p["data"][:80], "wire": p["wire"], "sec": p["sec"], "nsec": p["nsec"]}
            for p in big]
    assert bytes(out) == expected(want, False, False, snaplen=80)


def test_encoded_pcapng_reads_back(tmp_path):
    packets = [{"data": d, "wire": len(d)} for d in frames(30, seed=8)]
    view, block = make_block(packets, reserve_for(None, 28))
    enc = BlockEncoder(view, Layout(snaplen=262144, headroom=28, kernel_snaplen=True),
                       pcapng=True, ifid=1)
    path = tmp_path / "x.pcapng"
    with open(path, "wb") as f:
        w = PcapngWriter(f, [(1, 262144, "a"), (1, 262144, "b")])
        start = len(w.buffer)
        w.commit(enc.encode(block, w.buffer))
        assert start == 0
        w.write_stats(1, 30, 0, None, None)
        w.close()
    with open_savefile(str(path)) as reader:
        records = list(reader)
    assert [r.data for r in records] == [p["data"] for p in packets]
    assert {r.interface for r in records} == {1}


@pytest.mark.parametrize("pcapng", [False, True])
def test_cooked_fast_path_matches_the_general_path(pcapng):
    """-i any: loopback copies skipped, snap length applied after the cooked header."""
    rnd = random.Random(5)
    packets = [{"data": rnd.randbytes(rnd.choice([28, 60, 200, 1400])), "pkttype": rnd.choice([0, 4]),
                "ifindex": rnd.choice([1, 2]), "proto": 0x0800} for _ in range(50)]
    results = []
    for accept in (None, lambda data, wire: True):
        view, block = make_block(packets, reserve_for("sll2", 28), dgram=True)
        enc = BlockEncoder(view, Layout(snaplen=100, cooked="sll2", lo_ifindex=1, headroom=28,
                                        accept=accept), pcapng=pcapng, ifid=2)
        out = bytearray()
        results.append((enc.encode(block, out), bytes(out)))
    assert results[0] == results[1]
    skipped = sum(p["pkttype"] == 4 and p["ifindex"] == 1 for p in packets)
    assert results[0][0] == 50 - skipped
