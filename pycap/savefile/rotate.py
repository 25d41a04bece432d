"""tcpdump's output rotation: ``-C`` (size), ``-G`` (seconds, strftime names),
``-W`` (file count), and the ``-z`` hook, with tcpdump 4.99's file names.

Naming (tcpdump's ``MakeFilename``): with ``-G`` the ``-w`` name is first
passed through ``strftime`` for the local time the file was opened; with
``-C`` a counter is appended, zero-padded to the digits of ``-W`` minus one
(``out.pcap0``..``out.pcap2`` for ``-W 3``), except that without ``-W`` the
first file has no number (``out.pcap``, ``out.pcap1``, ``out.pcap2``...).

When: before writing a packet, a new file is started if the current one is
already *larger* than the ``-C`` size (so a file exceeds it by at most one
packet) or if ``-G`` seconds (whole seconds of wall-clock time) have passed.
``-W`` makes ``-C`` names wrap around; with ``-G`` alone it ends the capture
after that many files.  ``-z CMD`` runs ``CMD FILE`` on each file that was
rotated away from (not on the last one, as tcpdump).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pycap.errors import UsageError
from pycap.savefile.detect import Writer

MILLION = 1_000_000
_SUFFIXES = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


def parse_file_size(text: str) -> int:
    """``-C``: units of 1,000,000 bytes as in tcpdump; a ``k``/``m``/``g``
    suffix means KiB/MiB/GiB (as tcpdump 4.99.4 and later accept)."""
    digits, mult = text, MILLION
    if text and text[-1].lower() in _SUFFIXES:
        digits, mult = text[:-1], _SUFFIXES[text[-1].lower()]
    try:
        value = int(digits, 10)
    except ValueError:
        raise UsageError(f"invalid file size {text}") from None
    if value <= 0:
        raise UsageError(f"invalid file size {text}")
    if value > (1 << 63) // mult:
        raise UsageError(f"file size {text} is too large")
    return value * mult


def counter_width(max_files: int) -> int:
    """tcpdump's getWflagChars(): the digits of ``max_files - 1``."""
    width, x = 0, max_files - 1
    while x > 0:
        width += 1
        x //= 10
    return width


def rotation_name(template: str, count: int, width: int, when: float | None = None) -> str:
    """The name of a rotated file (tcpdump's MakeFilename)."""
    if not template:
        raise UsageError("an empty string is not a valid file name")
    name = time.strftime(template, time.localtime(when)) if when is not None else template
    if count == 0 and width == 0:
        return name
    return f"{name}{count:0{width}d}"


def _pcap_record_length(buf: bytearray, pos: int) -> int:
    return 16 + int.from_bytes(buf[pos + 8:pos + 12], "little")


def _epb_length(buf: bytearray, pos: int) -> int:
    return int.from_bytes(buf[pos + 4:pos + 8], "little")


