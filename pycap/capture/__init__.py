"""Live capture: AF_PACKET sockets with a TPACKET_V3 ring and an eBPF filter."""

from pycap.capture.live import (TSTAMP_TYPES, Capture, CaptureStats, Frame, interface_linktype,
                                release_views, time_stamp_types)

__all__ = ["TSTAMP_TYPES", "Capture", "CaptureStats", "Frame", "interface_linktype",
           "release_views", "time_stamp_types"]
