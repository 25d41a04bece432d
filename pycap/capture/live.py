"""Live capture on one interface (or ``any``): an AF_PACKET socket with the
compiled filter attached and a TPACKET_V3 ring.

Order of operations matters.  The socket is created with protocol 0, so it
is hooked to no device and receives nothing; the filter is attached, the ring
set up, and only then ``bind()`` hooks it to the interface with ETH_P_ALL.
No packet can reach the socket before the filter does.

``any`` is a SOCK_DGRAM socket bound to ifindex 0: the kernel strips the
link-layer header (so the filter sees the network header at offset 0) and
pycap synthesizes libpcap's cooked header, LINUX_SLL2 or LINUX_SLL, from the
``sockaddr_ll`` the ring carries with each packet.
"""

from __future__ import annotations

import errno
import select
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pycap.frozen import frozen, named_tuple
from types import TracebackType

from pycap.capture.encode import PCAP_RECORD_LEN, BlockEncoder, Layout, reserve_for
from pycap.capture.ring import Block, Ring, ring_geometry
from pycap.errors import CaptureError
from pycap.kernel import sockopt
from pycap.kernel.bpf import Program
from pycap.linktype import LinkType

DIRECTIONS = ("inout", "in", "out")
IMMEDIATE_TOV_MS = 1
ANY = "any"
DEFAULT_BUFFER_KIB = 2048
COOKED_LINKTYPES = {"sll2": LinkType.LINUX_SLL2, "sll": LinkType.LINUX_SLL}
LOOPBACK_IFINDEX = 1  # "lo" is ifindex 1 in every network namespace
# libpcap's time stamp types on Linux, with the descriptions tcpdump -J prints
TSTAMP_TYPES = {"host": "Host", "adapter": "Adapter",
                "adapter_unsynced": "Adapter, not synced with system time"}

_LINKTYPES = {
    sockopt.ARPHRD_ETHER: LinkType.EN10MB,
    sockopt.ARPHRD_LOOPBACK: LinkType.EN10MB,  # libpcap does the same
    sockopt.ARPHRD_NONE: LinkType.RAW,  # tun: the frame starts at the IP header
}


@named_tuple
class Frame:
    """One captured packet.  ``data`` may be a view into the ring that is
    valid only until the next block is requested: copy what you keep."""

    ts_ns: int
    data: memoryview | bytes
    wire_len: int


