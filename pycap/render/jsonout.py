"""``--json``: one JSON object per packet, for scripts.

The object (one line, keys in this order; see pycap(1), "JSON OUTPUT")::

    {"n": 1, "time": "2023-11-14T22:13:20.654011Z", "ts_ns": 1699999999654011000,
     "caplen": 74, "len": 74, "linktype": "EN10MB",
     "layers": [{"layer": "eth", ...}, {"layer": "ip", ...}, {"layer": "tcp", ...}],
     "truncated": false,
     "summary": "IP 10.0.0.1.51000 > 10.0.0.2.443: Flags [S], seq 1, win 512, length 0"}

``layers`` lists the headers decoded, outermost first; each is an object
whose ``layer`` key names it (eth, vlan, sll, sll2, arp, ip, ip6, tcp, udp,
icmp, icmp6, dns).  The fields of each layer are fixed (see ``LAYER_FIELDS``,
checked by the tests); numbers are JSON numbers, addresses strings.  A header
cut short by the snap length is listed with the fields that were captured
and ``"truncated": true`` on the packet.  ``summary`` is tcpdump's line for
the packet (as with ``-n -t``).  With a dump flag (``-x``, ``-X``, ``-A``...)
the object also has ``"hex"``: the whole frame in hex.

Decoding is plain ``struct``; nothing raises on a malformed packet (the
packet then gets ``"error": "malformed"`` and the layers decoded so far).
"""

from __future__ import annotations

import json
import socket
import struct
import time

from . import _dissect as D

__all__ = ["JsonRenderer", "decode_layers", "LAYER_FIELDS", "OPTIONAL_FIELDS", "TOP_FIELDS",
           "OPTIONAL_TOP_FIELDS"]

TOP_FIELDS = ("n", "time", "ts_ns", "caplen", "len", "linktype", "layers", "truncated", "summary")

# the keys each layer object has (besides "layer"), in order; a layer cut
# short by the capture has a prefix of them.  OPTIONAL_FIELDS follow when
# they apply (ICMP echo id/seq, neighbour discovery target).
LAYER_FIELDS = {
    "eth": ("src", "dst", "type"),
    "vlan": ("id", "pcp", "dei", "type"),
    "sll": ("pkttype", "hatype", "addr", "type"),
    "sll2": ("type", "ifindex", "hatype", "pkttype", "addr"),
    "arp": ("htype", "ptype", "op", "sha", "spa", "tha", "tpa"),
    "ip": ("version", "hlen", "tos", "len", "id", "flags", "frag_offset", "ttl", "proto",
           "checksum", "src", "dst"),
    "ip6": ("version", "tclass", "flow", "plen", "nh", "hlim", "src", "dst", "ext"),
    "tcp": ("sport", "dport", "seq", "ack", "hlen", "flags", "win", "checksum", "urp",
            "options", "payload_len"),
    "udp": ("sport", "dport", "len", "checksum", "payload_len"),
    "icmp": ("type", "code", "checksum"),
    "icmp6": ("type", "code", "checksum"),
    "dns": ("id", "qr", "opcode", "aa", "tc", "rd", "ra", "rcode", "qdcount", "ancount",
            "nscount", "arcount", "questions", "answers"),
}

OPTIONAL_FIELDS = {"icmp": ("id", "seq"), "icmp6": ("id", "seq", "target")}
# besides TOP_FIELDS: "error" ("malformed") when decoding failed, "hex" with a dump flag
OPTIONAL_TOP_FIELDS = ("error", "hex")

_LINKTYPE_NAMES = {0: "NULL", 1: "EN10MB", 12: "RAW", 14: "RAW", 101: "RAW", 108: "LOOP",
                   113: "LINUX_SLL", 228: "IPV4", 229: "IPV6", 276: "LINUX_SLL2"}
_SLL_PKTTYPES = {0: "host", 1: "broadcast", 2: "multicast", 3: "otherhost", 4: "outgoing"}
_VLAN = (0x8100, 0x88A8, 0x9100, 0x9200)
_ntoa = socket.inet_ntoa
_AF6 = socket.AF_INET6


class _Cut(Exception):
    """The captured bytes ended inside a header."""


