"""The one value every reader yields and every writer accepts."""

from __future__ import annotations

from dataclasses import dataclass


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
