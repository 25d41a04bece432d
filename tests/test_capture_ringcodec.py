"""The C encoder (pycap.capture._ringcodec) against the Python loops of
pycap.capture.encode: byte-identical records for every layout, in one step
or in many, and a clean ValueError (nothing appended, no crash) for a ring
block whose offsets point outside the buffer.

Without the extension these tests skip — and fail under
PYCAP_REQUIRE_KERNEL=1 (CI), where ``pip install -e .`` must have built it."""

from __future__ import annotations

import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycap.capture import encode
from pycap.capture.encode import BlockEncoder, Layout, reserve_for
from pycap.capture.ring import TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID
from tests.kernelsupport import require
from tests.test_capture_encode import frames, make_block


def codec():
    require(None if encode._ringcodec is not None else
            "the C extension pycap.capture._ringcodec is not built (pip install -e .)")
    return encode._ringcodec


def test_the_extension_is_built():
    """CI must measure and ship the C path, not silently the Python one."""
    c = codec()
    view, block = make_block([{"data": d} for d in frames(3)], reserve_for(None, 16))
    enc = BlockEncoder(view, Layout(snaplen=262144, headroom=16, kernel_snaplen=True))
    assert enc.native
    assert c.encode(view, bytearray(), block.pos, 0, 0, 65535, -1, 0) == (0, block.pos)


def mixed_packets(count: int, seed: int, vlan_every: int = 0, dgram: bool = False) -> list[dict]:
    rnd = random.Random(seed)
    packets = []
    for i, d in enumerate(frames(count, seed)):
        if dgram:
            d = d[14:]
        p = {"data": d, "wire": len(d) + rnd.choice([0, 0, 3, 1000]),
             "sec": 1_700_000_000 + i * 7, "nsec": rnd.randrange(1_000_000_000),
             "pkttype": rnd.choice([0, 0, 4]), "ifindex": rnd.choice([1, 2, 300]),
             "proto": rnd.choice([0x0800, 0x86DD]), "hatype": rnd.choice([1, 772])}
        if vlan_every and i % vlan_every == 1:
            p["status"] = 1 | TP_STATUS_VLAN_VALID | rnd.choice([0, TP_STATUS_VLAN_TPID_VALID])
            p["tci"] = rnd.randrange(1 << 16)
            p["tpid"] = 0x88A8
        packets.append(p)
    # a VLAN-flagged frame too short to hold the two MAC addresses
    if vlan_every and not dgram:
        packets.insert(5, {"data": bytes(range(10)), "wire": 10, "status": 1 | TP_STATUS_VLAN_VALID,
                           "tci": 3, "sec": 1, "nsec": 2})
    return packets


def run(packets, layout: Layout, dgram: bool, native: bool, steps: int | None = None,
        **kw) -> tuple[list[int], bytes, int]:
    """Encode a fresh block; ``steps`` packets at a time, or all at once."""
    headroom = 28 if kw.get("pcapng") else 16
    view, block = make_block(packets, reserve_for(layout.cooked, headroom), dgram=dgram)
    enc = BlockEncoder(view, layout._replace(headroom=headroom), native=native, **kw)
    assert enc.native is native
    out = bytearray(b"already there")
    counts = []
    while not block.exhausted:
        counts.append(enc.encode(block, out, steps or (1 << 62)))
    assert block.done == block.num_pkts
    return counts, bytes(out), block.pos