@frozen
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

    ``interface="any"`` captures on every interface of the namespace with a
    cooked header: ``cooked="sll2"`` (LINUX_SLL2, tcpdump's default) or
    ``"sll"`` (LINUX_SLL).  ``accept(frame, wire_len)``, if given, is a
    user-space filter run on each frame (with its link-layer header) before
    anything else sees it.

    ``headroom`` bytes are reserved in front of every frame in the ring for a
    savefile record header (16: pcap, 28: pcapng), so that
    :meth:`encoder` builds records in place; ``program_snaps=True`` promises
    that ``program`` never returns more than ``snaplen`` (a compiled filter
    does not), which lets the encoder skip that check.

    ``direction="in"`` is done by the kernel (PACKET_IGNORE_OUTGOING);
    ``"out"`` drops received packets in user space, so :meth:`stats` still
    counts them.  Opening needs CAP_NET_RAW in the interface's namespace.
    """

    def __init__(self, interface: str, program: Program | None, snaplen: int = 262144,
                 promisc: bool = True, direction: str = "inout",
                 buffer_kib: int = DEFAULT_BUFFER_KIB, block_timeout_ms: int = 100,
                 immediate: bool = False, *, cooked: str = "sll2",
                 accept: Callable[[bytes, int], bool] | None = None,
                 headroom: int = PCAP_RECORD_LEN, program_snaps: bool = False,
                 tstamp_type: str = "host"):
        if direction not in DIRECTIONS:
            raise CaptureError(f"{direction}: direction must be one of {', '.join(DIRECTIONS)}")
        if snaplen <= 0:
            raise CaptureError(f"invalid snaplen {snaplen}")
        if tstamp_type not in TSTAMP_TYPES:
            raise CaptureError(f"invalid time stamp type {tstamp_type}")
        if cooked not in COOKED_LINKTYPES:
            raise CaptureError(f"{cooked}: cooked header must be one of "
                               f"{', '.join(COOKED_LINKTYPES)}")
        self.interface = interface
        self.snaplen = snaplen
        self.direction = direction
        self.is_any = interface == ANY
        self.warnings: list[str] = []
        self._received = 0
        self._dropped = 0
        with ExitStack() as stack:
            self._sock = self._open_socket()
            stack.callback(self._sock.close)
            if self.is_any:
                self.ifindex = 0
                self.linktype = COOKED_LINKTYPES[cooked]
            else:
                self.ifindex = sockopt.interface_index(interface, self._sock)
                self.linktype = self._linktype()
            self.layout = Layout(
                snaplen=snaplen, cooked=cooked if self.is_any else None,
                vlan=self.linktype == LinkType.EN10MB, direction=direction,
                lo_ifindex=LOOPBACK_IFINDEX if self.is_any or self.ifindex == LOOPBACK_IFINDEX
                else -1,
                accept=accept, headroom=headroom,
                kernel_snaplen=program is not None and program_snaps)
            if program is not None:
                sockopt.attach_filter(self._sock, program)
            if tstamp_type != "host":
                self._hardware_timestamps(tstamp_type)
            tov = IMMEDIATE_TOV_MS if immediate else block_timeout_ms
            self.block_timeout_s = tov / 1000
            self._ring = self._setup_ring(buffer_kib, tov)
            stack.callback(self._ring.close)
            self._bind(promisc and not self.is_any)
            self._poll = select.poll()
            self._poll.register(self._sock, select.POLLIN | select.POLLERR)
            self._packets = BlockEncoder(self._ring.view, self.layout)
            stack.pop_all()

    # ------------------------------------------------------------------ set-up steps

    def _open_socket(self) -> socket.socket:
        kind = socket.SOCK_DGRAM if self.is_any else socket.SOCK_RAW
        try:
            # protocol 0: not hooked to any device until bind()
            return socket.socket(socket.AF_PACKET, kind, 0)
        except OSError as err:
            raise _socket_error(self.interface, err) from None

    def _linktype(self) -> LinkType:
        arphrd = sockopt.interface_arphrd(self._sock, self.interface)
        try:
            return _LINKTYPES[arphrd]
        except KeyError:
            raise CaptureError(f"{self.interface}: unsupported hardware type "
                               f"(ARPHRD {arphrd})") from None

    def _hardware_timestamps(self, tstamp_type: str) -> None:
        """``-j adapter``/``adapter_unsynced``: the NIC's clock, where it has one;
        elsewhere libpcap's warning, and host time stamps."""
        if self.is_any or not sockopt.hardware_timestamping(self._sock, self.interface):
            self.warnings.append(f"When trying to set timestamp type '{tstamp_type}' on "
                                 f"{self.interface}: That type of time stamp is not supported "
                                 f"by that device")
            return
        try:
            sockopt.enable_hardware_timestamps(self._sock, self.interface)
        except OSError as err:
            raise CaptureError(f"{self.interface}: SIOCSHWTSTAMP failed: {err.strerror}") from None

    def _setup_ring(self, buffer_kib: int, tov_ms: int) -> Ring:
        geometry = ring_geometry(buffer_kib, tov_ms)
        try:
            # room in front of every frame for a record header plus a cooked
            # header or a VLAN tag, so records are built in place (capture.encode)
            sockopt.set_reserve(self._sock, reserve_for(self.layout.cooked, self.layout.headroom))
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
            if self.is_any:
                sockopt.bind_all_interfaces(self._sock)
            else:
                self._sock.bind((self.interface, sockopt.ETH_P_ALL))
        except OSError as err:
            raise CaptureError(f"{self.interface}: {err.strerror}") from None
        if sockopt.socket_error(self._sock) == errno.ENETDOWN:
            raise CaptureError(f"{self.interface}: That device is not up")

    # ----------------------------------------------------------------------- reading

    def fileno(self) -> int:
        return self._sock.fileno()

    def ready(self) -> bool:
        """Whether a block is waiting in user space."""
        return self._ring.ready()

    def wait(self, timeout_s: float) -> bool:
        """Wait until a block is ready; False on timeout."""
        if self._ring.ready():
            return True
        for _, revents in self._poll.poll(max(0, int(timeout_s * 1000))):
            if revents & select.POLLERR:
                self.check_error()
        return self._ring.ready()

    def check_error(self) -> None:
        """Raise CaptureError for a pending socket error (interface down or gone)."""
        err = sockopt.socket_error(self._sock)
        if err == errno.ENETDOWN:
            raise CaptureError(f"{self.interface}: The interface went down")
        if err in (errno.ENODEV, errno.ENXIO):
            raise CaptureError(f"{self.interface}: The interface disappeared")
        if err:
            raise CaptureError(f"{self.interface}: {errno.errorcode.get(err, err)}")

    def take(self) -> Block | None:
        """The next block the kernel handed over, or None.  Give it back with
        :meth:`release` once its packets are consumed (views into it die then)."""
        return self._ring.take()

    def release(self, block: Block) -> None:
        self._ring.release(block)

    def encoder(self, pcapng: bool = False, nanosecond: bool = False,
                ifid: int = 0) -> BlockEncoder:
        """Turns this capture's blocks into savefile records (see capture.encode)."""
        return BlockEncoder(self._ring.view, self.layout, pcapng, nanosecond, ifid)

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
            frames = self.frames(block)
            try:
                yield frames
            finally:
                release_views(frames)
                self._ring.release(block)

    def packets(self, timeout_s: float = 1.0) -> Iterator[Frame]:
        """Like :meth:`blocks`, flattened, with ``data`` copied to ``bytes``."""
        for frames in self.blocks(timeout_s):
            for frame in frames:
                yield Frame(frame.ts_ns, bytes(frame.data), frame.wire_len)

    def frames(self, block: Block) -> list[Frame]:
        """The wanted packets of a block taken with :meth:`take`, link-layer
        header in place (cooked header, VLAN tag); views valid until release."""
        frames = []
        view, prepare = self._ring.view, self._packets.prepare
        for header in self._ring.headers(block):
            p = prepare(header.offset)
            if p is None:
                continue
            data = p.data if p.data is not None else view[p.start:p.start + p.caplen]
            frames.append(Frame(p.sec * 1_000_000_000 + p.nsec, data, p.wire_len))
        block.done, block.pos = block.num_pkts, 0
        return frames

    def pending(self) -> int:
        """Packets the kernel has put in the ring but not handed over yet: it
        hands a block over when it is full or when its timeout expires, so
        a stop in between would lose them (libpcap does: up to a second's
        worth under tcpdump).  Reads the kernel's counters (see :meth:`stats`)."""
        stats = self.stats()
        return max(0, stats.received - stats.dropped - self._ring.delivered)

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


def release_views(frames: list[Frame]) -> None:
    """Release the zero-copy views of :meth:`Capture.frames` before the block goes back."""
    for frame in frames:
        if isinstance(frame.data, memoryview):
            try:
                frame.data.release()
            except BufferError:
                pass  # the consumer re-exported it; it keeps the mapping alive


def time_stamp_types(interface: str) -> list[str]:
    """What ``-j`` may ask of ``interface`` (tcpdump ``-J``): always ``host``,
    and the adapter's clock when the driver time-stamps in hardware."""
    if interface == ANY:
        return ["host"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        if not _exists(interface):
            raise CaptureError(f"{interface}: No such device exists")
        if sockopt.hardware_timestamping(probe, interface):
            return ["host", "adapter", "adapter_unsynced"]
    return ["host"]


def interface_linktype(interface: str, cooked: str = "sll2") -> LinkType:
    """The link type a capture on ``interface`` will have, without capturing
    (the filter must be compiled for it before the capture socket exists)."""
    if interface == ANY:
        return COOKED_LINKTYPES[cooked]
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
