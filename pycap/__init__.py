"""pycap: tcpdump's filter language compiled to eBPF, capture and savefiles in Python."""

__version__ = "0.1.0"
