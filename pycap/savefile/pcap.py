"""Classic libpcap savefiles: a 24-byte file header, then 16-byte record
headers each followed by the captured bytes.

Reading follows libpcap's sf-pcap.c (same checks, same messages) so that a
damaged file fails where, and how, tcpdump says it does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

TYPE_CHECKING = False   # typing's, without importing typing (2 ms of every start)
if TYPE_CHECKING:
    from typing import BinaryIO

from pycap.savefile._io import FLUSH_AT, MAX_SNAPLEN, BufferedWriter, Sink, Source, adjust_snaplen, error, max_snaplen
from pycap.savefile.record import Record, RecordReader, Row

FILE_HEADER_LEN = 24
LINKTYPE_MASK = 0x03FFFFFF   # the upper bits carry FCS-length flags (LT_LINKTYPE)

# first four bytes -> (byte order, nanosecond, record header size)
MAGICS: dict[bytes, tuple[str, bool, int]] = {
    b"\xd4\xc3\xb2\xa1": ("<", False, 16),
    b"\xa1\xb2\xc3\xd4": (">", False, 16),
    b"\x4d\x3c\xb2\xa1": ("<", True, 16),
    b"\xa1\xb2\x3c\x4d": (">", True, 16),
    b"\x34\xcd\xb2\xa1": ("<", False, 24),   # Alexey Kuznetzov's patched format
    b"\xa1\xb2\xcd\x34": (">", False, 24),
}

_LE_FILE_HEADER = struct.Struct("<IHHiIII")
_LE_RECORD_HEADER = struct.Struct("<IIII")


def _swap_lengths(caplen: int, wire_len: int) -> tuple[int, int]:
    """Savefiles before 2.3 wrote len before caplen."""
    return wire_len, caplen


def _maybe_swap_lengths(caplen: int, wire_len: int) -> tuple[int, int]:
    """2.3 files are ambiguous; caplen can never exceed len, so swap if it does."""
    return (wire_len, caplen) if caplen > wire_len else (caplen, wire_len)


def _length_fixer(major: int, minor: int) -> Callable[[int, int], tuple[int, int]] | None:
    if major == 2 and minor < 3:
        return _swap_lengths
    if major == 2 and minor == 3:
        return _maybe_swap_lengths
    return None


class PcapReader(RecordReader):
    """Iterator of :class:`Record` over a classic pcap file, either byte order.

    Records are yielded as they are parsed: a file damaged in the middle
    yields every record before the damage, then raises SavefileError.
    """

    linktype: int
    snaplen: int
    nanosecond: bool
    path: str
    byteorder: str
    version: tuple[int, int]

    def _setup(self, src: Source) -> None:
        self._src = src
        self.path = src.path
        try:
            self._parse_header()
        except BaseException:
            src.close()
            raise
        self._start(self._parse())

    def _parse_header(self) -> None:
        src = self._src
        buf, pos = src.fill(src.pos, FILE_HEADER_LEN)
        if len(buf) < 4:
            raise error(self.path, f"truncated dump file; tried to read 4 file header bytes, only got {len(buf)}")
        fmt = MAGICS.get(buf[:4])
        if fmt is None:
            raise error(self.path, "unknown file format")
        if len(buf) < FILE_HEADER_LEN:
            # libpcap counts the bytes after the magic it already consumed
            raise error(self.path, f"truncated dump file; tried to read 24 file header bytes, only got {len(buf) - 4}")
        order, self.nanosecond, self._hdrsize = fmt
        major, minor, _zone, _sigfigs, snaplen, linktype = struct.unpack_from(order + "HHiIII", buf, 4)
        self._check_version(major, minor)
        self.byteorder = "little" if order == "<" else "big"
        self.version = (major, minor)
        self.linktype = linktype & LINKTYPE_MASK
        self.snaplen = adjust_snaplen(self.linktype, snaplen)
        self._unpack = struct.Struct(order + "IIII").unpack_from
        self._fix = _length_fixer(major, minor)
        src.pos = pos + FILE_HEADER_LEN

    def _check_version(self, major: int, minor: int) -> None:
        if major < 2:
            raise error(self.path, "archaic pcap savefile format")
        if not ((major == 2 and minor <= 4) or (major == 543 and minor == 0)):
            raise error(self.path, f"unsupported pcap savefile version {major}.{minor}")

    def _parse(self) -> Iterator[list[Row]]:
        """The hot loop: every record wholly in the buffer into one list, then
        one record the slow way (more input, a salvaged or a damaged record)."""
        src, path, unpack, hsize, fix = self._src, self.path, self._unpack, self._hdrsize, self._fix
        linktype = self.linktype
        limit = min(self.snaplen, max_snaplen(linktype))   # beyond it: _oversized()
        scale = 1 if self.nanosecond else 1000
        buf, pos = src.buf, src.pos
        end = len(buf)
        while True:
            rows: list[Row] = []
            append = rows.append
            while end - pos >= hsize:
                sec, frac, caplen, wire_len = unpack(buf, pos)
                if fix is not None:
                    caplen, wire_len = fix(caplen, wire_len)
                start = pos + hsize
                stop = start + caplen
                if caplen > limit or stop > end:
                    break
                append((sec * 1_000_000_000 + frac * scale, buf[start:stop], wire_len, 0, linktype))
                pos = stop
            if rows:
                yield rows              # before reading (and maybe waiting for) more input
            if end - pos < hsize:
                buf, pos = src.fill(pos, hsize)
                end = len(buf)
                if end < hsize:
                    if end == 0:
                        return
                    raise error(path, f"truncated dump file; tried to read {hsize} header bytes, only got {end}")
            sec, frac, caplen, wire_len = unpack(buf, pos)
            pos += hsize
            if fix is not None:
                caplen, wire_len = fix(caplen, wire_len)
            if caplen > limit:
                data, buf, pos = self._oversized(buf, pos, caplen)
                end = len(buf)
            else:
                stop = pos + caplen
                if stop > end:
                    buf, pos = src.fill(pos, caplen)
                    end, stop = len(buf), caplen
                    if stop > end:
                        raise error(path, f"truncated dump file; tried to read {caplen} captured bytes, only got {end}")
                data = buf[pos:stop]
                pos = stop
            yield [(sec * 1_000_000_000 + frac * scale, data, wire_len, 0, linktype)]

    def _oversized(self, buf: bytes, pos: int, caplen: int) -> tuple[bytes, bytes, int]:
        """libpcap's salvage: caplen > snaplen but sane keeps snaplen bytes."""
        snaplen, path, src = self.snaplen, self.path, self._src
        limit = max_snaplen(self.linktype)
        if caplen > limit:
            bound = f"snaplen of {snaplen}" if caplen > snaplen else f"maximum of {limit}"
            raise error(path, f"invalid packet capture length {caplen}, bigger than {bound}")
        if len(buf) - pos < caplen:
            buf, pos = src.fill(pos, caplen)
        got = len(buf) - pos
        if got < snaplen:
            raise error(path, f"truncated dump file; tried to read {snaplen} captured bytes, only got {got}")
        if got < caplen:
            raise error(path, f"truncated dump file; tried to read {caplen} captured bytes, only got {got}")
        return buf[pos:pos + snaplen], buf, pos + caplen

    def __repr__(self) -> str:
        return f"<PcapReader {self.path!r} linktype={self.linktype} snaplen={self.snaplen}>"


