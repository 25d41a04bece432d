"""pcap and pcapng savefiles: read (either byte order, µs or ns, any
if_tsresol) and write (little-endian, µs or ns).

Everything here deals in :class:`Record`; nothing decodes packets.
"""

from pycap.savefile._io import MAX_SNAPLEN, OutputClosed
from pycap.savefile.detect import Reader, Writer, open_savefile, open_writer
from pycap.savefile.pcap import PcapReader, PcapWriter
from pycap.savefile.pcapng import Interface, PcapngReader, PcapngWriter
from pycap.savefile.record import Record
from pycap.savefile.rotate import RotatingWriter, parse_file_size

__all__ = [
    "MAX_SNAPLEN",
    "Interface",
    "OutputClosed",
    "PcapReader",
    "PcapWriter",
    "PcapngReader",
    "PcapngWriter",
    "Reader",
    "Record",
    "RotatingWriter",
    "Writer",
    "open_savefile",
    "open_writer",
    "parse_file_size",
]
