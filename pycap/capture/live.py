"""Live capture on one interface: an AF_PACKET socket with the compiled filter
attached and a TPACKET_V3 ring.

Order of operations matters.  The socket is created with protocol 0, so it
is hooked to no device and receives nothing; the filter is attached, the ring
set up, and only then ``bind()`` hooks it to the interface with ETH_P_ALL.
No packet can reach the socket before the filter does.
"""

from __future__ import annotations

import errno
import select
import socket
import struct
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import NamedTuple

from pycap.capture.ring import (TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID, Block,
                                PacketHeader, Ring, ring_geometry)
from pycap.errors import CaptureError
from pycap.kernel import sockopt
from pycap.kernel.bpf import Program
from pycap.linktype import LinkType

DIRECTIONS = ("inout", "in", "out")
IMMEDIATE_TOV_MS = 1
ETH_ALEN2 = 12  # the two MAC addresses before the ethertype / VLAN tag

_LINKTYPES = {
    sockopt.ARPHRD_ETHER: LinkType.EN10MB,
    sockopt.ARPHRD_LOOPBACK: LinkType.EN10MB,  # libpcap does the same
    sockopt.ARPHRD_NONE: LinkType.RAW,  # tun: the frame starts at the IP header
}


class Frame(NamedTuple):
    """One captured packet.  ``data`` may be a view into the ring that is
    valid only until the next block is requested: copy what you keep."""

    ts_ns: int
    data: memoryview | bytes
    wire_len: int


@dataclass(frozen=True, slots=True)
class CaptureStats:
    """Kernel counters since the capture opened.

    ``received`` counts packets the filter accepted, including ``dropped``
    ones that found no room in the ring (libpcap's ps_recv / ps_drop).
    """

    received: int
    dropped: int


def _socket_error(interface: str, err: OSError) -> CaptureError:
    if err.errno == errno.EPERM:
        return CaptureError(f"{interface}: You don't have permission to perform this capture "
                            f"on that device (socket: {err.strerror})")
    return CaptureError(f"{interface}: socket: {err.strerror}")