class _Frame:
    __slots__ = ("d", "end", "layers")

    def __init__(self, d: bytes):
        self.d = d
        self.end = len(d)
        self.layers: list[dict] = []

    def need(self, o: int, n: int) -> None:
        if o + n > self.end:
            raise _Cut


def _mac(b: bytes) -> str:
    return b.hex(":")


def _ip6(b: bytes) -> str:
    return socket.inet_ntop(_AF6, b)


def decode_layers(data: bytes, linktype: int) -> tuple[list[dict], bool, bool]:
    """(layers, truncated, malformed) for one frame."""
    f = _Frame(data)
    try:
        _LINKS.get(linktype, _nolink)(f)
        return f.layers, False, False
    except _Cut:
        return f.layers, True, False
    except Exception:  # noqa: BLE001 - never raise on a packet
        return f.layers, False, True


def _nolink(f: _Frame) -> None:
    pass


def _ether(f: _Frame) -> None:
    d = f.d
    layer = {"layer": "eth"}
    f.layers.append(layer)
    f.need(0, 12)
    layer["src"] = _mac(d[6:12])
    layer["dst"] = _mac(d[0:6])
    f.need(12, 2)
    t = (d[12] << 8) | d[13]
    layer["type"] = t
    p = 14
    while t in _VLAN:
        v = {"layer": "vlan"}
        f.layers.append(v)
        f.need(p, 2)
        tci = (d[p] << 8) | d[p + 1]
        v.update(id=tci & 0xFFF, pcp=tci >> 13, dei=bool(tci & 0x1000))
        f.need(p + 2, 2)
        t = (d[p + 2] << 8) | d[p + 3]
        v["type"] = t
        p += 4
    _ethertype(f, t, p)


def _ethertype(f: _Frame, t: int, p: int) -> None:
    if t == 0x0800:
        _ip(f, p)
    elif t == 0x86DD:
        _ipv6(f, p)
    elif t == 0x0806 or t == 0x8035:
        _arp(f, p)


def _sll(f: _Frame) -> None:
    d = f.d
    layer = {"layer": "sll"}
    f.layers.append(layer)
    f.need(0, 16)
    pkttype, hatype, alen = struct.unpack_from("!HHH", d, 0)
    layer.update(pkttype=_SLL_PKTTYPES.get(pkttype, pkttype), hatype=hatype,
                 addr=_mac(d[6:6 + min(alen, 8)]))
    t = (d[14] << 8) | d[15]
    layer["type"] = t
    _ethertype(f, t, 16)


def _sll2(f: _Frame) -> None:
    d = f.d
    layer = {"layer": "sll2"}
    f.layers.append(layer)
    f.need(0, 20)
    t, _res, ifindex, hatype, pkttype, alen = struct.unpack_from("!HHIHBB", d, 0)
    layer.update(type=t, ifindex=ifindex, hatype=hatype, pkttype=_SLL_PKTTYPES.get(pkttype, pkttype),
                 addr=_mac(d[12:12 + min(alen, 8)]))
    _ethertype(f, t, 20)


def _raw(f: _Frame) -> None:
    f.need(0, 1)
    v = f.d[0] >> 4
    if v == 4:
        _ip(f, 0)
    elif v == 6:
        _ipv6(f, 0)


def _null(f: _Frame) -> None:
    f.need(0, 4)
    fam = struct.unpack_from("<I", f.d, 0)[0]
    if fam > 0xFFFF:
        fam = struct.unpack_from(">I", f.d, 0)[0]
    if fam == 2:
        _ip(f, 4)
    elif fam in (10, 24, 28, 30):
        _ipv6(f, 4)


def _arp(f: _Frame, p: int) -> None:
    d = f.d
    layer = {"layer": "arp"}
    f.layers.append(layer)
    f.need(p, 8)
    htype, ptype, hln, pln, op = struct.unpack_from("!HHBBH", d, p)
    layer.update(htype=htype, ptype=ptype, op=op)
    q = p + 8
    for name, n in (("sha", hln), ("spa", pln), ("tha", hln), ("tpa", pln)):
        f.need(q, n)
        b = d[q:q + n]
        layer[name] = _ntoa(b) if n == 4 and name.endswith("pa") else _mac(b)
        q += n


