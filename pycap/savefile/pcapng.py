"""pcapng: a stream of typed blocks (SHB, IDB, EPB, SPB, ISB...), each section
with its own byte order and its own list of interfaces.

Reading follows libpcap's sf-pcapng.c, with the same messages, but is more
permissive in two ways tshark also is: sections may change byte order, and
interfaces may differ in link type and snap length (each Record carries its
interface's linktype).
"""

from __future__ import annotations

import struct
from pycap.frozen import frozen
from collections.abc import Iterator

TYPE_CHECKING = False   # typing's, without importing typing (2 ms of every start)
if TYPE_CHECKING:
    from typing import BinaryIO

from pycap.errors import SavefileError
from pycap.savefile._io import FLUSH_AT, MAX_SNAPLEN, BufferedWriter, Sink, Source, adjust_snaplen, error
from pycap.savefile.record import Record, RecordReader, Row

SHB, IDB, OPB, SPB, ISB, EPB = 0x0A0D0D0A, 1, 2, 3, 5, 6
SHB_MAGIC = b"\n\r\r\n"
BYTE_ORDERS = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}
SHB_INSANE_MAX = 1024 * 1024        # libpcap's BT_SHB_INSANE_MAX
MAX_BLOCK = 16 * 1024 * 1024        # libpcap's INITIAL_MAX_BLOCKSIZE
OPT_ENDOFOPT, OPT_COMMENT = 0, 1
IF_NAME, IF_TSRESOL, IF_TSOFFSET = 2, 9, 14
SHB_USERAPPL = 4
ISB_STARTTIME, ISB_ENDTIME, ISB_IFRECV, ISB_IFDROP = 2, 3, 4, 5


@frozen
class Interface:
    """What an IDB says about one interface of the current section."""

    linktype: int
    snaplen: int           # adjusted like libpcap: 0 or absurd -> the maximum
    name: str | None = None
    tsresol: int = 6       # raw if_tsresol byte: 10^-n, or 2^-(n & 0x7f) with bit 7
    tsoffset: int = 0      # if_tsoffset, seconds

    @property
    def nanosecond(self) -> bool:
        """True when time stamps are finer than the microsecond."""
        if self.tsresol & 0x80:
            return (self.tsresol & 0x7F) >= 20
        return self.tsresol > 6


def ts_scale(tsresol: int) -> tuple[int, int, int]:
    """``(mul, shift, div)`` so that ns = (ticks * mul >> shift) // div, exactly."""
    exp = tsresol & 0x7F
    if tsresol & 0x80:
        return 1_000_000_000, exp, 1
    if exp <= 9:
        return 10 ** (9 - exp), 0, 1
    return 1, 0, 10 ** (exp - 9)


class _Structs:
    """Precompiled unpackers for one byte order (swapped on each SHB)."""

    __slots__ = ("order", "bh", "u32", "epb", "opb", "idb", "opt", "ver", "u64", "i64")

    def __init__(self, order: str):
        self.order = order
        self.bh = struct.Struct(order + "II").unpack_from
        self.u32 = struct.Struct(order + "I").unpack_from
        self.epb = struct.Struct(order + "IIIII").unpack_from
        self.opb = struct.Struct(order + "HHIIII").unpack_from
        self.idb = struct.Struct(order + "HHI").unpack_from
        self.opt = struct.Struct(order + "HH").unpack_from
        self.ver = struct.Struct(order + "HH").unpack_from
        self.u64 = struct.Struct(order + "Q").unpack_from
        self.i64 = struct.Struct(order + "q").unpack_from


_STRUCTS = {"<": _Structs("<"), ">": _Structs(">")}


