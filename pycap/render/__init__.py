"""Printing packets the way tcpdump 4.99 prints them.

``Renderer``/``format_packet`` (line.py) give tcpdump's text for a record,
``hexdump`` its ``-x``/``-X``/``-A`` dumps, ``console`` writes lines to a
terminal (coloured with rich only when that is wanted).  The decoding path is
pure Python with ``struct``; scapy is never imported here.
"""

from .line import HEX_MODES, TIMESTAMP_MODES, RenderOptions, Renderer, format_packet

__all__ = ["RenderOptions", "Renderer", "format_packet", "TIMESTAMP_MODES", "HEX_MODES"]
