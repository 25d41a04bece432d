"""The ``-w`` hot path alone: ns per packet to turn a full TPACKET_V3 block
into savefile records, pycap's Python loops against its C encoder.

    python benchmarks/encode.py [--rounds 15] [--block-kib 1024] [--json PATH]

No root, no kernel: one ring block is laid out in a bytearray as
``net/packet/af_packet.c`` lays it out for a SOCK_RAW Ethernet socket with
pycap's PACKET_RESERVE, filled with the capture benchmark's frame mix (IMIX
60/590/1514 bytes, 7:4:1) or the same frames cut to 64 bytes by the kernel
program (``snap64``), and encoded the way the live loop does it: steps of
about 64 KiB of records (``pipeline.CHUNK_BYTES``), the buffer emptied
(``bytearray.clear``, as the writer does after each write) whenever it
reaches 64 KiB.  The time is the best and the median of ``--rounds`` passes
over the block, per packet, for pcap (µs) and pcapng records; it stops with
an error if the two implementations' records for the block differ.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pycap.capture import encode  # noqa: E402
from pycap.capture.encode import BlockEncoder, Layout, reserve_for  # noqa: E402
from pycap.capture.ring import Block  # noqa: E402

TPACKET3_HDRLEN = 68
_HDR = struct.Struct("=IIIIIIHHIIH")
_SLL = struct.Struct("=HHiHBB8s")
STEP_BYTES = 1 << 16     # pipeline.CHUNK_BYTES
FLUSH_AT = 1 << 16       # savefile._io.FLUSH_AT


def align(n: int, a: int) -> int:
    return (n + a - 1) & -a


def imix(rnd: random.Random) -> int:
    return rnd.choices([60, 590, 1514], weights=[7, 4, 1])[0]


def build_block(size: int, reserve: int, snap: int) -> tuple[bytearray, int]:
    """A full block: (buffer, packet count)."""
    rnd = random.Random(1)
    ring = bytearray(size)
    off, count, prev = 48, 0, None
    netoff = align(TPACKET3_HDRLEN + 16, 16) + reserve
    mac = netoff - 14
    while True:
        wire = imix(rnd)
        cap = min(wire, snap)
        if off + mac + cap > size:
            break
        if prev is not None:
            struct.pack_into("=I", ring, prev, off - prev)
        _HDR.pack_into(ring, off, 0, 1_700_000_000 + count // 1000, (count * 997) % 10**9,
                       cap, wire, 1, mac, netoff, 0, 0, 0)
        _SLL.pack_into(ring, off + 48, 17, 8, 2, 1, 0, 6, b"\x02\0\0\0\0\x01\0\0")
        ring[off + mac:off + mac + 12] = rnd.randbytes(12)
        ring[off + mac + 12:off + mac + 14] = b"\x08\x00"
        prev = off
        count += 1
        off = align(off + mac + cap, 8)
    return ring, count


def one_pass(enc: BlockEncoder, count: int, first: int, out: bytearray,
             flush: bool = True) -> int:
    block = Block(0, 0, count, first)
    chunk = 128
    while not block.exhausted:
        start = len(out)
        n = enc.encode(block, out, chunk)
        if n:
            chunk = max(16, STEP_BYTES * n // max(1, len(out) - start))
        if flush and len(out) >= FLUSH_AT:
            out.clear()
    return block.done


def measure(snap: int, pcapng: bool, native: bool, rounds: int, block_kib: int) -> dict:
    headroom = 28 if pcapng else 16
    ring, count = build_block(block_kib * 1024, reserve_for(None, headroom), snap)
    view = memoryview(ring)
    enc = BlockEncoder(view, Layout(snaplen=snap, vlan=True, headroom=headroom,
                                    kernel_snaplen=True), pcapng=pcapng, native=native)
    assert enc.native is native
    records = bytearray()
    one_pass(enc, count, 48, records, flush=False)     # warm up, and what it writes
    out = bytearray()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        done = one_pass(enc, count, 48, out)
        times.append((time.perf_counter_ns() - t0) / done)
    return {"packets": count, "best_ns": min(times), "median_ns": statistics.median(times),
            "records": bytes(records)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--block-kib", type=int, default=1024)
    ap.add_argument("--json")
    args = ap.parse_args()
    if encode._ringcodec is None:
        print("pycap.capture._ringcodec is not built: pip install -e . (only the Python "
              "loops are measured)", file=sys.stderr)
    impls = [False] + ([True] if encode._ringcodec is not None else [])
    rows = []
    print("| frames | format | packets/block | Python ns/pkt best (median) | C ns/pkt best (median) | ratio |")
    print("|---|---|---|---|---|---|")
    for name, snap in (("imix", 262144), ("snap64", 64)):
        for fmt in ("pcap", "pcapng"):
            res = {native: measure(snap, fmt == "pcapng", native, args.rounds, args.block_kib)
                   for native in impls}
            py = res[False]
            c = res.get(True)
            if c is not None and c.pop("records") != py["records"]:
                print(f"{name} {fmt}: the C and Python records differ", file=sys.stderr)
                return 1
            py.pop("records")
            cell = f"{c['best_ns']:.1f} ({c['median_ns']:.1f})" if c else "—"
            ratio = f"{py['best_ns'] / c['best_ns']:.1f}×" if c else "—"
            print(f"| {name} | {fmt} | {py['packets']} | {py['best_ns']:.0f} ({py['median_ns']:.0f}) "
                  f"| {cell} | {ratio} |")
            rows.append({"frames": name, "format": fmt, "python": py, "c": c})
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
