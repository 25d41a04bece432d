"""Savefile records straight out of the ring: the ``-w`` hot path.

A TPACKET_V3 block holds each packet as ``struct tpacket3_hdr`` (48 bytes),
``struct sockaddr_ll`` (20 bytes), some slack, then the frame at ``tp_mac``.
The encoder rewrites the slack in front of each frame, in place, into what the
savefile wants there — the pcap record header or the pcapng EPB header, and
before that the cooked SLL/SLL2 header for ``-i any`` or the 802.1Q tag the
kernel took out of the frame — so that every record becomes one contiguous
slice of the ring, appended to the writer's buffer.  Per packet that is one
``unpack_from``, one ``pack_into`` and one slice append: no Frame, no bytes
object, no function call.

``PACKET_RESERVE`` (:func:`reserve_for`) guarantees the slack whatever the
link-layer header length, and the kernel program guarantees the snap length,
so the inline loop checks nothing but the VLAN flag; a packet with a VLAN tag
(or any packet when those guarantees are missing) takes the general path.

The record layouts belong to ``pycap.savefile`` (which reads them back); they
are spelled here because this module writes them into the ring.

Those loops are the fallback.  Where the C extension ``_ringcodec`` is built
(``pip install -e .`` builds it), one call encodes all the packets of a step
in C, with the same records and the same choices (cooked headers, VLAN tags,
direction, loopback copies, snap length), reading the ring without rewriting
it; only a user-space filter (``Layout.accept``) keeps a layout in Python.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from pycap.frozen import named_tuple
from pycap.capture.ring import (HDR_END, SLL_OFFSET, TP_STATUS_VLAN_TPID_VALID,
                                TP_STATUS_VLAN_VALID, Block)

try:
    from pycap.capture import _ringcodec
except ImportError:     # not built: the Python loops below do the work
    _ringcodec = None

PACKET_OUTGOING = 4
ETH_ALEN2 = 12          # two MAC addresses, then the ethertype or the VLAN tag
VLAN_TAG_LEN = 4
SLL_HDR_LEN = 16        # libpcap's struct sll_header (LINKTYPE_LINUX_SLL)
SLL2_HDR_LEN = 20       # struct sll2_header (LINKTYPE_LINUX_SLL2)
PCAP_RECORD_LEN = 16
EPB_HEAD_LEN = 28       # block type, length, interface, ts high, ts low, caplen, len
EPB_TYPE = 6
# linux/af_packet.c: netoff = TPACKET_ALIGN(TPACKET3_HDRLEN + max(16, maclen))
# + reserve, tp_mac = netoff - maclen (SOCK_RAW) or netoff (SOCK_DGRAM): so
# tp_mac - TPACKET3_HDRLEN >= reserve whatever maclen is.

# tp_next_offset, tp_sec, tp_nsec, tp_snaplen, tp_len, tp_status, tp_mac
_HDR = struct.Struct("=IIIIIIH")
# hv1.tp_vlan_tci, hv1.tp_vlan_tpid at offset 32
_VLAN = struct.Struct("=IH")
# sockaddr_ll: sll_protocol (kept in network order), ifindex, hatype, pkttype, halen, addr
_SLL = struct.Struct("=2x2siHBB8s")
_SLL2_HDR = struct.Struct(">2s2xIHBB8s")
_SLL_HDR = struct.Struct(">HHH8s2s")
_TAG = struct.Struct("!HH")
_PCAP_RECORD = struct.Struct("<IIII")
_EPB_HEAD = struct.Struct("<IIIIIII")
_U32 = struct.Struct("<I")
# padding to 32 bits, then room for the trailing block length, by caplen & 3
_EPB_TAILS = tuple(b"\0" * ((4 - r) & 3) + b"\0\0\0\0" for r in range(4))


def link_header_len(cooked: str | None) -> int:
    return {"sll2": SLL2_HDR_LEN, "sll": SLL_HDR_LEN}.get(cooked or "", 0)


def record_header_len(pcapng: bool) -> int:
    return EPB_HEAD_LEN if pcapng else PCAP_RECORD_LEN


def reserve_for(cooked: str | None, headroom: int) -> int:
    """PACKET_RESERVE so that ``headroom`` bytes (a record header) plus the
    cooked header or a VLAN tag fit in front of every frame."""
    return headroom + (link_header_len(cooked) if cooked else VLAN_TAG_LEN)


@named_tuple
class Layout:
    """What a capture socket delivers and what the user wants of it."""

    snaplen: int
    cooked: str | None = None       # "sll2" / "sll" on a SOCK_DGRAM (-i any) socket
    vlan: bool = False              # Ethernet: reinsert offloaded 802.1Q tags
    direction: str = "inout"        # "out": keep only PACKET_OUTGOING
    lo_ifindex: int = -1            # outgoing copies on loopback are seen twice: skip them
    accept: Callable[[bytes, int], bool] | None = None   # user-space filter (fallback)
    headroom: int = 0               # room PACKET_RESERVE guarantees for a record header
    kernel_snaplen: bool = False    # the kernel program cuts every packet to ``snaplen``


@named_tuple
class Prepared:
    """One packet made contiguous: ``data`` is a ring offset (rewritten in place,
    with room for a record header before it) or a bytes copy."""

    sec: int
    nsec: int
    start: int
    data: bytes | None
    caplen: int
    wire_len: int


class BlockEncoder:
    """Appends the records of a ring's blocks to a savefile buffer.

    ``pcapng`` selects EPBs on interface ``ifid``; otherwise pcap records with
    µs or ns (``nanosecond``) time stamps, which must match the file header.
    """

    def __init__(self, view: memoryview, layout: Layout, pcapng: bool = False,
                 nanosecond: bool = False, ifid: int = 0, native: bool = True):
        self.view = view
        self.layout = layout
        self.pcapng = pcapng
        self.nanosecond = nanosecond
        self.ifid = ifid
        self.link_len = link_header_len(layout.cooked)
        self.record_len = record_header_len(pcapng)
        self.special_status = TP_STATUS_VLAN_VALID if layout.vlan else 0
        # everything but VLAN-tagged packets goes through the inline loop
        self.fast = (layout.cooked is None and layout.direction != "out"
                     and layout.lo_ifindex < 0 and layout.accept is None
                     and layout.kernel_snaplen and layout.headroom >= self.record_len)
        # -i any: its own inline loop (cooked header in place, loopback copies skipped)
        self.fast_cooked = (layout.cooked is not None and layout.direction != "out"
                            and layout.accept is None and layout.headroom >= self.record_len)
        # the C encoder (``native=False``: the Python loops, for comparison)
        self.native = native and _ringcodec is not None and layout.accept is None
        if self.native:
            c = _ringcodec
            self._flags = ((c.PCAPNG if pcapng else 0) | (c.NANO if nanosecond else 0)
                           | {"sll2": c.SLL2, "sll": c.SLL}.get(layout.cooked or "", 0)
                           | (c.OUT if layout.direction == "out" else 0)
                           | (c.VLAN if layout.vlan and layout.cooked is None else 0))

    # ------------------------------------------------------------------ encoding

    def encode(self, block: Block, out: bytearray, max_records: int = 1 << 62) -> int:
        """Append records for the rest of ``block`` to ``out``; return how many.

        At most ``max_records`` ring packets are consumed (fewer records when
        some are not wanted); ``block.done``/``block.pos`` record where it
        stopped, so the next call resumes there.
        """
        n = min(block.num_pkts - block.done, max_records)
        if self.native:
            written, block.pos = _ringcodec.encode(self.view, out, block.pos, n, self._flags,
                                                   self.layout.snaplen, self.layout.lo_ifindex,
                                                   self.ifid)
            block.done += n
            return written
        if self.fast_cooked:
            return self._fast_cooked(block, out, n)
        if not self.fast:
            return self._generic(block, out, n)
        if self.pcapng:
            return self._fast_pcapng(block, out, n)
        return self._fast_pcap(block, out, n)

    def _fast_pcap(self, block: Block, out: bytearray, n: int) -> int:
        mv, unpack, pack_into = self.view, _HDR.unpack_from, _PCAP_RECORD.pack_into
        div = 1 if self.nanosecond else 1000
        special, off, missed = self.special_status, block.pos, 0
        for _ in range(n):
            nxt, sec, nsec, cap, wire, status, mac = unpack(mv, off)
            if status & special:
                missed += 1 - self._one(off, out)
            else:
                s = off + mac
                pack_into(mv, s - 16, sec, nsec // div, cap, wire)
                out += mv[s - 16:s + cap]
            off += nxt
        block.pos = off
        block.done += n
        return n - missed

    def _fast_pcapng(self, block: Block, out: bytearray, n: int) -> int:
        mv, unpack, pack_into = self.view, _HDR.unpack_from, _EPB_HEAD.pack_into
        u32_into, tails, ifid = _U32.pack_into, _EPB_TAILS, self.ifid
        nano, special, off, missed = self.nanosecond, self.special_status, block.pos, 0
        for _ in range(n):
            nxt, sec, nsec, cap, wire, status, mac = unpack(mv, off)
            if status & special:
                missed += 1 - self._one(off, out)
            else:
                s = off + mac
                ticks = sec * 1_000_000_000 + nsec if nano else sec * 1_000_000 + nsec // 1000
                blen = 32 + cap + (-cap & 3)
                pack_into(mv, s - 28, EPB_TYPE, blen, ifid, ticks >> 32, ticks & 0xFFFFFFFF,
                          cap, wire)
                out += mv[s - 28:s + cap]
                out += tails[cap & 3]
                u32_into(out, len(out) - 4, blen)
            off += nxt
        block.pos = off
        block.done += n
        return n - missed

    def _fast_cooked(self, block: Block, out: bytearray, n: int) -> int:
        """SOCK_DGRAM: the SLL/SLL2 header is built from the sockaddr_ll, in
        front of the network header, then the record header in front of it."""
        mv, unpack, sll = self.view, _HDR.unpack_from, _SLL.unpack_from
        sll2, hlen = self.layout.cooked == "sll2", self.link_len
        head_into = _SLL2_HDR.pack_into if sll2 else _SLL_HDR.pack_into
        pcapng, nano, ifid = self.pcapng, self.nanosecond, self.ifid
        rec_into, epb_into, u32_into = (_PCAP_RECORD.pack_into, _EPB_HEAD.pack_into,
                                        _U32.pack_into)
        div = 1 if nano else 1000
        snap, lo, off, missed = self.layout.snaplen, self.layout.lo_ifindex, block.pos, 0
        for _ in range(n):
            nxt, sec, nsec, cap, wire, _status, mac = unpack(mv, off)
            proto, ifindex, hatype, pkttype, halen, addr = sll(mv, off + SLL_OFFSET)
            if pkttype == PACKET_OUTGOING and ifindex == lo:
                missed += 1          # loopback: seen again as incoming
                off += nxt
                continue
            s = off + mac - hlen
            if sll2:
                head_into(mv, s, proto, ifindex, hatype, pkttype, halen, addr)
            else:
                head_into(mv, s, pkttype, hatype, halen, addr, proto)
            cap += hlen
            wire += hlen
            if cap > snap:
                cap = snap
            if pcapng:
                ticks = sec * 1_000_000_000 + nsec if nano else sec * 1_000_000 + nsec // 1000
                blen = 32 + cap + (-cap & 3)
                epb_into(mv, s - 28, EPB_TYPE, blen, ifid, ticks >> 32, ticks & 0xFFFFFFFF,
                         cap, wire)
                out += mv[s - 28:s + cap]
                out += _EPB_TAILS[cap & 3]
                u32_into(out, len(out) - 4, blen)
            else:
                rec_into(mv, s - 16, sec, nsec // div, cap, wire)
                out += mv[s - 16:s + cap]
            off += nxt
        block.pos = off
        block.done += n
        return n - missed

    def _generic(self, block: Block, out: bytearray, n: int) -> int:
        mv, u32, off, written = self.view, _U32.unpack_from, block.pos, 0
        for _ in range(n):
            written += self._one(off, out)
            off += u32(mv, off)[0]
        block.pos = off
        block.done += n
        return written

    def _one(self, off: int, out: bytearray) -> int:
        """The copying/general path for one packet: 1 if a record was appended."""
        p = self.prepare(off)
        if p is None:
            return 0
        if p.data is None:
            self._record_in_place(p, out)
        else:
            out += self._record_header(p) + p.data
            if self.pcapng:
                out += _EPB_TAILS[p.caplen & 3]
                _U32.pack_into(out, len(out) - 4, 32 + p.caplen + (-p.caplen & 3))
        return 1

    def _record_header(self, p: Prepared) -> bytes:
        if self.pcapng:
            ticks = self._ticks(p.sec, p.nsec)
            return _EPB_HEAD.pack(EPB_TYPE, 32 + p.caplen + (-p.caplen & 3), self.ifid,
                                  ticks >> 32, ticks & 0xFFFFFFFF, p.caplen, p.wire_len)
        frac = p.nsec if self.nanosecond else p.nsec // 1000
        return _PCAP_RECORD.pack(p.sec, frac, p.caplen, p.wire_len)

    def _record_in_place(self, p: Prepared, out: bytearray) -> None:
        mv, s, cap = self.view, p.start, p.caplen
        head = self.record_len
        mv[s - head:s] = self._record_header(p)
        out += mv[s - head:s + cap]
        if self.pcapng:
            out += _EPB_TAILS[cap & 3]
            _U32.pack_into(out, len(out) - 4, 32 + cap + (-cap & 3))

    def _ticks(self, sec: int, nsec: int) -> int:
        return sec * 1_000_000_000 + nsec if self.nanosecond else sec * 1_000_000 + nsec // 1000

    # ------------------------------------------------------------ one packet

    def prepare(self, off: int) -> Prepared | None:
        """Make the packet at ring offset ``off`` contiguous with its link-layer
        header (cooked header, VLAN tag), apply direction and the user-space
        filter; None if the packet is not wanted."""
        mv, layout = self.view, self.layout
        _nxt, sec, nsec, cap, wire, status, mac = _HDR.unpack_from(mv, off)
        if layout.cooked or layout.direction == "out" or layout.lo_ifindex >= 0:
            proto, ifindex, hatype, pkttype, halen, addr = _SLL.unpack_from(mv, off + SLL_OFFSET)
            if layout.direction == "out" and pkttype != PACKET_OUTGOING:
                return None
            if pkttype == PACKET_OUTGOING and ifindex == layout.lo_ifindex:
                return None   # the loopback device hands us each packet twice, as libpcap knows
        s = off + mac
        room = mac - HDR_END - max(self.record_len, layout.headroom)
        data: bytes | None = None
        if layout.cooked:
            if layout.cooked == "sll2":
                head = _SLL2_HDR.pack(proto, ifindex, hatype, pkttype, halen, addr)
            else:
                head = _SLL_HDR.pack(pkttype, hatype, halen, addr, proto)
            if room >= len(head):
                mv[s - len(head):s] = head
                s -= len(head)
                room -= len(head)
            else:
                data = head + bytes(mv[s:s + cap])
            cap += len(head)
            wire += len(head)
        elif status & TP_STATUS_VLAN_VALID and layout.vlan and cap >= ETH_ALEN2:
            tci, tpid = _VLAN.unpack_from(mv, off + 32)
            tag = _TAG.pack(tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100, tci & 0xFFFF)
            if room >= VLAN_TAG_LEN:
                mv[s - VLAN_TAG_LEN:s + ETH_ALEN2 - VLAN_TAG_LEN] = mv[s:s + ETH_ALEN2]
                mv[s + ETH_ALEN2 - VLAN_TAG_LEN:s + ETH_ALEN2] = tag
                s -= VLAN_TAG_LEN
            else:
                data = bytes(mv[s:s + ETH_ALEN2]) + tag + bytes(mv[s + ETH_ALEN2:s + cap])
            cap += VLAN_TAG_LEN
            wire += VLAN_TAG_LEN
        elif room < 0:
            data = bytes(mv[s:s + cap])
        if layout.accept is not None:
            whole = data if data is not None else bytes(mv[s:s + cap])
            if not layout.accept(whole, wire):
                return None
        if cap > layout.snaplen:
            cap = layout.snaplen
            if data is not None:
                data = data[:cap]
        return Prepared(sec, nsec, s, data, cap, wire)