def _ip_flags(off: int) -> str:
    return "+".join(name for bit, name in ((0x8000, "RF"), (0x4000, "DF"), (0x2000, "MF"))
                    if off & bit)


def _ip(f: _Frame, p: int) -> None:
    d = f.d
    layer = {"layer": "ip"}
    f.layers.append(layer)
    f.need(p, 20)
    vb, tos, ln, ipid, off, ttl, proto, csum = struct.unpack_from("!BBHHHBBH", d, p)
    hlen = (vb & 0x0F) * 4
    layer.update(version=vb >> 4, hlen=hlen, tos=tos, len=ln, id=ipid,
                 flags=_ip_flags(off),
                 frag_offset=(off & 0x1FFF) * 8, ttl=ttl, proto=proto, checksum=csum,
                 src=_ntoa(d[p + 12:p + 16]), dst=_ntoa(d[p + 16:p + 20]))
    if vb >> 4 != 4 or hlen < 20 or off & 0x1FFF:
        return                       # not a header we follow, or a later fragment
    end = min(f.end, p + ln) if ln >= hlen else f.end
    f.end = end
    _transport(f, proto, p + hlen, max(ln - hlen, 0), 4)


_IP6_EXT = (0, 43, 44, 60, 51)


def _ipv6(f: _Frame, p: int) -> None:
    d = f.d
    layer = {"layer": "ip6"}
    f.layers.append(layer)
    f.need(p, 40)
    vtf, plen, nh, hlim = struct.unpack_from("!IHBB", d, p)
    layer.update(version=vtf >> 28, tclass=(vtf >> 20) & 0xFF, flow=vtf & 0xFFFFF, plen=plen, nh=nh,
                 hlim=hlim, src=_ip6(d[p + 8:p + 24]), dst=_ip6(d[p + 24:p + 40]))
    ext: list[int] = []
    layer["ext"] = ext
    if vtf >> 28 != 6:
        return
    if plen:
        f.end = min(f.end, p + 40 + plen)
    q = p + 40
    left = plen if plen else max(f.end - q, 0)
    while nh in _IP6_EXT:
        f.need(q, 2)
        ext.append(nh)
        if nh == 44:
            f.need(q, 8)
            if ((d[q + 2] << 8) | d[q + 3]) & 0xFFF8:
                return               # a later fragment: no upper-layer header here
            size = 8
        elif nh == 51:
            size = (d[q + 1] + 2) * 4
        else:
            size = (d[q + 1] + 1) * 8
        nh = d[q]
        q += size
        left -= size
    _transport(f, nh, q, max(left, 0), 6)


def _transport(f: _Frame, proto: int, p: int, length: int, ver: int) -> None:
    if proto == 6:
        _tcp(f, p, length)
    elif proto == 17:
        _udp(f, p, length)
    elif proto == 1 and ver == 4:
        _icmp(f, p, "icmp")
    elif proto == 58 and ver == 6:
        _icmp(f, p, "icmp6")
    elif proto == 4:
        _ip(f, p)
    elif proto == 41:
        _ipv6(f, p)


_TCP_OPT = {0: "eol", 1: "nop", 2: "mss", 3: "wscale", 4: "sackOK", 5: "sack", 8: "ts",
            19: "md5", 28: "uto", 29: "auth", 30: "mptcp", 34: "tfo"}


def _tcp_options(d: bytes, q: int, end: int) -> list[dict]:
    opts: list[dict] = []
    while q < end:
        kind = d[q]
        name = _TCP_OPT.get(kind, kind)
        if kind in (0, 1):
            opts.append({"kind": name})
            q += 1
            if kind == 0:
                break
            continue
        if q + 1 >= end:
            opts.append({"kind": name, "error": "truncated"})
            break
        ln = d[q + 1]
        if ln < 2 or q + ln > end:
            opts.append({"kind": name, "error": "bad length %u" % ln})
            break
        body = d[q + 2:q + ln]
        if kind == 2 and ln == 4:
            opts.append({"kind": name, "value": struct.unpack("!H", body)[0]})
        elif kind == 3 and ln == 3:
            opts.append({"kind": name, "value": body[0]})
        elif kind == 8 and ln == 10:
            val, ecr = struct.unpack("!II", body)
            opts.append({"kind": name, "val": val, "ecr": ecr})
        elif kind == 5 and (ln - 2) % 8 == 0:
            opts.append({"kind": name, "blocks": [list(struct.unpack_from("!II", body, i))
                                                   for i in range(0, len(body), 8)]})
        elif kind == 4:
            opts.append({"kind": name})
        else:
            opts.append({"kind": name, "data": body.hex()})
        q += ln
    return opts


