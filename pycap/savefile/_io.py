"""Byte plumbing shared by the readers and writers.

Parsers keep ``(buf, pos)`` in local variables and only call into
:class:`Source` when a header or body crosses the end of the buffered chunk;
that keeps the per-record cost to a few ``struct.unpack_from`` calls.
Writers append to a ``bytearray`` and hand the file big slabs, so a record
costs two in-place appends rather than two ``write`` calls.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable

TYPE_CHECKING = False   # typing's, without importing typing (2 ms of every start)
if TYPE_CHECKING:
    from typing import BinaryIO

from pycap.errors import SavefileError

CHUNK = 1 << 20          # bytes per read: big enough to amortise the syscall
FLUSH_AT = 1 << 16       # writer slab size: big enough to amortise write(2), small
                         # enough that the kernel copies it from a warm cache

# libpcap's max_snaplen_for_dlt(): anything bigger is "damaged or fuzzed".
MAX_SNAPLEN = 262144
_MAX_SNAPLEN_FOR = {231: 128 * 1024 * 1024, 249: 1024 * 1024, 279: 8 * 1024 * 1024}


def max_snaplen(linktype: int) -> int:
    """The largest caplen libpcap accepts for a link type."""
    return _MAX_SNAPLEN_FOR.get(linktype, MAX_SNAPLEN)


def adjust_snaplen(linktype: int, snaplen: int) -> int:
    """libpcap's pcap_adjust_snapshot(): 0, or too big for a C int, means "the maximum".

    A large but representable value is kept, as libpcap 1.10 does: records
    are then checked against both it and :func:`max_snaplen`.
    """
    return max_snaplen(linktype) if snaplen <= 0 or snaplen > 0x7FFFFFFF else snaplen


class OutputClosed(SavefileError):
    """The reader of a pipe we write to went away (EPIPE): stop, quietly."""


def error(path: str, message: str) -> SavefileError:
    """A SavefileError worded like tcpdump, minus its ``tcpdump:`` prefix."""
    return SavefileError(f"{path}: {message}")


def os_error(path: str, exc: OSError, what: str = "") -> SavefileError:
    """Map an OSError to the ``PATH: strerror`` line tcpdump prints."""
    reason = exc.strerror or str(exc)
    return error(path, f"{what}: {reason}" if what else reason)


def name_of(fileobj: object, default: str = "-") -> str:
    """The path to quote in messages for a caller-supplied file object."""
    name = getattr(fileobj, "name", None)
    return name if isinstance(name, str) else default


class Source:
    """A binary input stream read in large chunks, with EOF tracking.

    ``read1`` (or a raw ``read``) returns whatever is available, so a pipe
    from a live capture is parsed as data arrives instead of at EOF.
    """

    __slots__ = ("path", "buf", "pos", "eof", "_file", "_owned", "_read")

    def __init__(self, fileobj: BinaryIO, path: str, owned: bool):
        self.path = path
        self.buf = b""
        self.pos = 0
        self.eof = False
        self._file = fileobj
        self._owned = owned
        self._read: Callable[[int], bytes] = getattr(fileobj, "read1", None) or fileobj.read

    @classmethod
    def open(cls, source: "str | os.PathLike[str] | BinaryIO", path: str | None = None) -> "Source":
        """Open a path ("-" is stdin) or wrap a caller's binary file object."""
        if isinstance(source, (str, os.PathLike)):
            name = os.fspath(source)
            if name == "-":
                return cls(sys.stdin.buffer, path or "-", owned=False)
            try:
                return cls(open(name, "rb", buffering=0), path or name, owned=True)
            except OSError as exc:
                raise os_error(path or name, exc) from None
        return cls(source, path or name_of(source), owned=False)

    def fill(self, pos: int, need: int) -> tuple[bytes, int]:
        """Re-base the buffer at ``pos`` holding ``need`` bytes, fewer only at EOF.

        Returns the new ``(buf, 0)`` for the caller's locals; ``self.pos`` is
        kept in step so another parser can resume from here.
        """
        rest = self.buf[pos:]
        parts = [rest]
        have = len(rest)
        while have < need and not self.eof:
            chunk = self._read_chunk(max(CHUNK, need - have))
            if not chunk:
                self.eof = True
                break
            parts.append(chunk)
            have += len(chunk)
        self.buf = parts[0] if len(parts) == 1 else b"".join(parts)
        self.pos = 0
        return self.buf, 0

    def _read_chunk(self, size: int) -> bytes:
        try:
            return self._read(size) or b""
        except OSError as exc:
            raise os_error(self.path, exc, "error reading dump file") from None

    def close(self) -> None:
        """Close the file if we opened it; stdin and caller files stay open."""
        if self._owned:
            self._owned = False
            self._file.close()