LAYOUTS = {
    "ether": (Layout(snaplen=262144, vlan=True, kernel_snaplen=True), False),
    "ether-snap": (Layout(snaplen=64, vlan=True), False),
    "ether-tiny-snap": (Layout(snaplen=14, vlan=True), False),
    "ether-no-vlan": (Layout(snaplen=262144, kernel_snaplen=True), False),
    "lo": (Layout(snaplen=262144, lo_ifindex=1, kernel_snaplen=True), False),
    "out": (Layout(snaplen=100, direction="out", vlan=True), False),
    "sll2": (Layout(snaplen=262144, cooked="sll2", lo_ifindex=1), True),
    "sll2-snap": (Layout(snaplen=100, cooked="sll2", lo_ifindex=1), True),
    "sll2-tiny-snap": (Layout(snaplen=12, cooked="sll2"), True),
    "sll": (Layout(snaplen=262144, cooked="sll", lo_ifindex=1), True),
    "sll-out": (Layout(snaplen=80, cooked="sll", direction="out"), True),
}
FORMATS = {"pcap-us": {}, "pcap-ns": {"nanosecond": True},
           "pcapng-us": {"pcapng": True, "ifid": 3}, "pcapng-ns": {"pcapng": True, "nanosecond": True}}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", LAYOUTS)
def test_c_and_python_write_the_same_records(name, fmt):
    codec()
    layout, dgram = LAYOUTS[name]
    packets = mixed_packets(80, seed=len(name) * 31 + len(fmt), vlan_every=3, dgram=dgram)
    python = run(packets, layout, dgram, native=False, **FORMATS[fmt])
    c = run(packets, layout, dgram, native=True, **FORMATS[fmt])
    assert c == python
    assert len(c[1]) > 200


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("steps", [1, 2, 7, 64])
def test_partial_steps_resume_where_they_stopped(steps, fmt):
    codec()
    layout, _ = LAYOUTS["ether"]
    packets = mixed_packets(70, seed=steps, vlan_every=4)
    whole = run(packets, layout, False, native=True, **FORMATS[fmt])
    stepped = run(packets, layout, False, native=True, steps=steps, **FORMATS[fmt])
    python = run(packets, layout, False, native=False, steps=steps, **FORMATS[fmt])
    assert stepped == python
    assert stepped[1:] == whole[1:]
    assert sum(stepped[0]) == sum(whole[0]) == len(packets)
    assert all(n == steps for n in stepped[0][:-1])


def test_skipped_packets_count_as_consumed_not_written():
    codec()
    layout, dgram = LAYOUTS["sll2"]
    packets = mixed_packets(40, seed=2, dgram=True)
    counts, _, _ = run(packets, layout, dgram, native=True, steps=9)
    skipped = sum(p["pkttype"] == 4 and p["ifindex"] == 1 for p in packets)
    assert sum(counts) == 40 - skipped
    assert counts == run(packets, layout, dgram, native=False, steps=9)[0]


def test_the_ring_is_only_read():
    codec()
    view, block = make_block(mixed_packets(20, seed=4, vlan_every=2), reserve_for(None, 16))
    before = bytes(view)
    out = bytearray()
    BlockEncoder(view, Layout(snaplen=262144, vlan=True, headroom=16)).encode(block, out)
    assert bytes(view) == before
    # a read-only buffer will do
    view2, block2 = make_block(mixed_packets(20, seed=4, vlan_every=2), reserve_for(None, 16))
    out2 = bytearray()
    BlockEncoder(memoryview(bytes(view2)), Layout(snaplen=262144, vlan=True, headroom=16)
                 ).encode(block2, out2)
    assert out2 == out


# --------------------------------------------------------------- corrupt blocks

def corrupt_case(what: str):
    packets = [{"data": d} for d in frames(6, seed=6)]
    view, block = make_block(packets, reserve_for(None, 16), size=8192)
    ring = bytearray(view)
    offsets, off = [], block.pos
    for _ in range(len(packets)):
        offsets.append(off)
        off += struct.unpack_from("=I", ring, off)[0]
    last = offsets[-1]
    mac = struct.unpack_from("=H", ring, last + 24)[0]
    end = last + mac + struct.unpack_from("=I", ring, last + 12)[0]
    if what == "truncated":          # the buffer ends inside the last frame
        ring = ring[:end - 1]
    elif what == "truncated-header":  # ... inside the last tpacket3_hdr
        ring = ring[:last + 40]
    elif what == "next-offset":      # a chain that leaves the buffer
        struct.pack_into("=I", ring, offsets[2], 0xFFFFFFF0)
    elif what == "mac":              # a frame start far away
        struct.pack_into("=H", ring, offsets[3] + 24, 0xFFFF)
    elif what == "snaplen":
        struct.pack_into("=I", ring, offsets[1] + 12, 0xFFFFFFFF)
    elif what == "wire":             # wire length + cooked header overflows 32 bits
        struct.pack_into("=I", ring, offsets[1] + 16, 0xFFFFFFFE)
    elif what == "pos":
        block.pos = 1 << 40
    return ring, block


