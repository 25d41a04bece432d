"""Entry points that pick the format: by magic when reading, by flag or file
extension when writing."""

from __future__ import annotations

import os
from typing import BinaryIO

from pycap.savefile._io import Source, error, open_output
from pycap.savefile.pcap import MAGICS, PcapReader, PcapWriter
from pycap.savefile.pcapng import SHB_MAGIC, PcapngReader, PcapngWriter

Reader = PcapReader | PcapngReader
Writer = PcapWriter | PcapngWriter


def open_savefile(path: "str | os.PathLike[str] | BinaryIO") -> Reader:
    """Open a pcap or pcapng file ("-" is stdin), detecting the format from its magic.

    Header damage raises SavefileError here; damage further in raises from
    the iteration, after the intact records have been yielded.
    """
    src = Source.open(path)
    try:
        buf, _ = src.fill(src.pos, 4)
        if len(buf) < 4:
            raise error(src.path, f"truncated dump file; tried to read 4 file header bytes, only got {len(buf)}")
        magic = buf[:4]
        if magic in MAGICS:
            return PcapReader._from_source(src)
        if magic == SHB_MAGIC:
            return PcapngReader._from_source(src)
        raise error(src.path, "unknown file format")
    except BaseException:
        src.close()
        raise


def open_writer(path: str, linktype: int, snaplen: int, nanosecond: bool = False,
                pcapng: bool | None = None) -> Writer:
    """A writer for ``path`` ("-" is stdout, left open on close).

    pcapng when ``pcapng`` is true, or when it is None and the name ends in
    ".pcapng"; classic pcap otherwise.
    """
    if pcapng is None:
        pcapng = path.endswith(".pcapng")
    fileobj, owned = open_output(path)
    try:
        if pcapng:
            return PcapngWriter(fileobj, [(linktype, snaplen, None)], nanosecond, path=path, owns=owned)
        return PcapWriter(fileobj, linktype, snaplen, nanosecond, path=path, owns=owned)
    except BaseException:
        if owned:
            fileobj.close()
        raise
