"""tcpdump-style packet lines.

``Renderer`` keeps the little state tcpdump keeps between packets (TCP
sequence-number bases for relative seq/ack, the previous and first time
stamps for ``-ttt``/``-ttttt``) and turns one record into exactly the text
tcpdump 4.99 prints for it: one line, or several for the
protocols (and the ``-v``/``-x`` modes) where tcpdump prints several, joined
with ``\\n`` and without the final newline.

Nothing here raises on bad input: a printer that runs off the captured bytes
ends the text with `` [|proto]`` like tcpdump, and any unexpected error
becomes `` [|pycap: malformed]`` appended to what was printed so far.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from . import _dissect as D
from . import _fast as F
from . import hexdump as H

__all__ = ["RenderOptions", "Renderer", "format_packet", "TIMESTAMP_MODES", "HEX_MODES"]

TIMESTAMP_MODES = ("default", "none", "epoch", "delta", "date", "since_first")
HEX_MODES = (None, "x", "xx", "X", "XX", "A", "AA")

LINKTYPE_NULL = 0
LINKTYPE_EN10MB = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """What tcpdump's printing flags select.

    ``timestamp``: "default" (``HH:MM:SS.ffffff``, local time), "none" (-t),
    "epoch" (-tt), "delta" (-ttt), "date" (-tttt), "since_first" (-ttttt).
    ``hex``: None, "x", "xx", "X", "XX", "A" or "AA" (-A twice: with the link
    header).  ``json``: one JSON object per packet instead of tcpdump's text
    (``Renderer`` then gives a ``jsonout.JsonRenderer``, which is always
    numeric).  ``numeric`` off (tcpdump without ``-n``): host, port and
    Ethernet names (see ``names``).
    """

    numeric: bool = True
    timestamp: str = "default"
    link_header: bool = False
    verbose: int = 0
    quiet: bool = False
    nanosecond: bool = False
    hex: str | None = None
    json: bool = False
    absolute_seq: bool = False        # -S
    no_checksums: bool = False        # -K
    strip_domain: bool = False        # -N: host names without their domain
    raw_nfs_handles: bool = False     # -u: NFS file handles undecoded
    tcp_md5_secret: str | None = None    # -M: checks TCP-MD5 signatures (RFC 2385)
    foreign: tuple[int, int] | None = None   # -f: (network, mask) of IPv4 addresses to name

    def __post_init__(self):
        if self.timestamp not in TIMESTAMP_MODES:
            raise ValueError("timestamp must be one of %s" % ", ".join(TIMESTAMP_MODES))
        if self.hex not in HEX_MODES:
            raise ValueError("hex must be one of %s" % ", ".join(str(m) for m in HEX_MODES))


class Renderer:
    """Stateful tcpdump-style printer for one run (one file or one capture)."""

    __slots__ = ("opts", "_tcp", "_first", "_prev", "_sec_cache_key", "_sec_cache_val",
                 "_v", "_e", "_q", "_suppress", "_hexmode", "_stamp", "_fast_links",
                 "_names", "_fast_state", "_secret")

    def __new__(cls, opts: RenderOptions | None = None, names=None):
        if opts is not None and opts.json:
            from .jsonout import JsonRenderer
            return JsonRenderer(opts)
        return super().__new__(cls)

    def __init__(self, opts: RenderOptions | None = None, names=None):
        """``names``: a ``names.Names`` to use instead of the system's
        resolver and files when ``opts.numeric`` is off."""
        self.opts = opts if opts is not None else RenderOptions()
        if self.opts.numeric:
            self._names = None
        elif names is not None:
            self._names = names
        else:
            from .names import Names
            self._names = Names(strip_domain=self.opts.strip_domain, foreign=self.opts.foreign)
        self._tcp: dict = {}
        self._first: int | None = None
        self._prev: int | None = None
        self._sec_cache_key = None
        self._sec_cache_val = ""
        self._v = self.opts.verbose
        self._e = self.opts.link_header
        self._q = 1 if self.opts.quiet else 0
        self._hexmode = self.opts.hex
        self._suppress = self.opts.hex in ("x", "xx", "X", "XX")
        secret = self.opts.tcp_md5_secret
        self._secret = None if secret is None else secret.encode()
        # whole lines in one call for the common packets (see _fast); only the
        # default amount of detail is done there
        fast = not (self._v or self._e or self._q or self.opts.absolute_seq
                    or self.opts.raw_nfs_handles)
        self._fast_state = F.State(self._tcp, self._suppress, self._names)
        self._fast_links = {LINKTYPE_EN10MB: (F.ether, 14), LINKTYPE_RAW: (F.raw, 0),
                            12: (F.raw, 0), 14: (F.raw, 0), LINKTYPE_LINUX_SLL: (F.sll, 16),
                            LINKTYPE_LINUX_SLL2: (F.sll2, 20)} if fast else {}
        ts = self.opts.timestamp
        # _stamp(timestamp_ns, text): the line with its time stamp in front
        self._stamp = (None if ts == "none" else
                       self._stamp_default_us if ts == "default" and not self.opts.nanosecond else
                       self._stamp_any)

    def reset(self) -> None:
        """Forget TCP sequence bases and time references (a new file)."""
        self._tcp.clear()
        self._first = None
        self._prev = None

    # -- time stamps -----------------------------------------------------

    def _frac(self, ns: int) -> str:
        if self.opts.nanosecond:
            return "%09u" % (ns % 1_000_000_000)
        return "%06u" % ((ns // 1000) % 1_000_000)

    def _clock(self, sec: int) -> str:
        """"HH:MM:SS." for a second, kept while the packets stay in it."""
        if sec != self._sec_cache_key:
            try:
                self._sec_cache_val = time.strftime("%H:%M:%S.", time.localtime(sec))
            except (OverflowError, OSError, ValueError):
                self._sec_cache_val = "[Error converting time]."
            self._sec_cache_key = sec
        return self._sec_cache_val

    def _stamp_default_us(self, timestamp_ns: int, text: str) -> str:
        """The default time stamp and the line in one format (the common case)."""
        sec, ns = divmod(timestamp_ns, 1_000_000_000)
        clock = self._sec_cache_val if sec == self._sec_cache_key else self._clock(sec)
        return "%s%06u %s" % (clock, ns // 1000, text)

    def _stamp_any(self, timestamp_ns: int, text: str) -> str:
        return self.format_timestamp(timestamp_ns) + text

    def format_timestamp(self, timestamp_ns: int) -> str:
        """The time stamp prefix (with its trailing space, or "" for -t)."""
        mode = self.opts.timestamp
        if mode == "none":
            return ""
        nano = self.opts.nanosecond
        if mode == "default":
            return "%s%s " % (self._clock(timestamp_ns // 1_000_000_000), self._frac(timestamp_ns))
        if mode == "epoch":
            return "%u.%s " % (timestamp_ns // 1_000_000_000, self._frac(timestamp_ns))
        if mode == "date":
            sec = timestamp_ns // 1_000_000_000
            try:
                ds = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(sec))
            except (OverflowError, OSError, ValueError):
                ds = "[Error converting time]"
            return "%s.%s " % (ds, self._frac(timestamp_ns))
        # delta / since_first: tcpdump works at the precision of the file it reads
        unit = 1 if nano else 1000
        cur = timestamp_ns // unit
        if mode == "delta":
            ref = self._prev if self._prev is not None else cur
            self._prev = cur
        else:
            if self._first is None:
                self._first = cur
            ref = self._first
        delta = cur - ref
        sign = "-" if delta < 0 else " "
        delta = abs(delta)
        per = 1_000_000_000 if nano else 1_000_000
        sec, frac = divmod(delta, per)
        sec %= 86400  # tcpdump formats the difference with gmtime(): whole days drop out
        return "%s%02d:%02d:%02d.%0*u " % (sign, sec // 3600, (sec % 3600) // 60, sec % 60,
                                           9 if nano else 6, frac)

    # -- packets ---------------------------------------------------------

    def render(self, data: bytes, wire_len: int, linktype: int, timestamp_ns: int) -> str:
        """tcpdump's text for one packet (no trailing newline)."""
        if type(data) is not bytes:
            data = bytes(data)
        caplen = len(data)
        if not (0 < caplen <= wire_len <= 262144):
            return self._invalid(caplen, wire_len)
        fast = self._fast_links.get(linktype)
        if fast is not None:
            text = fast[0](data, caplen, wire_len, self._fast_state)
            if text is not None:
                if self._hexmode is not None:
                    # a line cut short by [|proto] dumps from byte 0, as on the general path
                    text += H.dump(self._hexmode, data, fast[1] if type(text) is str else 0)
                if self._stamp is not None:
                    return self._stamp(timestamp_ns, text)
                return text
        return self._render(data, caplen, wire_len, linktype, timestamp_ns)

    @staticmethod
    def _invalid(caplen: int, wire_len: int) -> str:
        bad = []
        if caplen == 0:
            bad.append(" caplen==0")
        if wire_len == 0:
            bad.append(" len==0")
        elif wire_len < caplen:
            bad.append(" len(%u) < caplen(%u)" % (wire_len, caplen))
        if caplen > D.MAXIMUM_SNAPLEN:
            bad.append(" caplen(%u) > %u" % (caplen, D.MAXIMUM_SNAPLEN))
        if wire_len > D.MAXIMUM_SNAPLEN:
            bad.append(" len(%u) > %u" % (wire_len, D.MAXIMUM_SNAPLEN))
        return "[Invalid header:" + ",".join(bad) + "]"

    def _render(self, data: bytes, caplen: int, wire_len: int, linktype: int, timestamp_ns: int) -> str:
        c = D.Ctx(data, caplen, self._v, self._e, self._q, self._tcp, self._suppress)
        c.k, c.absolute, c.names = self.opts.no_checksums, self.opts.absolute_seq, self._names
        c.u, c.secret = self.opts.raw_nfs_handles, self._secret
        try:
            _LINK_PRINTERS.get(linktype, _unknown_link)(c, wire_len, linktype)
        except D.Trunc:
            D.trunc(c)
            c.llhdr = 0
        except Exception:  # noqa: BLE001 - never let a packet kill the run
            c.o.append(" [|pycap: malformed]")
            c.llhdr = 0
        text = "".join(c.o)
        if self._stamp is not None:
            text = self._stamp(timestamp_ns, text)
        if c.generic is not None and self._v >= 2:
            # a protocol pycap only names: scapy's dissection below the line
            from . import deep
            text += deep.detail(data, linktype)
        if self._hexmode is not None:
            try:
                text += H.dump(self._hexmode, data, c.llhdr)
            except Exception:  # noqa: BLE001
                text += " [|pycap: malformed]"
        return text

    def render_record(self, record, linktype: int | None = None) -> str:
        """Render a savefile/capture record object (duck-typed).

        Reads ``data``, the wire length (``wire_len``/``orig_len``/``length``),
        the link type (``linktype`` argument or attribute) and the time stamp
        (``timestamp_ns``/``ts_ns``, or ``ts_sec``+``ts_usec``/``ts_nsec``).
        """
        data = getattr(record, "data")
        wl = None
        for name in ("wire_len", "orig_len", "wirelen", "length"):
            wl = getattr(record, name, None)
            if wl is not None:
                break
        if wl is None:
            wl = len(data)
        lt = linktype if linktype is not None else getattr(record, "linktype", LINKTYPE_EN10MB)
        ts = None
        for name in ("timestamp_ns", "ts_ns", "time_ns"):
            ts = getattr(record, name, None)
            if ts is not None:
                break
        if ts is None:
            sec = getattr(record, "ts_sec", 0) or 0
            if getattr(record, "ts_nsec", None) is not None:
                ts = sec * 1_000_000_000 + record.ts_nsec
            else:
                ts = sec * 1_000_000_000 + (getattr(record, "ts_usec", 0) or 0) * 1000
        return self.render(data, int(wl), int(lt), int(ts))


