"""Socket options of AF_PACKET sockets and socket filters, and interface look-ups.

Thin, typed wrappers over ``setsockopt``/``getsockopt``/``ioctl`` with the
kernel's constants, so that ``pycap.capture`` never spells a magic number.
"""

from __future__ import annotations

import errno
import fcntl
import socket
import struct
from pycap.frozen import frozen

from pycap.errors import CaptureError
from pycap.kernel.bpf import Program

SOL_PACKET = 263
SO_ATTACH_BPF = 50
SO_DETACH_BPF = 27  # same number as SO_DETACH_FILTER
ETH_P_ALL = 0x0003

PACKET_ADD_MEMBERSHIP = 1
PACKET_DROP_MEMBERSHIP = 2
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
PACKET_RESERVE = 12
PACKET_TIMESTAMP = 17
PACKET_IGNORE_OUTGOING = 23
PACKET_MR_PROMISC = 1
TPACKET_V3 = 2

# sll_pkttype values
PACKET_HOST = 0
PACKET_BROADCAST = 1
PACKET_MULTICAST = 2
PACKET_OTHERHOST = 3
PACKET_OUTGOING = 4

SIOCGIFADDR = 0x8915
SIOCGIFNETMASK = 0x891B
SIOCGIFHWADDR = 0x8927
SIOCGIFINDEX = 0x8933
SIOCETHTOOL = 0x8946
SIOCSHWTSTAMP = 0x89B0
ETHTOOL_GET_TS_INFO = 0x41
SOF_TIMESTAMPING_RX_HARDWARE = 1 << 2
SOF_TIMESTAMPING_RAW_HARDWARE = 1 << 6
HWTSTAMP_TX_OFF = 0
HWTSTAMP_FILTER_ALL = 1
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
ARPHRD_NONE = 0xFFFE


def attach_filter(sock: socket.socket, prog: Program | int) -> None:
    """``SO_ATTACH_BPF``: the socket keeps its own reference to the program."""
    fd = prog if isinstance(prog, int) else prog.fd
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_BPF, fd)


def detach_filter(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, SO_DETACH_BPF, 0)


@frozen
class PacketStatistics:
    """One ``PACKET_STATISTICS`` read; the kernel resets its counters on each read.

    ``packets`` counts every packet the filter accepted *including* the ones
    dropped for lack of ring space (the kernel adds ``drops`` to it before
    answering), as libpcap's ``ps_recv`` does.
    """

    packets: int
    drops: int
    freeze_q_cnt: int = 0


def packet_statistics(sock: socket.socket) -> PacketStatistics:
    raw = sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12)
    if len(raw) >= 12:  # struct tpacket_stats_v3
        return PacketStatistics(*struct.unpack_from("=III", raw))
    return PacketStatistics(*struct.unpack_from("=II", raw))  # struct tpacket_stats


def _membership(sock: socket.socket, option: int, ifindex: int, kind: int) -> None:
    mreq = struct.pack("=iHH8s", ifindex, kind, 0, b"")  # struct packet_mreq
    sock.setsockopt(SOL_PACKET, option, mreq)


def add_promiscuous(sock: socket.socket, ifindex: int) -> None:
    """Promiscuous mode for as long as this socket lives (the kernel counts users)."""
    _membership(sock, PACKET_ADD_MEMBERSHIP, ifindex, PACKET_MR_PROMISC)


def drop_promiscuous(sock: socket.socket, ifindex: int) -> None:
    _membership(sock, PACKET_DROP_MEMBERSHIP, ifindex, PACKET_MR_PROMISC)


def ignore_outgoing(sock: socket.socket) -> None:
    """Do not deliver packets this host transmits (``-Q in``)."""
    sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)


def set_reserve(sock: socket.socket, nbytes: int) -> None:
    """``PACKET_RESERVE``: leave ``nbytes`` of headroom in front of each frame
    in the ring (set before ``PACKET_RX_RING``)."""
    sock.setsockopt(SOL_PACKET, PACKET_RESERVE, nbytes)


def bind_all_interfaces(sock: socket.socket, protocol: int = ETH_P_ALL) -> None:
    """Bind to ifindex 0: packets of every interface in the namespace (``-i any``)."""
    from pycap.kernel import _libc
    address = struct.pack("=HHiHBB8s", socket.AF_PACKET, socket.htons(protocol), 0, 0, 0, 0, b"")
    _libc.bind(sock.fileno(), address)


def set_tpacket_v3(sock: socket.socket) -> None:
    sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)


@frozen
class RingGeometry:
    """``struct tpacket_req3``: a TPACKET_V3 ring is ``block_nr`` blocks of
    ``block_size`` bytes; a block goes to user space when full or after
    ``retire_tov_ms`` milliseconds."""

    block_size: int
    block_nr: int
    frame_size: int
    retire_tov_ms: int

    @property
    def frame_nr(self) -> int:
        return self.block_size // self.frame_size * self.block_nr

    @property
    def map_size(self) -> int:
        return self.block_size * self.block_nr

    def pack(self) -> bytes:
        return struct.pack("=7I", self.block_size, self.block_nr, self.frame_size,
                           self.frame_nr, self.retire_tov_ms, 0, 0)


def set_rx_ring(sock: socket.socket, geometry: RingGeometry) -> None:
    sock.setsockopt(SOL_PACKET, PACKET_RX_RING, geometry.pack())


