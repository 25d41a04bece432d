"""The one value every reader yields and every writer accepts."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import starmap
from typing import Iterator

Row = tuple[int, bytes, int, int, int]
"""A record's fields in :class:`Record`'s order, as a plain tuple."""


@dataclass(frozen=True, slots=True)
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
    """What the pcap and pcapng readers share: their parser is a generator of
    :data:`Row` tuples (``self._rows``); iterating the reader gives Records.

    ``rows()`` skips the Record: a frozen dataclass costs about half a
    microsecond to build, as much as parsing the record, and the ``-r``
    printing loop only unpacks it again.  Rows and Records come from the same
    parser, so the two kinds of iteration may be mixed.
    """

    _rows: Iterator[Row]
    _records: Iterator[Record]

    def _start(self, rows: Iterator[Row]) -> None:
        self._rows = rows
        self._records = starmap(Record, rows)

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
