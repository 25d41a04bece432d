"""Deeper decoding with scapy, for ``-vv`` and ``-vvv``.

pycap's own printers (``_dissect``, ``_more``) reproduce tcpdump's text.
For the protocols tcpdump decodes but pycap only names (``generic_print``:
"KRB, length 748", "LLDP, length 42", ...), ``-vv`` and more add scapy's
dissection of the frame below the line, one layer per line::

    IP 10.0.0.1.547 > 10.0.0.2.546: DHCP6, length 42
    	(scapy) DHCPv6 Reply Message: msgtype=REPLY, trid=0x1234
    	(scapy) DHCP6 Server Identifier Option: optcode=SERVERID, optlen=14, ...

The layers pycap prints itself (Ethernet, VLAN, IP, IPv6, TCP, UDP, cooked
headers) are left out.  scapy is imported the first time such a packet is
rendered at ``-vv`` (about half a second), never otherwise: not for the
default line, not for ``-v``, not for ``-w`` without ``--print``.  Nothing
here raises: a packet scapy cannot take, or scapy missing, adds nothing.
"""

from __future__ import annotations

import importlib
import logging
import warnings

__all__ = ["detail", "available"]

# contrib modules that decode protocols pycap only names (imported with scapy)
_CONTRIB = ("cdp", "lldp", "isis", "eigrp", "ospf", "bfd", "rsvp", "mpls", "geneve",
            "pim", "vtp", "dtp", "lacp", "bgp", "ldp", "ripng", "openflow", "gtp", "nsh",
            "erspan", "slowprot", "aoe", "coap", "mqtt")
# layers pycap prints itself
_OWN = frozenset(("Ethernet", "802.3", "802.1Q", "IP", "IPv6", "TCP", "UDP", "cooked linux",
                  "cooked linux v2", "Loopback", "Padding", "Raw", "LLC", "SNAP"))
MAX_LINES = 24
MAX_VALUE = 72

_scapy: dict | None = None     # None: not tried yet; {}: unavailable


def _load() -> dict:
    global _scapy
    if _scapy is not None:
        return _scapy
    _scapy = {}
    for name in ("scapy", "scapy.runtime", "scapy.loading", "scapy.interactive"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _import()
    except Exception:  # noqa: BLE001 - no scapy: no deeper decoding
        return _scapy


def _import() -> dict:
    """Import scapy and the contrib modules; the dissector class per link type."""
    global _scapy
    from scapy.config import conf
    conf.verb = 0
    import scapy.layers.all  # noqa: F401 - registers the layer bindings
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import CookedLinux, Ether, Loopback
    try:
        from scapy.layers.l2 import CookedLinuxV2
    except ImportError:  # older scapy
        CookedLinuxV2 = None
    for mod in _CONTRIB:
        try:
            importlib.import_module("scapy.contrib." + mod)
        except Exception:  # noqa: BLE001 - a contrib module that does not load is skipped
            pass

    def raw(data: bytes):
        return IPv6(data) if data and data[0] >> 4 == 6 else IP(data)

    _scapy = {1: Ether, 113: CookedLinux, 101: raw, 12: raw, 14: raw, 228: IP, 229: IPv6,
              0: Loopback, 108: Loopback}
    if CookedLinuxV2 is not None:
        _scapy[276] = CookedLinuxV2
    return _scapy


def available() -> bool:
    """Whether scapy could be loaded (imports it)."""
    return bool(_load())


def _value(layer, field) -> str:
    try:
        text = field.i2repr(layer, layer.getfieldval(field.name))
    except Exception:  # noqa: BLE001
        text = repr(layer.getfieldval(field.name))
    text = str(text).replace("\n", " ").replace("\t", " ")
    if len(text) > MAX_VALUE:
        text = text[:MAX_VALUE - 3] + "..."
    return text


def _layer_lines(layer, indent: str, out: list, budget: list) -> None:
    """One line for ``layer`` (its plain fields), then its sub-packets indented."""
    from scapy.fields import ConditionalField
    from scapy.packet import Packet
    plain, nested = [], []
    for f in layer.fields_desc:
        if isinstance(f, ConditionalField) and f.name not in layer.fields:
            continue    # not in this packet: its default may be "now" (ICMP ts_ori...)
        v = layer.getfieldval(f.name)
        if isinstance(v, Packet):
            nested.append(v)
        elif isinstance(v, list) and v and all(isinstance(x, Packet) for x in v):
            nested.extend(v)
        else:
            plain.append("%s=%s" % (f.name, _value(layer, f)))
    if budget[0] <= 0:
        return
    budget[0] -= 1
    out.append("%s(scapy) %s%s%s" % (indent, layer.name, ": " if plain else "", ", ".join(plain)))
    for sub in nested:
        if budget[0] <= 0:
            out.append(indent + "  (scapy) ...")
            return
        sub_layer = sub
        while sub_layer is not None and sub_layer.__class__.__name__ != "NoPayload":
            _layer_lines(sub_layer, indent + "  ", out, budget)
            sub_layer = sub_layer.payload


def detail(data: bytes, linktype: int) -> str:
    """scapy's layers of the frame beyond pycap's own, as ``\n\t(scapy) ...`` lines."""
    try:
        table = _load()
        base = table.get(linktype)
        if base is None or not data:
            return ""
        pkt = base(data)
        out: list[str] = []
        budget = [MAX_LINES]
        layer = pkt
        depth = 0
        while layer is not None and layer.__class__.__name__ != "NoPayload" and depth < 64:
            depth += 1
            if layer.name not in _OWN:
                _layer_lines(layer, "\n\t", out, budget)
                if budget[0] <= 0:
                    break
            layer = layer.payload
        return "".join(out)
    except Exception:  # noqa: BLE001 - never let scapy break a packet line
        return ""
