"""The TPACKET_V3 receive ring: geometry, and walking the blocks the kernel
hands to user space.

Layout (``linux/if_packet.h``): the ring is ``block_nr`` blocks; each starts
with ``struct tpacket_block_desc`` (status, packet count, offset of the first
packet) followed by packets, each a ``struct tpacket3_hdr`` (48 bytes), then a
``struct sockaddr_ll`` at offset 48, then the frame at ``tp_mac``.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from pycap.frozen import named_tuple, record

from pycap.kernel.sockopt import RingGeometry

MAX_BLOCK_SIZE = 1 << 20
FRAME_SIZE = 2048  # TPACKET_V3 packs frames by size; this only sets tp_frame_nr
MIN_BLOCKS = 4  # keep several blocks so the kernel fills one while we read another

TP_STATUS_KERNEL = 0
TP_STATUS_USER = 1
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6

# struct tpacket_block_desc: version, offset_to_priv, then tpacket_hdr_v1:
# block_status, num_pkts, offset_to_first_pkt
_BLOCK_DESC = struct.Struct("=8xIII")
_BLOCK_STATUS = 8
# struct tpacket3_hdr: tp_next_offset, tp_sec, tp_nsec, tp_snaplen, tp_len,
# tp_status, tp_mac, tp_net, hv1.tp_rxhash, hv1.tp_vlan_tci, hv1.tp_vlan_tpid
_PACKET_HDR = struct.Struct("=IIIIIIHHIIH")
SLL_OFFSET = 48  # struct sockaddr_ll follows TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
_SLL_PKTTYPE = SLL_OFFSET + 10
# End of the sockaddr_ll (TPACKET3_HDRLEN): everything from here to tp_mac is
# slack the kernel leaves (at least 14 bytes on SOCK_RAW Ethernet, 28 on
# SOCK_DGRAM) plus PACKET_RESERVE; pycap rewrites it into record headers.
HDR_END = SLL_OFFSET + 20


def _pow2_floor(n: int) -> int:
    return 1 << (n.bit_length() - 1)


def ring_geometry(buffer_kib: int, retire_tov_ms: int) -> RingGeometry:
    """Blocks of a power-of-two size up to 1 MiB, at least :data:`MIN_BLOCKS`
    of them when the buffer allows, never smaller than a page."""
    page = mmap.PAGESIZE
    buffer = max(page, buffer_kib * 1024)
    block_size = min(MAX_BLOCK_SIZE, max(page, _pow2_floor(max(1, buffer // MIN_BLOCKS))))
    return RingGeometry(block_size=block_size, block_nr=max(1, buffer // block_size),
                        frame_size=min(FRAME_SIZE, block_size), retire_tov_ms=retire_tov_ms)


@named_tuple
class PacketHeader:
    """The fields of ``struct tpacket3_hdr`` (plus ``sll_pkttype``) pycap uses."""

    offset: int  # of the header within the ring
    next_offset: int
    ts_ns: int
    snaplen: int
    wire_len: int
    status: int
    mac: int
    vlan_tci: int
    vlan_tpid: int
    pkttype: int


@record
class Block:
    """A block the kernel has handed over; ``Ring.release`` gives it back.

    ``done``/``pos`` say how far a consumer got (packets, and the ring offset
    of the next one), so a block can be consumed in several steps, e.g. when
    ``-c`` or a ``-C`` rotation stops in the middle of it.
    """

    index: int
    offset: int
    num_pkts: int
    first: int
    done: int = 0
    pos: int = 0

    def __post_init__(self) -> None:
        if not self.pos:
            self.pos = self.offset + self.first

    @property
    def exhausted(self) -> bool:
        return self.done >= self.num_pkts


class Ring:
    """The mmap()ed ring of one AF_PACKET socket; tracks the next block to read."""

    def __init__(self, fileno: int, geometry: RingGeometry):
        self.geometry = geometry
        self._map = mmap.mmap(fileno, geometry.map_size, mmap.MAP_SHARED,
                              mmap.PROT_READ | mmap.PROT_WRITE)
        self._view = memoryview(self._map)
        self._next = 0
        self.delivered = 0      # packets in the blocks taken so far

    @property
    def view(self) -> memoryview:
        """The whole ring, writable: block contents may be rewritten in place
        while the block belongs to user space."""
        return self._view

    def _status(self, index: int) -> int:
        offset = index * self.geometry.block_size + _BLOCK_STATUS
        return struct.unpack_from("=I", self._map, offset)[0]

    def ready(self) -> bool:
        """Whether the next block in ring order belongs to user space."""
        return bool(self._status(self._next) & TP_STATUS_USER)

    def take(self) -> Block | None:
        """The next user-owned block, or None; blocks are consumed in ring order."""
        if not self.ready():
            return None
        index = self._next
        offset = index * self.geometry.block_size
        _, num_pkts, first = _BLOCK_DESC.unpack_from(self._map, offset)
        self._next = (index + 1) % self.geometry.block_nr
        self.delivered += num_pkts
        return Block(index, offset, num_pkts, first)

    def release(self, block: Block) -> None:
        struct.pack_into("=I", self._map, block.offset + _BLOCK_STATUS, TP_STATUS_KERNEL)

    def headers(self, block: Block) -> Iterator[PacketHeader]:
        """The packets of ``block`` not yet consumed (``block.done`` onwards)."""
        offset = block.pos
        for _ in range(block.num_pkts - block.done):
            (next_offset, sec, nsec, snaplen, wire_len, status, mac, _net, _hash,
             tci, tpid) = _PACKET_HDR.unpack_from(self._map, offset)
            yield PacketHeader(offset, next_offset, sec * 1_000_000_000 + nsec, snaplen,
                               wire_len, status, mac, tci, tpid, self._map[offset + _SLL_PKTTYPE])
            offset += next_offset

    def data(self, header: PacketHeader, limit: int) -> memoryview:
        """A zero-copy view of the captured bytes, at most ``limit`` of them."""
        start = header.offset + header.mac
        return self._view[start:start + min(header.snaplen, limit)]

    def close(self) -> None:
        """Unmap; if a consumer still holds views, the mapping lives until they go."""
        try:
            self._view.release()
            self._map.close()
        except BufferError:
            pass  # exported views keep the mapping; the GC unmaps it later