@pytest.mark.parametrize("what", ["truncated", "truncated-header", "next-offset", "mac",
                                  "snaplen", "wire", "pos"])
@pytest.mark.parametrize("cooked", [None, "sll2"])
def test_a_corrupt_block_raises_and_appends_nothing(what, cooked):
    codec()
    ring, block = corrupt_case(what)
    if what == "wire" and cooked is None:
        ring = bytes(ring)            # 0xFFFFFFFE + 0 fits: that one is fine
        BlockEncoder(memoryview(ring), Layout(snaplen=262144, headroom=16)).encode(block, bytearray())
        return
    enc = BlockEncoder(memoryview(ring), Layout(snaplen=262144, cooked=cooked, headroom=16,
                                                vlan=cooked is None))
    out = bytearray(b"kept")
    with pytest.raises(ValueError, match="corrupt ring block"):
        enc.encode(block, out)
    assert out == b"kept"


def test_bad_arguments_are_type_errors():
    c = codec()
    view, block = make_block([{"data": d} for d in frames(2)], reserve_for(None, 16))
    with pytest.raises(TypeError):
        c.encode(view, b"", block.pos, 2, 0, 65535, -1, 0)       # out must be a bytearray
    with pytest.raises(TypeError):
        c.encode(view, bytearray(), block.pos, 2)
    with pytest.raises(ValueError):
        c.encode(view, bytearray(), -1, 2, 0, 65535, -1, 0)
    with pytest.raises(OverflowError):
        c.encode(view, bytearray(), block.pos, 2, 0, 65535, -1, 1 << 32)


@settings(max_examples=300, deadline=None)
@given(ring=st.binary(min_size=0, max_size=600), pos=st.integers(0, 700),
       count=st.integers(0, 12), flags=st.integers(0, 63), snap=st.integers(0, 300),
       lo=st.integers(-1, 3))
def test_garbage_never_crashes(ring, pos, count, flags, snap, lo):
    c = codec()
    out = bytearray(b"x")
    try:
        records, end = c.encode(ring, out, pos, count, flags, snap, lo, 0)
    except ValueError:
        assert out == b"x"
    else:
        assert 0 <= records <= count
        assert len(out) >= 1 + records * 16


def test_encode_benchmark_runs():
    """benchmarks/encode.py cannot rot: its block gives the same records both ways."""
    import subprocess
    import sys
    from pathlib import Path
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "encode.py"
    codec()
    proc = subprocess.run([sys.executable, str(script), "--rounds", "1", "--block-kib", "64"],
                          capture_output=True, text=True, timeout=120, check=True)
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| imix")
            or line.startswith("| snap64")]
    assert len(rows) == 4 and all(row.endswith("× |") for row in rows)


def test_retain_heap_keeps_the_write_buffer_mapped():
    """glibc: a bytearray of ~128 KiB grown and emptied again must not cost
    page faults each time once retain_heap() is on (it did, mapped afresh)."""
    import platform
    import resource
    c = codec()
    if platform.libc_ver()[0] != "glibc":
        assert c.retain_heap() is False
        return
    assert c.retain_heap() is True
    buf = bytearray()
    chunk = bytes(70_000)
    for _ in range(20):                       # warm: the heap has grown once
        buf += chunk
        buf += chunk
        buf.clear()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(2000):
        buf += chunk
        buf += chunk
        buf.clear()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 200