def _tcp(f: _Frame, p: int, length: int) -> None:
    d = f.d
    layer = {"layer": "tcp"}
    f.layers.append(layer)
    f.need(p, 4)
    layer["sport"], layer["dport"] = struct.unpack_from("!HH", d, p)
    f.need(p, 20)
    _s, _d, seq, ack, offx, flags, win, csum, urp = struct.unpack_from("!HHIIBBHHH", d, p)
    hlen = (offx >> 4) * 4
    layer.update(seq=seq, ack=ack, hlen=hlen, flags=D._FLAG_STR[flags], win=win, checksum=csum,
                 urp=urp)
    opt_end = p + max(hlen, 20)
    layer["options"] = _tcp_options(d, p + 20, min(opt_end, f.end))
    layer["payload_len"] = max(length - hlen, 0)
    if opt_end > f.end:
        raise _Cut
    if layer["payload_len"] and 53 in (layer["sport"], layer["dport"]):
        _dns(f, opt_end + 2, tcp=True)


def _udp(f: _Frame, p: int, length: int) -> None:
    d = f.d
    layer = {"layer": "udp"}
    f.layers.append(layer)
    f.need(p, 4)
    sport, dport = struct.unpack_from("!HH", d, p)
    layer.update(sport=sport, dport=dport)
    f.need(p, 8)
    ulen, csum = struct.unpack_from("!HH", d, p + 4)
    layer.update(len=ulen, checksum=csum, payload_len=max(min(ulen, length) - 8, 0))
    if layer["payload_len"] and (53 in (sport, dport) or 5353 in (sport, dport)):
        _dns(f, p + 8, tcp=False)


def _icmp(f: _Frame, p: int, name: str) -> None:
    d = f.d
    layer = {"layer": name}
    f.layers.append(layer)
    f.need(p, 4)
    t, code, csum = struct.unpack_from("!BBH", d, p)
    layer.update(type=t, code=code, checksum=csum)
    echo = (8, 0, 13, 14, 15, 16, 17, 18) if name == "icmp" else (128, 129)
    if t in echo:
        f.need(p + 4, 4)
        layer["id"], layer["seq"] = struct.unpack_from("!HH", d, p + 4)
    elif name == "icmp6" and t in (135, 136, 137):
        f.need(p + 8, 16)
        layer["target"] = _ip6(d[p + 8:p + 24])


# -------------------------------------------------------------------- DNS

_RR_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
             33: "SRV", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 65: "HTTPS",
             64: "SVCB", 255: "ANY", 252: "AXFR", 251: "IXFR", 257: "CAA", 99: "SPF", 13: "HINFO"}


def _dns_name(d: bytes, q: int, start: int, end: int) -> tuple[str, int]:
    """(name, offset after it in place); compression pointers followed, bounded."""
    labels = []
    after = None
    hops = 0
    while True:
        if q >= end:
            raise _Cut
        n = d[q]
        if n & 0xC0 == 0xC0:
            if q + 1 >= end:
                raise _Cut
            if after is None:
                after = q + 2
            q = start + (((n & 0x3F) << 8) | d[q + 1])
            hops += 1
            if hops > 64:
                raise ValueError("DNS compression loop")
            continue
        if n & 0xC0:
            raise ValueError("bad DNS label")
        if n == 0:
            q += 1
            break
        if q + 1 + n > end:
            raise _Cut
        labels.append(d[q + 1:q + 1 + n].decode("latin-1"))
        q += 1 + n
    return (".".join(labels) + ".") if labels else ".", (after if after is not None else q)


