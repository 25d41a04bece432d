"""Live capture: AF_PACKET sockets with a TPACKET_V3 ring and an eBPF filter."""

from pycap.capture.live import Capture, CaptureStats, Frame, interface_linktype, release_views

__all__ = ["Capture", "CaptureStats", "Frame", "interface_linktype", "release_views"]