class Capture:
    """``with Capture("eth0", program) as cap:`` — packets ``program`` accepts.

    ``program`` is a socket filter whose return value is the snap length;
    ``None`` captures everything (truncated to ``snaplen`` in user space).
    The socket keeps its own reference to the program, so the caller may
    close ``program`` once the capture is open.

    ``direction="in"`` is done by the kernel (PACKET_IGNORE_OUTGOING);
    ``"out"`` drops received packets in user space, so :meth:`stats` still
    counts them.  Opening needs CAP_NET_RAW in the interface's namespace.
    """

    def __init__(self, interface: str, program: Program | None, snaplen: int = 262144,
                 promisc: bool = True, direction: str = "inout", buffer_kib: int = 2048,
                 block_timeout_ms: int = 100, immediate: bool = False):
        if direction not in DIRECTIONS:
            raise CaptureError(f"{direction}: direction must be one of {', '.join(DIRECTIONS)}")
        if snaplen <= 0:
            raise CaptureError(f"invalid snaplen {snaplen}")
        self.interface = interface
        self.snaplen = snaplen
        self.direction = direction
        self._received = 0
        self._dropped = 0
        with ExitStack() as stack:
            self._sock = self._open_socket()
            stack.callback(self._sock.close)
            self.ifindex = sockopt.interface_index(interface, self._sock)
            self.linktype = self._linktype()
            if program is not None:
                sockopt.attach_filter(self._sock, program)
            tov = IMMEDIATE_TOV_MS if immediate else block_timeout_ms
            self._ring = self._setup_ring(buffer_kib, tov)
            stack.callback(self._ring.close)
            self._bind(promisc)
            self._poll = select.poll()
            self._poll.register(self._sock, select.POLLIN | select.POLLERR)
            stack.pop_all()

    # ------------------------------------------------------------------ set-up steps

    def _open_socket(self) -> socket.socket:
        try:
            # protocol 0: not hooked to any device until bind()
            return socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except OSError as err:
            raise _socket_error(self.interface, err) from None

    def _linktype(self) -> LinkType:
        arphrd = sockopt.interface_arphrd(self._sock, self.interface)
        try:
            return _LINKTYPES[arphrd]
        except KeyError:
            raise CaptureError(f"{self.interface}: unsupported hardware type "
                               f"(ARPHRD {arphrd})") from None

    def _setup_ring(self, buffer_kib: int, tov_ms: int) -> Ring:
        geometry = ring_geometry(buffer_kib, tov_ms)
        try:
            sockopt.set_tpacket_v3(self._sock)
            sockopt.set_rx_ring(self._sock, geometry)
            return Ring(self._sock.fileno(), geometry)
        except OSError as err:
            raise CaptureError(f"{self.interface}: cannot set up the packet ring "
                               f"({geometry.block_nr} x {geometry.block_size} bytes): "
                               f"{err.strerror}") from None

    def _bind(self, promisc: bool) -> None:
        try:
            if promisc:
                sockopt.add_promiscuous(self._sock, self.ifindex)
            if self.direction == "in":
                sockopt.ignore_outgoing(self._sock)
            self._sock.bind((self.interface, sockopt.ETH_P_ALL))
        except OSError as err:
            raise CaptureError(f"{self.interface}: {err.strerror}") from None
        if sockopt.socket_error(self._sock) == errno.ENETDOWN:
            raise CaptureError(f"{self.interface}: That device is not up")

    # ----------------------------------------------------------------------- reading

    def fileno(self) -> int:
        return self._sock.fileno()

    def wait(self, timeout_s: float) -> bool:
        """Wait until a block is ready; False on timeout."""
        if self._ring.ready():
            return True
        for _, revents in self._poll.poll(max(0, int(timeout_s * 1000))):
            if revents & select.POLLERR:
                self._raise_socket_error()
        return self._ring.ready()

    def _raise_socket_error(self) -> None:
        err = sockopt.socket_error(self._sock)
        if err == errno.ENETDOWN:
            raise CaptureError(f"{self.interface}: The interface went down")
        if err in (errno.ENODEV, errno.ENXIO):
            raise CaptureError(f"{self.interface}: The interface disappeared")
        if err:
            raise CaptureError(f"{self.interface}: {errno.errorcode.get(err, err)}")

    def blocks(self, timeout_s: float = 1.0) -> Iterator[list[Frame]]:
        """Wait up to ``timeout_s`` for data, then yield the frames of each ready
        block (at most one pass over the ring), one list per block.

        A block goes back to the kernel when the next one is requested or the
        iteration ends; its zero-copy ``data`` views are released then, so
        copy what you keep.  An empty iteration means the wait timed out:
        the caller can check its stop flag and call again.
        """
        if not self.wait(timeout_s):
            return
        for _ in range(self._ring.geometry.block_nr):
            block = self._ring.take()
            if block is None:
                return
            frames = self._frames(block)
            try:
                yield frames
            finally:
                _release_views(frames)
                self._ring.release(block)

    def packets(self, timeout_s: float = 1.0) -> Iterator[Frame]:
        """Like :meth:`blocks`, flattened, with ``data`` copied to ``bytes``."""
        for frames in self.blocks(timeout_s):
            for frame in frames:
                yield Frame(frame.ts_ns, bytes(frame.data), frame.wire_len)

    def _frames(self, block: Block) -> list[Frame]:
        frames = []
        for header in self._ring.headers(block):
            if self.direction == "out" and header.pkttype != sockopt.PACKET_OUTGOING:
                continue
            frames.append(self._frame(header))
        return frames

    def _frame(self, header: PacketHeader) -> Frame:
        if header.status & TP_STATUS_VLAN_VALID and self.linktype == LinkType.EN10MB:
            return self._frame_with_vlan(header)
        return Frame(header.ts_ns, self._ring.data(header, self.snaplen), header.wire_len)

    def _frame_with_vlan(self, header: PacketHeader) -> Frame:
        """Put back the 802.1Q tag the NIC/driver offloaded, as libpcap does."""
        data = self._ring.data(header, header.snaplen)
        tpid = header.vlan_tpid if header.status & TP_STATUS_VLAN_TPID_VALID else 0x8100
        tag = struct.pack("!HH", tpid, header.vlan_tci)
        tagged = bytes(data[:ETH_ALEN2]) + tag + bytes(data[ETH_ALEN2:])
        data.release()
        return Frame(header.ts_ns, tagged[:self.snaplen], header.wire_len + 4)

    # -------------------------------------------------------------------- statistics

    def stats(self) -> CaptureStats:
        """Counters since open (the kernel resets its own on every read)."""
        now = sockopt.packet_statistics(self._sock)
        self._received += now.packets
        self._dropped += now.drops
        return CaptureStats(self._received, self._dropped)

    # ----------------------------------------------------------------------- closing

    def close(self) -> None:
        """Close the socket (which detaches the filter and leaves promiscuous
        mode) and unmap the ring; safe to call twice."""
        if self._sock.fileno() >= 0:
            self._poll.unregister(self._sock)
            self._ring.close()
            self._sock.close()

    def __enter__(self) -> "Capture":
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _release_views(frames: list[Frame]) -> None:
    for frame in frames:
        if isinstance(frame.data, memoryview):
            try:
                frame.data.release()
            except BufferError:
                pass  # the consumer re-exported it; it keeps the mapping alive


def interface_linktype(interface: str) -> LinkType:
    """The link type a capture on ``interface`` will have, without capturing
    (the filter must be compiled for it before the capture socket exists)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        arphrd = sockopt.interface_arphrd(probe, interface) if _exists(interface) else None
    if arphrd is None:
        raise CaptureError(f"{interface}: No such device exists")
    try:
        return _LINKTYPES[arphrd]
    except KeyError:
        raise CaptureError(f"{interface}: unsupported hardware type {arphrd}") from None


def _exists(interface: str) -> bool:
    try:
        socket.if_nametoindex(interface)
        return True
    except OSError:
        return False