class PcapWriter(BufferedWriter):
    """Writes a little-endian pcap file (µs or ns magic); header at construction.

    The file object is closed by :meth:`close` only when ``owns`` is true
    (``open_writer`` sets it), so stdout and caller files stay usable.
    """

    def __init__(self, fileobj: BinaryIO, linktype: int, snaplen: int = MAX_SNAPLEN,
                 nanosecond: bool = False, *, path: str | None = None, owns: bool = False):
        self.linktype = linktype
        self.snaplen = snaplen
        self.nanosecond = nanosecond
        self._sink = Sink(fileobj, path, owns)
        self.path = self._sink.path
        self._limit = snaplen if snaplen > 0 else MAX_SNAPLEN
        self._div = 1 if nanosecond else 1000
        self._pack = _LE_RECORD_HEADER.pack
        self.records = 0
        magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
        self._sink.buf += _LE_FILE_HEADER.pack(magic, 2, 4, 0, 0, snaplen, linktype)
        self._sink.drain()

    def write(self, record: Record) -> None:
        """Append one record (its interface and linktype are not stored in pcap)."""
        self.write_raw(record.timestamp_ns, record.data, record.wire_len)

    def write_raw(self, ts_ns: int, data: "bytes | bytearray | memoryview", wire_len: int) -> None:
        """Append one packet without building a Record; data beyond snaplen is cut."""
        sink = self._sink
        if sink.closed:
            raise ValueError("write to a closed PcapWriter")
        caplen = len(data)
        if caplen > self._limit:
            caplen = self._limit
            data = data[:caplen]
        sec, frac = divmod(ts_ns, 1_000_000_000)
        self.records += 1
        buf = sink.buf
        buf += self._pack(sec, frac // self._div, caplen, wire_len)
        buf += data
        if len(buf) >= FLUSH_AT:
            sink.drain()
