"""The one value every reader yields and every writer accepts."""

from __future__ import annotations

import os
from pycap.frozen import frozen
from itertools import chain, starmap
from collections.abc import Iterator

TYPE_CHECKING = False   # typing's, without importing typing (2 ms of every start)
if TYPE_CHECKING:
    from typing import BinaryIO

from pycap.savefile._io import Source

Row = tuple[int, bytes, int, int, int]
"""A record's fields in :class:`Record`'s order, as a plain tuple."""


@frozen
class Record:
    """One captured packet, format-independent.

    Timestamps are integer nanoseconds so that a µs file, an ns file and a
    pcapng file with an odd ``if_tsresol`` all compare equal without float
    rounding; ``interface`` and ``linktype`` travel with the packet because a
    pcapng file may mix interfaces.
    """

    timestamp_ns: int
    data: bytes
    wire_len: int
    interface: int = 0
    linktype: int = 1


class RecordReader:
    """What the pcap and pcapng readers share: their parser yields lists of
    :data:`Row` tuples (``row_batches()``); ``rows()`` flattens them and
    iterating the reader gives Records.

    ``rows()`` skips the Record: a frozen value object costs about half a
    microsecond to build, as much as parsing the record, and the ``-r``
    printing loop only unpacks it again.  ``row_batches()`` also skips the
    per-record step of a generator: a batch is every record the input buffer
    held, handed over before the reader waits for more input (so a pipe from
    a live capture is printed as it arrives).  A damaged file yields the rows
    before the damage, then raises.  Records and rows may be mixed; take
    batches from the start or not at all.
    """

    _batches: Iterator[list[Row]]
    _rows: Iterator[Row]
    _records: Iterator[Record]

    def __init__(self, source: "str | os.PathLike[str] | BinaryIO", path: str | None = None):
        self._setup(Source.open(source, path))

    @classmethod
    def _from_source(cls, src: Source):
        """A reader on a source whose format was already recognized (its first
        bytes read through the same source)."""
        reader = cls.__new__(cls)
        reader._setup(src)
        return reader

    def _setup(self, src: Source) -> None:
        """Read the file header from ``src`` and start the parser."""
        raise NotImplementedError

    def _start(self, batches: Iterator[list[Row]]) -> None:
        self._batches = batches
        self._rows = chain.from_iterable(batches)
        self._records = starmap(Record, self._rows)

    def row_batches(self) -> Iterator[list[Row]]:
        """The remaining records as lists of rows."""
        return self._batches

    def rows(self) -> Iterator[Row]:
        """The remaining records as ``(timestamp_ns, data, wire_len, interface, linktype)``."""
        return self._rows

    def __iter__(self) -> Iterator[Record]:
        return self._records

    def __next__(self) -> Record:
        return next(self._records)

    def close(self) -> None:
        """Close the file if the reader opened it (never stdin)."""
        self._src.close()   # type: ignore[attr-defined]

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