class PcapngReader(RecordReader):
    """Iterator of :class:`Record` over a pcapng file.

    Like libpcap, opening reads up to the first IDB (so ``linktype`` is known
    before any packet); damage after that raises SavefileError from the
    iteration, after every record before it has been yielded.
    """

    linktype: int
    snaplen: int
    nanosecond: bool
    path: str

    def _setup(self, src: Source) -> None:
        self._src = src
        self.path = src.path
        self.interfaces: list[Interface] = []
        self._ifaces: list[tuple[int, int, int, int, int, int]] = []
        self._opening = True
        try:
            self._first_section()
            blocks = self._blocks()
            next(blocks)           # stops right after the first IDB
            self._start(blocks)
        except BaseException:
            src.close()
            raise

    @property
    def byteorder(self) -> str:
        """Byte order of the current section."""
        return "little" if self._st.order == "<" else "big"

    def _err(self, message: str) -> Exception:
        return error(self.path, message)

    def _too_short(self, btype: int) -> Exception:
        return self._err(f"block of type {btype} in pcapng dump file is too short")

    def _truncated(self, wanted: int, got: int) -> Exception:
        return self._err(f"truncated pcapng dump file; tried to read {wanted} bytes, only got {max(got, 0)}")

    def _first_section(self) -> None:
        """The opening SHB, checked as pcap_ng_check_header() does."""
        src = self._src
        buf, pos = src.fill(src.pos, 12)
        order = BYTE_ORDERS.get(buf[8:12]) if len(buf) >= 12 and buf[:4] == SHB_MAGIC else None
        if order is None:
            raise self._err("unknown file format")
        self._st = _STRUCTS[order]
        blen = self._st.u32(buf, 4)[0]
        if blen < 28 or blen > SHB_INSANE_MAX:
            raise self._err(f"Section Header Block in pcapng dump file has invalid length 28 < _{blen}_ "
                            f"< {SHB_INSANE_MAX} (BT_SHB_INSANE_MAX)")
        # libpcap does not check this block's alignment or trailer either
        buf, pos = src.fill(0, blen)
        if len(buf) < blen:
            raise self._truncated(blen - 12, len(buf) - 12)
        major, minor = self._st.ver(buf, 12)
        if not (major == 1 and minor in (0, 2)):
            raise self._err(f"unsupported pcapng savefile version {major}.{minor}")
        src.pos = blen

    def _blocks(self) -> Iterator[list[Row]]:
        """The hot loop: EPBs inline, every other block type out of line.  Rows
        gather into a list, handed over before the buffer is refilled (so a
        pipe is printed as it arrives) or, with those before it, at an error."""
        src, ifaces = self._src, self._ifaces
        st = self._st
        bh, u32, epb = st.bh, st.u32, st.epb
        buf, pos = src.buf, src.pos
        end = len(buf)
        rows: list[Row] = []
        try:
            while True:
                if rows and (end - pos < 12 or end - pos < u32(buf, pos + 4)[0]):
                    yield rows
                    rows = []
                if end - pos < 8:
                    buf, pos = src.fill(pos, 8)
                    end = len(buf)
                    if end < 8:
                        if end:
                            raise self._truncated(8, end)
                        if self._opening:
                            raise self._err("the capture file has no Interface Description Blocks")
                        return
                btype, blen = bh(buf, pos)
                if btype == SHB:
                    if end - pos < 12:
                        buf, pos = src.fill(pos, 12)
                        end = len(buf)
                    blen = self._switch_order(buf, pos, blen)
                    st = self._st
                    bh, u32, epb = st.bh, st.u32, st.epb
                if blen < 12 or blen & 3 or blen > MAX_BLOCK:
                    raise self._bad_length(blen)
                if end - pos < blen:
                    buf, pos = src.fill(pos, blen)
                    end = len(buf)
                    if end < blen:
                        raise self._truncated(blen - 8, end - 8)
                if u32(buf, pos + blen - 4)[0] != blen:
                    raise self._err("block total length in header and trailer don't match")
                if btype == EPB:
                    if blen < 32:
                        raise self._too_short(EPB)
                    ifid, hi, lo, caplen, wire = epb(buf, pos + 8)
                    if ifid >= len(ifaces):
                        raise self._no_interface(ifid)
                    linktype, snaplen, mul, shift, div, off = ifaces[ifid]
                    if caplen > snaplen or caplen > blen - 32:
                        raise self._bad_caplen(EPB, caplen, snaplen)
                    start = pos + 28
                    pos += blen
                    rows.append((((hi << 32 | lo) * mul >> shift) // div + off,
                                 buf[start:start + caplen], wire, ifid, linktype))
                elif btype == IDB:
                    self._add_interface(buf, pos, blen)
                    pos += blen
                    if self._opening:
                        self._opened()
                        yield None  # type: ignore[misc]  # sentinel for _setup
                elif btype == SPB or btype == OPB:
                    rows.append(self._spb(buf, pos, blen) if btype == SPB else self._opb(buf, pos, blen))
                    pos += blen
                else:
                    if btype == SHB:
                        self._new_section(buf, pos, blen)
                    pos += blen   # ISB, NRB, DSB, custom...: nothing a reader needs
        except SavefileError:
            if rows:
                yield rows
            raise

    def _opened(self) -> None:
        """The first IDB fixes the file-level attributes, as in libpcap."""
        self._opening = False
        first = self.interfaces[0]
        self.linktype, self.snaplen, self.nanosecond = first.linktype, first.snaplen, first.nanosecond

    def _bad_length(self, blen: int) -> Exception:
        if blen < 12:
            return self._err(f"block in pcapng dump file has a length of {blen} < 12")
        if blen & 3:
            return self._err(f"block in pcapng dump file has a length of {blen} that is not a multiple of 4")
        return self._err(f"pcapng block size {blen} > maximum {MAX_BLOCK}")

    def _no_interface(self, ifid: int) -> Exception:
        if self._opening:
            return self._err("the capture file has a packet block before any Interface Description Blocks")
        return self._err(f"a packet arrived on interface {ifid}, but there's no Interface Description Block "
                         "for that interface")

    def _bad_caplen(self, btype: int, caplen: int, snaplen: int) -> Exception:
        if caplen > snaplen:
            return self._err(f"invalid packet capture length {caplen}, bigger than snaplen of {snaplen}")
        return self._too_short(btype)

    def _switch_order(self, buf: bytes, pos: int, blen: int) -> int:
        """A new SHB may change byte order; returns its length in the new order."""
        if len(buf) - pos < 12:
            raise self._truncated(blen - 8, len(buf) - pos - 8)
        order = BYTE_ORDERS.get(buf[pos + 8:pos + 12])
        if order is None:
            raise self._err("the file has a section with a bad byte order magic field")
        self._st = _STRUCTS[order]
        return self._st.u32(buf, pos + 4)[0]

    def _new_section(self, buf: bytes, pos: int, blen: int) -> None:
        """Interface ids restart at 0 in each section."""
        if blen < 28:
            raise self._too_short(SHB)
        major = self._st.ver(buf, pos + 12)[0]
        if major != 1:
            raise self._err(f"unknown pcapng savefile major version number {major}")
        self._ifaces.clear()
        self.interfaces.clear()

    def _add_interface(self, buf: bytes, pos: int, blen: int) -> None:
        if blen < 20:
            raise self._too_short(IDB)
        linktype, _reserved, snaplen = self._st.idb(buf, pos + 8)
        name, tsresol, tsoffset = self._idb_options(buf, pos + 16, pos + blen - 4)
        iface = Interface(linktype, adjust_snaplen(linktype, snaplen), name, tsresol, tsoffset)
        mul, shift, div = ts_scale(tsresol)
        self.interfaces.append(iface)
        self._ifaces.append((linktype, iface.snaplen, mul, shift, div, tsoffset * 1_000_000_000))

    def _idb_options(self, buf: bytes, start: int, stop: int) -> tuple[str | None, int, int]:
        name, tsresol, tsoffset, seen = None, 6, 0, set()
        for code, value in self._options(buf, start, stop, IDB):
            if code == IF_NAME:
                name = value.rstrip(b"\0").decode("utf-8", "replace")
            elif code == IF_TSRESOL:
                tsresol = self._tsresol(value, IF_TSRESOL in seen)
            elif code == IF_TSOFFSET:
                tsoffset = self._tsoffset(value, IF_TSOFFSET in seen)
            seen.add(code)
        return name, tsresol, tsoffset

    def _tsresol(self, value: bytes, repeated: bool) -> int:
        if repeated:
            raise self._err("Interface Description Block has more than one if_tsresol option")
        if len(value) != 1:
            raise self._err(f"Interface Description Block has if_tsresol option with length {len(value)} != 1")
        res = value[0]
        if res & 0x80 and res & 0x7F > 63:
            raise self._err(f"Interface Description Block if_tsresol option resolution 2^-{res & 0x7F} is too high")
        if not res & 0x80 and res > 19:
            raise self._err(f"Interface Description Block if_tsresol option resolution 10^-{res} is too high")
        return res

    def _tsoffset(self, value: bytes, repeated: bool) -> int:
        if repeated:
            raise self._err("Interface Description Block has more than one if_tsoffset option")
        if len(value) != 8:
            raise self._err(f"Interface Description Block has if_tsoffset option with length {len(value)} != 8")
        return self._st.i64(value, 0)[0]

    def _options(self, buf: bytes, start: int, stop: int, btype: int) -> Iterator[tuple[int, bytes]]:
        """(code, value) pairs up to opt_endofopt or the end of the block body."""
        opt = self._st.opt
        while start < stop:
            if stop - start < 4:
                raise self._too_short(btype)
            code, length = opt(buf, start)
            start += 4
            padded = (length + 3) & ~3
            if stop - start < padded:   # checked before opt_endofopt, as libpcap does
                raise self._too_short(btype)
            if code == OPT_ENDOFOPT:
                return
            yield code, buf[start:start + length]
            start += padded

    def _spb(self, buf: bytes, pos: int, blen: int) -> Row:
        """Simple Packet Block: interface 0, no time stamp, caplen implied."""
        if blen < 16:
            raise self._too_short(SPB)
        if not self._ifaces:
            raise self._no_interface(0)
        wire = self._st.u32(buf, pos + 8)[0]
        linktype, snaplen = self._ifaces[0][:2]
        caplen = min(wire, snaplen, blen - 16)
        return 0, buf[pos + 12:pos + 12 + caplen], wire, 0, linktype

    def _opb(self, buf: bytes, pos: int, blen: int) -> Row:
        """The obsolete Packet Block: an EPB with a 16-bit interface id."""
        if blen < 32:
            raise self._too_short(OPB)
        ifid, _drops, hi, lo, caplen, wire = self._st.opb(buf, pos + 8)
        if ifid >= len(self._ifaces):
            raise self._no_interface(ifid)
        linktype, snaplen, mul, shift, div, off = self._ifaces[ifid]
        if caplen > snaplen or caplen > blen - 32:
            raise self._bad_caplen(OPB, caplen, snaplen)
        ts = ((hi << 32 | lo) * mul >> shift) // div + off
        return ts, buf[pos + 28:pos + 28 + caplen], wire, ifid, linktype

    def __repr__(self) -> str:
        return f"<PcapngReader {self.path!r} linktype={self.linktype} interfaces={len(self.interfaces)}>"


