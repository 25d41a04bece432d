"""The only place pycap talks to the kernel through ctypes: ``bpf(2)``, socket
options of packet sockets, and network namespaces."""

from pycap.kernel.bpf import (BPF_PROG_TYPE_SK_LOOKUP, BPF_PROG_TYPE_SOCKET_FILTER, Link, Map,
                              Program, TestResult, create_map, link_create, load_program,
                              obj_get, obj_pin, run_socket_filter, skb_ctx)
from pycap.kernel.sockopt import attach_filter, detach_filter, packet_statistics

__all__ = [
    "BPF_PROG_TYPE_SK_LOOKUP", "BPF_PROG_TYPE_SOCKET_FILTER", "Link", "Map", "Program",
    "TestResult", "attach_filter", "create_map", "detach_filter", "link_create",
    "load_program", "obj_get", "obj_pin", "packet_statistics", "run_socket_filter", "skb_ctx",
]