def socket_error(sock: socket.socket) -> int:
    """The pending ``SO_ERROR`` (0 if none); reading clears it."""
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)


# ------------------------------------------------------------------------- interfaces


def _no_such_device(name: str) -> CaptureError:
    # tcpdump: "tcpdump: IFACE: No such device exists"
    return CaptureError(f"{name}: No such device exists")


def _ifreq_ioctl(sock: socket.socket, request: int, name: str) -> bytes:
    """An ioctl on a ``struct ifreq`` naming ``name``; a name the kernel
    cannot hold is no device, the ioctl's own failure an OSError."""
    encoded = name.encode()
    if not encoded or len(encoded) >= 16 or b"\0" in encoded:
        raise _no_such_device(name)
    return fcntl.ioctl(sock.fileno(), request, struct.pack("16s24x", encoded))


def _ifreq(sock: socket.socket, request: int, name: str) -> bytes:
    try:
        return _ifreq_ioctl(sock, request, name)
    except OSError as err:
        if err.errno in (errno.ENODEV, errno.ENXIO):
            raise _no_such_device(name) from None
        raise CaptureError(f"{name}: {err.strerror}") from None


def interface_index(name: str, sock: socket.socket | None = None) -> int:
    """The ifindex of ``name`` in ``sock``'s network namespace (or the thread's)."""
    if sock is not None:
        return struct.unpack_from("=i", _ifreq(sock, SIOCGIFINDEX, name), 16)[0]
    try:
        return socket.if_nametoindex(name)
    except (OSError, ValueError, UnicodeError):
        raise _no_such_device(name) from None


def interface_name(index: int) -> str:
    try:
        return socket.if_indextoname(index)
    except OSError:
        raise CaptureError(f"ifindex {index}: No such device exists") from None


def interface_arphrd(sock: socket.socket, name: str) -> int:
    """The ARPHRD_* hardware type of ``name`` (``SIOCGIFHWADDR``, as libpcap does).

    An ioctl on the capture socket rather than ``/sys/class/net``: sysfs shows
    the namespace it was mounted in, not the one the socket lives in.
    """
    return struct.unpack_from("=H", _ifreq(sock, SIOCGIFHWADDR, name), 16)[0]


def interface_ipv4_network(name: str) -> tuple[int, int]:
    """(network, mask) of ``name``'s IPv4 address, as 32-bit integers:
    pcap_lookupnet(), which tcpdump asks for ``-f``.  ``any`` has none (0, 0).
    No address: CaptureError with libpcap's text, "NAME: no IPv4 address
    assigned"."""
    if name == "any":
        return 0, 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            address = _ifreq_ioctl(probe, SIOCGIFADDR, name)
        except OSError as err:
            if err.errno == errno.EADDRNOTAVAIL:
                raise CaptureError(f"{name}: no IPv4 address assigned") from None
            raise CaptureError(f"SIOCGIFADDR: {name}: {err.strerror}") from None
        try:
            mask = _ifreq_ioctl(probe, SIOCGIFNETMASK, name)
        except OSError as err:
            raise CaptureError(f"SIOCGIFNETMASK: {name}: {err.strerror}") from None
    net = struct.unpack_from("!I", address, 20)[0]
    mask_bits = struct.unpack_from("!I", mask, 20)[0]
    if mask_bits == 0:                  # libpcap: the address's class decides
        mask_bits = (0xFF000000 if net >> 31 == 0 else
                     0xFFFF0000 if net >> 30 == 2 else 0xFFFFFF00)
    return net & mask_bits, mask_bits


# ------------------------------------------------------------------ time stamps


def _ifreq_with(sock: socket.socket, request: int, name: str, data: bytearray) -> None:
    """An ioctl whose ``struct ifreq`` points at ``data`` (ifr_data)."""
    import ctypes
    buf = (ctypes.c_char * len(data)).from_buffer(data)
    ifreq = struct.pack("16sP8x", name.encode(), ctypes.addressof(buf))
    fcntl.ioctl(sock.fileno(), request, ifreq)


def hardware_timestamping(sock: socket.socket, name: str) -> bool:
    """Whether ``name`` can time-stamp received packets in hardware
    (``ETHTOOL_GET_TS_INFO``, as libpcap asks before offering "adapter")."""
    info = bytearray(struct.pack("=IIi", ETHTOOL_GET_TS_INFO, 0, -1) + bytes(32))
    try:
        _ifreq_with(sock, SIOCETHTOOL, name, info)
    except OSError:
        return False
    so_timestamping = struct.unpack_from("=I", info, 4)[0]
    return bool(so_timestamping & SOF_TIMESTAMPING_RAW_HARDWARE
                and so_timestamping & SOF_TIMESTAMPING_RX_HARDWARE)


def enable_hardware_timestamps(sock: socket.socket, name: str) -> None:
    """``SIOCSHWTSTAMP``: have the NIC stamp every received packet; then
    ``PACKET_TIMESTAMP`` makes the ring carry those stamps."""
    config = bytearray(struct.pack("=iii", 0, HWTSTAMP_TX_OFF, HWTSTAMP_FILTER_ALL))
    _ifreq_with(sock, SIOCSHWTSTAMP, name, config)
    sock.setsockopt(SOL_PACKET, PACKET_TIMESTAMP, SOF_TIMESTAMPING_RAW_HARDWARE)