class Sink:
    """Slab-buffered output that turns OSError (ENOSPC...) into SavefileError,
    and EPIPE into :class:`OutputClosed`.

    ``flushed`` counts the bytes handed to the file, so ``position`` is what
    tcpdump's ``pcap_dump_ftell`` answers (the ``-C`` test).
    """

    __slots__ = ("path", "buf", "_file", "_owned", "closed", "flushed", "broken")

    def __init__(self, fileobj: BinaryIO, path: str | None, owned: bool):
        self.path = path or name_of(fileobj)
        self.buf = bytearray()
        self._file = fileobj
        self._owned = owned
        self.closed = False
        self.flushed = 0
        self.broken = False

    @property
    def position(self) -> int:
        return self.flushed + len(self.buf)

    def fileno(self) -> int:
        return self._file.fileno()

    def _failed(self, exc: OSError) -> SavefileError:
        if exc.errno == errno.EPIPE:
            self.broken = True
            self.buf.clear()
            return OutputClosed(f"{self.path}: {exc.strerror}")
        return os_error(self.path, exc)

    def drain(self) -> None:
        """Hand the slab to the file object (which may still buffer it)."""
        buf = self.buf
        if buf and not self.broken:
            try:
                done = self._file.write(buf)
                if done is not None and done < len(buf):   # raw file: short write
                    with memoryview(buf) as view:
                        while done < len(buf):
                            done += self._file.write(view[done:]) or 0
            except OSError as exc:
                raise self._failed(exc) from None
            self.flushed += len(buf)
            buf.clear()

    def flush(self) -> None:
        """Push everything to the OS, e.g. after each packet for ``-U``."""
        self.drain()
        if self.broken:
            return
        try:
            self._file.flush()
        except OSError as exc:
            raise self._failed(exc) from None

    def close(self) -> None:
        """Flush; close the file only if we opened it.  After EPIPE nothing is
        flushed (the reader is gone) and nothing is raised."""
        if self.closed:
            return
        self.closed = True
        try:
            self.flush()
        finally:
            if self._owned:
                try:
                    self._file.close()
                except OSError as exc:
                    if not self.broken:
                        raise os_error(self.path, exc) from None
            elif self.broken:
                _detach_broken_stdout(self._file)


def _detach_broken_stdout(fileobj: BinaryIO) -> None:
    """Stdout's reader is gone: point the descriptor at /dev/null so that
    interpreter shutdown does not fail flushing what is still buffered."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fileobj.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def open_output(path: str) -> tuple[BinaryIO, bool]:
    """``(fileobj, owned)`` for a writer path; "-" is stdout, never closed."""
    if path == "-":
        return sys.stdout.buffer, False
    try:
        # unbuffered: the writers hand over big slabs, a second buffer only copies
        return open(path, "wb", buffering=0), True
    except OSError as exc:
        raise os_error(path, exc) from None


class BufferedWriter:
    """What pcap and pcapng writers share: records accumulate in the sink's
    buffer (encoded one by one, or whole blocks by the live ``-w`` path) and
    go out in slabs.  Subclasses set ``self._sink`` and ``self.records``."""

    _sink: Sink
    records: int

    @property
    def buffer(self) -> bytearray:
        """The write buffer: records encoded elsewhere (the live ``-w`` path)
        are appended here, then announced with :meth:`commit`."""
        return self._sink.buf

    def commit(self, records: int) -> None:
        """``records`` were appended to :attr:`buffer`; write out if it is big."""
        self.records += records
        if len(self._sink.buf) >= FLUSH_AT:
            self._sink.drain()

    @property
    def position(self) -> int:
        """Bytes in the file so far, buffered ones included (tcpdump's ftell)."""
        return self._sink.position

    def fileno(self) -> int:
        return self._sink.fileno()

    def flush(self) -> None:
        """Push buffered records to the OS (tcpdump -U does this per packet)."""
        self._sink.flush()

    def close(self) -> None:
        """Flush, and close the file if this writer owns it. Idempotent."""
        self._sink.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