class RotatingWriter:
    """A ``-w`` output that may be a sequence of files.

    ``open_file(path)`` makes a writer (pcap or pcapng, header written);
    ``on_close(writer)`` runs before each file is closed (pcapng statistics);
    ``post_rotate(path)`` after a file was rotated away from (``-z``).
    Without ``size_limit`` and ``seconds`` it is one plain file.
    """

    def __init__(self, template: str, open_file: Callable[[str], Writer], *,
                 size_limit: int = 0, seconds: int = 0, max_files: int = 0,
                 on_close: Callable[[Writer], None] | None = None,
                 post_rotate: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.time):
        self.template = template
        self.size_limit = size_limit
        self.seconds = seconds
        self.max_files = max_files
        self._open_file = open_file
        self._on_close = on_close
        self._post_rotate = post_rotate
        self._clock = clock
        self._width = counter_width(max_files) if max_files and size_limit else 0
        self._count = 0            # tcpdump's Cflag_count
        self._gcount = 0           # Gflag_count
        self._gtime = int(clock())  # Gflag_time
        self.records = 0
        self._closed_bytes = 0
        self.paths: list[str] = []
        self.limit_reached = False
        self.writer: Writer | None = None
        self._open(self._name())

    def _name(self) -> str:
        if self.size_limit == 0 and self.seconds == 0:
            return self.template
        return rotation_name(self.template, self._count, self._width,
                             self._gtime if self.seconds else None)

    def _open(self, path: str) -> None:
        self.writer = self._open_file(path)
        self.paths.append(path)

    @property
    def path(self) -> str:
        return self.paths[-1]

    @property
    def bytes_written(self) -> int:
        """Bytes of every file so far, buffered ones included."""
        return self._closed_bytes + (self.writer.position if self.writer is not None else 0)

    # ------------------------------------------------------------- block writes

    @property
    def buffer(self) -> bytearray:
        """Where an encoder appends records (then :meth:`commit`)."""
        return self.writer.buffer

    def commit(self, records: int, start: int) -> None:
        """``records`` whole records were appended to :attr:`buffer` from
        offset ``start`` on.  With ``-C``, those that tcpdump would have put in
        the next file(s) are moved there: the size test runs before each one."""
        if self.size_limit and self.writer.position > self.size_limit:
            self._commit_split(start)
            return
        self.records += records
        self.writer.commit(records)

    def _commit_split(self, start: int) -> None:
        from pycap.savefile.pcapng import PcapngWriter
        length = _epb_length if isinstance(self.writer, PcapngWriter) else _pcap_record_length
        buf, pos, n = self.writer.buffer, start, 0
        fresh = False   # the packet that triggered a rotation goes in unchecked
        while pos < len(buf):
            flushed = self.writer.position - len(buf)
            if not fresh and flushed + pos > self.size_limit:
                tail = bytes(buf[pos:])
                del buf[pos:]
                self.records += n
                self.writer.commit(n)
                n = 0
                self.check_size()
                buf = self.writer.buffer
                pos = len(buf)
                buf += tail
                fresh = True
                continue
            fresh = False
            pos += length(buf, pos)
            n += 1
        self.records += n
        self.writer.commit(n)

    # ------------------------------------------------------------- rotation

    def before_packet(self) -> bool:
        """tcpdump's checks before each packet: ``-G`` time, then ``-C`` size.
        False when ``-G`` with ``-W`` has made its last file: stop capturing."""
        if self.seconds and not self.check_time():
            return False
        self.check_size()
        return True

    def check_size(self) -> None:
        if self.size_limit and self.writer.position > self.size_limit:
            self._close_current(rotated=True)
            self._count += 1
            if self.max_files and self._count >= self.max_files:
                self._count = 0
            self._open(self._name())

    def check_time(self) -> bool:
        """Rotate if ``-G`` seconds have passed; False once ``-W`` files are done."""
        now = int(self._clock())
        if not self.seconds or now - self._gtime < self.seconds:
            return not self.limit_reached
        self._gtime = now
        self._gcount += 1
        self._close_current(rotated=True)
        if not self.size_limit and self.max_files and self._gcount >= self.max_files:
            self.limit_reached = True
            return False
        self._count = 0
        self._open(self._name())
        return True

    def _close_current(self, rotated: bool) -> None:
        writer, self.writer = self.writer, None
        if writer is None:
            return
        try:
            if self._on_close is not None:
                self._on_close(writer)
        finally:
            self._closed_bytes += writer.position
            writer.close()
        if rotated and self._post_rotate is not None:
            self._post_rotate(self.paths[-1])

    # ------------------------------------------------------------- per packet

    def write_raw(self, ts_ns: int, data, wire_len: int, interface: int = 0) -> bool:
        """Write one packet after tcpdump's rotation checks; False: stop (``-W``)."""
        if not self.before_packet():
            return False
        if interface:
            self.writer.write_raw(ts_ns, data, wire_len, interface)
        else:
            self.writer.write_raw(ts_ns, data, wire_len)
        self.records += 1
        return True

    def flush(self) -> None:
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        """Close the current file (no ``-z`` for it, as in tcpdump)."""
        self._close_current(rotated=False)