def _option(code: int, value: bytes) -> bytes:
    """One little-endian option, padded to 32 bits."""
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) & 3)


def _block(btype: int, body: bytes) -> bytes:
    blen = len(body) + 12
    return struct.pack("<II", btype, blen) + body + struct.pack("<I", blen)


_EPB_HEAD = struct.Struct("<IIIIIII").pack
_U32 = struct.Struct("<I").pack
_PADS = (b"", b"\0\0\0", b"\0\0", b"\0")   # indexed by caplen & 3


class PcapngWriter(BufferedWriter):
    """Writes a little-endian pcapng section: SHB, one IDB per interface, EPBs.

    ``interfaces`` is a list of ``(linktype, snaplen, if_name)``; records name
    their interface by index into it.
    """

    def __init__(self, fileobj: BinaryIO, interfaces: list[tuple[int, int, str | None]],
                 nanosecond: bool = False, comment: str | None = None, *,
                 path: str | None = None, owns: bool = False):
        if not interfaces:
            raise ValueError("a pcapng file needs at least one interface")
        self.interfaces = list(interfaces)
        self.nanosecond = nanosecond
        self._sink = Sink(fileobj, path, owns)
        self.path = self._sink.path
        self._div = 1 if nanosecond else 1000
        self._limits = [snaplen if snaplen > 0 else MAX_SNAPLEN for _lt, snaplen, _name in self.interfaces]
        self.records = 0
        self._sink.buf += self._header(comment)
        self._sink.drain()

    def _header(self, comment: str | None) -> bytes:
        opts = _option(OPT_COMMENT, comment.encode()) if comment else b""
        opts += _option(SHB_USERAPPL, b"pycap") + _option(OPT_ENDOFOPT, b"")
        shb = _block(SHB, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + opts)
        return shb + b"".join(self._idb(*iface) for iface in self.interfaces)

    def _idb(self, linktype: int, snaplen: int, name: str | None) -> bytes:
        opts = _option(IF_NAME, name.encode()) if name else b""
        opts += _option(IF_TSRESOL, bytes([9 if self.nanosecond else 6])) + _option(OPT_ENDOFOPT, b"")
        return _block(IDB, struct.pack("<HHI", linktype, 0, snaplen) + opts)

    def write(self, record: Record) -> None:
        """Append one record as an EPB on ``record.interface``."""
        self.write_raw(record.timestamp_ns, record.data, record.wire_len, record.interface)

    def write_raw(self, ts_ns: int, data: "bytes | bytearray | memoryview", wire_len: int,
                  interface: int = 0) -> None:
        """Append one EPB without building a Record; data beyond snaplen is cut."""
        sink = self._sink
        if sink.closed:
            raise ValueError("write to a closed PcapngWriter")
        limit = self._limits[interface]
        caplen = len(data)
        if caplen > limit:
            caplen = limit
            data = data[:caplen]
        ticks = ts_ns // self._div
        blen = 32 + caplen + (-caplen & 3)
        self.records += 1
        buf = sink.buf
        buf += _EPB_HEAD(EPB, blen, interface, ticks >> 32 & 0xFFFFFFFF, ticks & 0xFFFFFFFF, caplen, wire_len)
        buf += data
        buf += _PADS[caplen & 3]
        buf += _U32(blen)
        if len(buf) >= FLUSH_AT:
            sink.drain()

    def write_stats(self, interface: int, received: int | None, dropped: int | None,
                    start_ns: int | None, end_ns: int | None) -> None:
        """An Interface Statistics Block, as tcpdump -w writes at the end; None omits a field."""
        if self._sink.closed:
            raise ValueError("write to a closed PcapngWriter")
        if not 0 <= interface < len(self.interfaces):
            raise ValueError(f"no interface {interface}")
        opts = b""
        for code, ns in ((ISB_STARTTIME, start_ns), (ISB_ENDTIME, end_ns)):
            if ns is not None:
                opts += _option(code, self._ts_pair(ns))
        for code, count in ((ISB_IFRECV, received), (ISB_IFDROP, dropped)):
            if count is not None:
                opts += _option(code, struct.pack("<Q", count))
        body = struct.pack("<I", interface) + self._ts_pair(end_ns or 0) + opts + _option(OPT_ENDOFOPT, b"")
        self._sink.buf += _block(ISB, body)

    def _ts_pair(self, ns: int) -> bytes:
        ticks = ns // self._div
        return struct.pack("<II", ticks >> 32 & 0xFFFFFFFF, ticks & 0xFFFFFFFF)
