"""The capture devices of this network namespace, ranked as libpcap ranks
them (``pcap_findalldevs``): the order of ``tcpdump -D``, whose first entry
is the interface tcpdump captures on when given no ``-i``.

libpcap gives each device a figure of merit, lower first: the instance
number at the end of its name (``eth1``: 1), plus a large penalty each for
not running, not up, a disconnected link and being a loopback device; the
``any`` device ranks after every interface that is up and running but
before loopback ones.  Equal figures keep the order the devices were found
in (here: interface index).  Flags come from ``/sys/class/net``: ``flags``
holds ``IFF_UP`` and ``IFF_LOOPBACK``; running (``IFF_RUNNING``) is an
operational state of up or unknown; the link is connected or not by
``carrier`` where the device reports one.
"""

from __future__ import annotations

import os
import socket

from pycap.frozen import frozen

ANY = "any"
ANY_DESCRIPTION = "Pseudo-device that captures on all interfaces"
IFF_UP, IFF_LOOPBACK = 0x1, 0x8
SYS_NET = "/sys/class/net"


@frozen
class Device:
    name: str
    up: bool = True
    running: bool = True
    loopback: bool = False
    connected: bool | None = None     # None: not known, or no link to speak of


def _read(name: str, what: str, root: str) -> str | None:
    try:
        with open(os.path.join(root, name, what), encoding="ascii") as f:
            return f.read().strip()
    except (OSError, ValueError):
        return None


def _device(name: str, root: str) -> Device:
    try:
        flags = int(_read(name, "flags", root) or "0", 16)
    except ValueError:
        flags = 0
    up, loopback = bool(flags & IFF_UP), bool(flags & IFF_LOOPBACK)
    running = up and _read(name, "operstate", root) in ("up", "unknown")
    carrier = _read(name, "carrier", root) if not loopback else None
    return Device(name, up, running, loopback,
                  None if carrier not in ("0", "1") else carrier == "1")


def merit(device: Device) -> int:
    """libpcap's figure of merit (``get_figure_of_merit``): lower is better."""
    if device.name == ANY:
        n = 0x0FFFFFFF          # after every other interface that is up, before loopback
    else:
        digits = len(device.name) - len(device.name.rstrip("0123456789"))
        n = int(device.name[-digits:]) if digits else 0
    if not device.running:
        n |= 0x80000000
    if not device.up:
        n |= 0x40000000
    if device.connected is False:
        n |= 0x20000000
    if device.loopback:
        n |= 0x10000000
    return n


def rank(found: list[Device]) -> list[Device]:
    """``found`` (in the order found) with ``any`` added, best first."""
    return sorted([*found, Device(ANY)], key=merit)


def devices(root: str = SYS_NET) -> list[Device]:
    """The devices pycap can capture on here, best first (``any`` included)."""
    return rank([_device(name, root) for _, name in sorted(socket.if_nameindex())])


def describe(device: Device) -> str:
    """The rest of a ``tcpdump -D`` line after ``N.``."""
    flags = [word for word, on in (("Up", device.up), ("Running", device.running),
                                   ("Loopback", device.loopback)) if on]
    text = ", ".join(flags) or "none"
    if not device.loopback and device.name != ANY and device.connected is not None:
        text += ", Connected" if device.connected else ", Disconnected"
    description = f" ({ANY_DESCRIPTION})" if device.name == ANY else ""
    return f"{device.name}{description} [{text}]"


def is_wireless(name: str, root: str = SYS_NET) -> bool:
    """Whether ``name`` is a mac80211 device, the only kind libpcap can put
    in monitor mode (``pcap_can_set_rfmon``: a ``phy80211`` link in sysfs;
    never ``any``)."""
    return name != ANY and os.path.exists(os.path.join(root, name, "phy80211"))