def _ether(c, wire_len, _lt):
    c.llhdr = D.ether_print(c, 0, wire_len)


def _sll(c, wire_len, _lt):
    D.sll_if_print(c, wire_len)


def _sll2(c, wire_len, _lt):
    D.sll2_if_print(c, wire_len)


def _raw(c, wire_len, _lt):
    D.raw_if_print(c, wire_len)


def _ipv4(c, wire_len, _lt):
    D.ip_print(c, 0, wire_len)


def _ipv6(c, wire_len, _lt):
    D.ip6_print(c, 0, wire_len)


def _null(c, wire_len, _lt):
    D.null_if_print(c, wire_len)


def _unknown_link(c, wire_len, lt):
    c.o.append("[|pycap: unsupported link-type %u] length %u" % (lt, wire_len))


_LINK_PRINTERS = {
    LINKTYPE_EN10MB: _ether,
    LINKTYPE_LINUX_SLL: _sll,
    LINKTYPE_LINUX_SLL2: _sll2,
    LINKTYPE_RAW: _raw,
    12: _raw,
    14: _raw,
    LINKTYPE_IPV4: _ipv4,
    LINKTYPE_IPV6: _ipv6,
    LINKTYPE_NULL: _null,
    LINKTYPE_LOOP: _null,
}


def format_packet(data: bytes, wire_len: int, linktype: int, timestamp_ns: int,
                  opts: RenderOptions | None = None) -> str:
    """Stateless one-shot rendering (absolute TCP sequence numbers on every call)."""
    return Renderer(opts).render(data, wire_len, linktype, timestamp_ns)
