"""Entry points that pick the format: by magic when reading, by flag or file
extension when writing."""

from __future__ import annotations

import os
TYPE_CHECKING = False   # typing's, without importing typing (2 ms of every start)
if TYPE_CHECKING:
    from typing import BinaryIO

from pycap.errors import SavefileError
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
                pcapng: bool | None = None,
                interfaces: list[tuple[int, int, str | None]] | None = None) -> Writer:
    """A writer for ``path`` ("-" is stdout, left open on close).

    pcapng when ``pcapng`` is true, or when it is None and the name ends in
    ".pcapng"; classic pcap otherwise.  ``interfaces`` — ``(linktype, snaplen,
    if_name)`` each — gives a pcapng file one Interface Description Block per
    entry (the default is one, of ``linktype``); a pcap file holds only one
    link type, so asking it for several interfaces is an error.
    """
    if pcapng is None:
        pcapng = wants_pcapng(path)
    if interfaces is not None and len(interfaces) > 1 and not pcapng:
        raise SavefileError(f"{path}: a pcap file holds one interface; write pcapng "
                            f"(--pcapng or a .pcapng name) to capture on several")
    fileobj, owned = open_output(path)
    try:
        if pcapng:
            return PcapngWriter(fileobj, interfaces or [(linktype, snaplen, None)], nanosecond,
                                path=path, owns=owned)
        return PcapWriter(fileobj, linktype, snaplen, nanosecond, path=path, owns=owned)
    except BaseException:
        if owned:
            fileobj.close()
        raise


def wants_pcapng(path: str) -> bool:
    """The default format for a ``-w`` name: pcapng for ``.pcapng``, pcap otherwise."""
    return path.endswith(".pcapng")
