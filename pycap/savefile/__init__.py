"""pcap and pcapng savefiles: read (either byte order, µs or ns, any
if_tsresol) and write (little-endian, µs or ns).

Everything here deals in :class:`Record`; nothing decodes packets.
"""

from pycap.savefile.detect import Reader, Writer, open_savefile, open_writer
from pycap.savefile.pcap import PcapReader, PcapWriter
from pycap.savefile.pcapng import Interface, PcapngReader, PcapngWriter
from pycap.savefile.record import Record

__all__ = [
    "Interface",
    "PcapReader",
    "PcapWriter",
    "PcapngReader",
    "PcapngWriter",
    "Reader",
    "Record",
    "Writer",
    "open_savefile",
    "open_writer",
]