def _rdata(d: bytes, t: int, q: int, rdlen: int, start: int, end: int):
    body = d[q:q + rdlen]
    if t == 1 and rdlen == 4:
        return _ntoa(body)
    if t == 28 and rdlen == 16:
        return _ip6(body)
    if t in (2, 5, 12):
        return _dns_name(d, q, start, end)[0]
    if t == 15 and rdlen >= 3:
        return "%u %s" % ((body[0] << 8) | body[1], _dns_name(d, q + 2, start, end)[0])
    if t == 16:
        out, i = [], 0
        while i < rdlen:
            n = body[i]
            out.append(body[i + 1:i + 1 + n].decode("latin-1"))
            i += 1 + n
        return out
    return body.hex()


def _dns(f: _Frame, p: int, tcp: bool) -> None:
    d = f.d
    end = f.end
    layer = {"layer": "dns"}
    f.layers.append(layer)
    f.need(p, 12)
    ident, fl, qd, an, ns, ar = struct.unpack_from("!HHHHHH", d, p)
    layer.update(id=ident, qr=bool(fl & 0x8000), opcode=(fl >> 11) & 0xF, aa=bool(fl & 0x400),
                 tc=bool(fl & 0x200), rd=bool(fl & 0x100), ra=bool(fl & 0x80), rcode=fl & 0xF,
                 qdcount=qd, ancount=an, nscount=ns, arcount=ar)
    questions: list[dict] = []
    answers: list[dict] = []
    layer["questions"] = questions
    layer["answers"] = answers
    q = p + 12
    for _ in range(min(qd, 64)):
        name, q = _dns_name(d, q, p, end)
        f.need(q, 4)
        t, cls = struct.unpack_from("!HH", d, q)
        q += 4
        questions.append({"name": name, "type": _RR_TYPES.get(t, t), "class": cls})
    for _ in range(min(an, 256)):
        name, q = _dns_name(d, q, p, end)
        f.need(q, 10)
        t, cls, ttl, rdlen = struct.unpack_from("!HHIH", d, q)
        q += 10
        f.need(q, rdlen)
        answers.append({"name": name, "type": _RR_TYPES.get(t, t), "class": cls, "ttl": ttl,
                        "data": _rdata(d, t, q, rdlen, p, end)})
        q += rdlen


_LINKS = {1: _ether, 113: _sll, 276: _sll2, 101: _raw, 12: _raw, 14: _raw, 228: _raw, 229: _raw,
          0: _null, 108: _null}


# -------------------------------------------------------------------- output

class JsonRenderer:
    """Drop-in for ``Renderer`` (``render``/``reset``/``render_record``) that
    returns one JSON line per packet.  ``Renderer(opts)`` gives one of these
    when ``opts.json`` is set."""

    def __init__(self, opts):
        from .line import Renderer
        from dataclasses import replace
        self.opts = opts
        self.count = 0
        # the summary: tcpdump's line for the packet, without time stamp or dump,
        # and with numbers as in every other field (no look-ups for a script)
        self._text = Renderer(replace(opts, json=False, timestamp="none", hex=None, numeric=True))
        self._hex = opts.hex is not None
        self._nano = opts.nanosecond
        self._dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode

    def reset(self) -> None:
        self._text.reset()

    def _time(self, ts_ns: int) -> str:
        sec, frac = divmod(ts_ns, 1_000_000_000)
        try:
            base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        except (OverflowError, OSError, ValueError):
            return ""
        if self._nano:
            return "%s.%09uZ" % (base, frac)
        return "%s.%06uZ" % (base, frac // 1000)

    def render(self, data: bytes, wire_len: int, linktype: int, timestamp_ns: int) -> str:
        if type(data) is not bytes:
            data = bytes(data)
        self.count += 1
        layers, truncated, malformed = decode_layers(data, linktype)
        obj = {"n": self.count, "time": self._time(timestamp_ns), "ts_ns": timestamp_ns,
               "caplen": len(data), "len": wire_len,
               "linktype": _LINKTYPE_NAMES.get(linktype, str(linktype)),
               "layers": layers, "truncated": truncated,
               "summary": self._text.render(data, wire_len, linktype, timestamp_ns)}
        if malformed:
            obj["error"] = "malformed"
        if self._hex:
            obj["hex"] = data.hex()
        return self._dumps(obj)

    def render_record(self, record, linktype: int | None = None) -> str:
        from .line import Renderer
        return Renderer.render_record(self, record, linktype)  # type: ignore[arg-type]
