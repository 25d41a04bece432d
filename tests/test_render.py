"""pycap.render against the real tcpdump.

The differential test renders every packet of every corpus capture and
compares it with what ``tcpdump -r FILE -n -t -#`` prints for it (the packet
numbers of ``-#`` split tcpdump's output into per-packet texts, since some
packets take several lines).  pcap/pcapng files are read by a small reader in
this module, so the test does not depend on pycap.savefile.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

from pycap.render import RenderOptions, Renderer, format_packet
from pycap.render import hexdump as H
from pycap.render.console import Console, protocol_of, strip_ansi, want_color

ROOT = Path(__file__).resolve().parent.parent


def corpus_dir() -> Path | None:
    for cand in (ROOT / "expr" / "corpus" / "pcaps", ROOT.parent / "shared" / "corpus" / "pcaps",
                 Path("/work/shared/corpus/pcaps")):
        if cand.is_dir():
            return cand
    return None


CORPUS = corpus_dir()
TCPDUMP = shutil.which("tcpdump")

# ---------------------------------------------------------------------------
# a minimal pcap / pcapng reader (records: data, wire_len, linktype, ts_ns)


def read_capture(path: Path):
    raw = path.read_bytes()
    if len(raw) < 4:
        return []
    magic = raw[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        return _read_pcapng(raw)
    return _read_pcap(raw)


def _read_pcap(raw: bytes):
    m = struct.unpack("<I", raw[:4])[0]
    table = {0xA1B2C3D4: ("<", 1000), 0xA1B23C4D: ("<", 1),
             0xD4C3B2A1: (">", 1000), 0x4D3CB2A1: (">", 1)}
    if m not in table:
        raise ValueError("not a pcap file")
    e, mult = table[m]
    snaplen = struct.unpack(e + "I", raw[16:20])[0]
    if snaplen == 0 or snaplen > 262144:
        snaplen = 262144
    linktype = struct.unpack(e + "I", raw[20:24])[0] & 0x0FFFFFFF
    out = []
    off = 24
    hdr = struct.Struct(e + "IIII")
    while off + 16 <= len(raw):
        sec, frac, incl, orig = hdr.unpack_from(raw, off)
        off += 16
        data = raw[off:off + min(incl, snaplen)]  # libpcap trims records to the snap length
        off += incl
        out.append((data, orig, linktype, sec * 1_000_000_000 + frac * mult))
    return out


def _read_pcapng(raw: bytes):
    out = []
    off = 0
    e = "<"
    ifaces = []
    while off + 12 <= len(raw):
        btype = struct.unpack_from(e + "I", raw, off)[0]
        if btype == 0x0A0D0D0A:
            bom = raw[off + 8:off + 12]
            e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        blen = struct.unpack_from(e + "I", raw, off + 4)[0]
        if blen < 12 or off + blen > len(raw):
            break
        body = raw[off + 8:off + blen - 4]
        if btype == 1:
            lt, _res, snap = struct.unpack_from(e + "HHI", body, 0)
            tsres = 1000  # ns per unit (microseconds)
            o = 8
            while o + 4 <= len(body):
                code, ln = struct.unpack_from(e + "HH", body, o)
                if code == 0:
                    break
                if code == 9 and ln >= 1:
                    v = body[o + 4]
                    if v & 0x80:
                        tsres = 1_000_000_000 / (2 ** (v & 0x7F))
                    else:
                        tsres = 10 ** (9 - v) if v <= 9 else 10 ** 9 / 10 ** v
                o += 4 + ((ln + 3) & ~3)
            ifaces.append((lt, snap, tsres))
        elif btype == 6:
            iid, hi, lo, incl, orig = struct.unpack_from(e + "IIIII", body, 0)
            lt, snap, tsres = ifaces[iid]
            ts = (hi << 32) | lo
            if snap and incl > snap:
                incl = snap
            out.append((body[20:20 + incl], orig, lt, int(ts * tsres)))
        elif btype == 3:
            orig = struct.unpack_from(e + "I", body, 0)[0]
            lt, snap, _ = ifaces[0]
            incl = min(orig, snap) if snap else orig
            out.append((body[4:4 + incl], orig, lt, 0))
        elif btype == 2:
            iid, _drops, hi, lo, incl, orig = struct.unpack_from(e + "HHIIII", body, 0)
            lt, _snap, tsres = ifaces[iid]
            out.append((body[20:20 + incl], orig, lt, int(((hi << 32) | lo) * tsres)))
        off += blen
    return out


# ---------------------------------------------------------------------------
# tcpdump's per-packet texts

_NUM = re.compile(r"^ {0,4}(\d+)  ")


@functools.lru_cache(maxsize=None)
def tcpdump_packets(path: str, flags: tuple = ("-t",)) -> list[str]:
    """tcpdump's text for each packet with -n (``-#`` numbering removed)."""
    return tcpdump_texts([TCPDUMP, "-r", path, "-n", "-#", *flags])


def tcpdump_texts(argv: list[str]) -> list[str]:
    """The packets' texts of a tcpdump command that numbers them (-#)."""
    env = dict(os.environ, TZ="UTC")
    res = subprocess.run(argv, capture_output=True, env=env, timeout=120)
    text = res.stdout.decode("latin-1")
    packets: list[list[str]] = []
    expect = 1
    for line in text.split("\n"):
        m = _NUM.match(line)
        if m and int(m.group(1)) == expect and line[:7] == "%5u  " % expect:
            packets.append([line[7:]])
            expect += 1
        elif packets:
            packets[-1].append(line)
    if packets and packets[-1] and packets[-1][-1] == "":
        packets[-1].pop()
    return ["\n".join(p) for p in packets]


def render_file(path: Path, opts: RenderOptions) -> list[str]:
    r = Renderer(opts)
    return [r.render(*rec) for rec in read_capture(path)]


_CORE = re.compile(
    r"^(?:\S+\s+(?:In|Out|B|M|P|\?)\s+)?"            # SLL2 interface prefix
    r"(?:ARP, |IP6? \S+ > \S+: (?:Flags \[|UDP, |ICMP6?[ ,])|IP6? \S+\.53 > |IP6? \S+ > \S+\.53: )")


def is_core(tcpdump_text: str) -> bool:
    """Packets whose tcpdump line is ARP, or IPv4/IPv6 carrying TCP/UDP/ICMP/ICMPv6/DNS."""
    return bool(_CORE.match(tcpdump_text))


def compare_corpus(flags=("-t",), opts=RenderOptions(timestamp="none")):
    """(total, same, core_total, core_same, mismatches) over the corpus."""
    total = same = core_total = core_same = 0
    mismatches = []
    for path in sorted(CORPUS.iterdir()):
        want = tcpdump_packets(str(path), tuple(flags))
        plain = tcpdump_packets(str(path), ("-t",))
        got = render_file(path, opts)
        # tcpdump stops at a record it cannot read; compare what both have
        for i, (w, g, base) in enumerate(zip(want, got, plain)):
            total += 1
            core = is_core(base)
            core_total += core
            if w == g:
                same += 1
                core_same += core
            else:
                mismatches.append((path.name, i + 1, core, w, g))
    return total, same, core_total, core_same, mismatches


needs_corpus = pytest.mark.skipif(CORPUS is None, reason="no corpus of captures")
needs_tcpdump = pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")

# Thresholds set from what pycap achieves (see the report printed by the test).
CORE_THRESHOLD = 1.0
OVERALL_THRESHOLD = 0.97


@needs_corpus
@needs_tcpdump
def test_differential_against_tcpdump(capsys):
    total, same, core_total, core_same, mism = compare_corpus()
    with capsys.disabled():
        print("\nrender vs tcpdump -n -t: %d/%d packets identical (%.1f%%); core protocols %d/%d (%.1f%%)"
              % (same, total, 100.0 * same / max(total, 1), core_same, core_total,
                 100.0 * core_same / max(core_total, 1)))
    assert total > 1000
    assert core_total > 500
    assert core_same / core_total >= CORE_THRESHOLD, [m for m in mism if m[2]][:10]
    assert same / total >= OVERALL_THRESHOLD


@needs_corpus
@needs_tcpdump
@pytest.mark.parametrize("flags,opts,threshold", [
    (("-t", "-e"), RenderOptions(timestamp="none", link_header=True), 0.985),
    (("-t", "-v"), RenderOptions(timestamp="none", verbose=1), 0.85),
    (("-t", "-vv"), RenderOptions(timestamp="none", verbose=2), 0.85),
    (("-t", "-q"), RenderOptions(timestamp="none", quiet=True), 0.99),
    (("-t", "-S"), RenderOptions(timestamp="none", absolute_seq=True), 0.995),
    (("-t", "-v", "-K"), RenderOptions(timestamp="none", verbose=1, no_checksums=True), 0.85),
    (("-t", "-x"), RenderOptions(timestamp="none", hex="x"), 0.985),
    (("-t", "-XX"), RenderOptions(timestamp="none", hex="XX"), 0.985),
    (("-t", "-A"), RenderOptions(timestamp="none", hex="A"), 0.985),
    (("-n",), RenderOptions(), 0.985),
    (("-tt",), RenderOptions(timestamp="epoch"), 0.985),
    (("-ttt",), RenderOptions(timestamp="delta"), 0.985),
    (("-tttt",), RenderOptions(timestamp="date"), 0.985),
    (("-ttttt",), RenderOptions(timestamp="since_first"), 0.985),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_differential_modes(flags, opts, threshold, capsys, monkeypatch):
    """Other printing modes; the share is over the core packets (classified in the default mode)."""
    monkeypatch.setenv("TZ", "UTC")  # tcpdump runs with TZ=UTC too
    time.tzset()
    total, same, core_total, core_same, mism = compare_corpus(flags, opts)
    with capsys.disabled():
        print("\n%s: %d/%d identical (%.1f%%), core %d/%d (%.1f%%)" % (
            " ".join(flags), same, total, 100.0 * same / total, core_same, core_total,
            100.0 * core_same / core_total))
    assert core_same / core_total >= threshold, [m for m in mism if m[2]][:5]


# -v packets printed as tcpdump prints them, over every corpus packet (the
# test above holds the core protocols); raised as printers are completed.
VERBOSE_OVERALL_THRESHOLD = 0.81


@needs_corpus
@needs_tcpdump
def test_verbose_share_over_the_whole_corpus():
    total, same, *_ = compare_corpus(("-t", "-v"), RenderOptions(timestamp="none", verbose=1))
    assert same / total >= VERBOSE_OVERALL_THRESHOLD, (same, total)


# ---------------------------------------------------------------------------
# never raise

# every verbosity with -e and -q both ways, and every dump mode with the least
# and the most detail (the dumps do not depend on the decoding otherwise)
ALL_OPTS = [
    RenderOptions(timestamp=t, link_header=e, verbose=v, quiet=q)
    for v in range(4)
    for e in (False, True)
    for t, q in (("default", False), ("none", True))
] + [
    RenderOptions(link_header=e, verbose=v, hex=h)
    for h in ("x", "xx", "X", "XX", "A", "AA")
    for v, e in ((0, False), (3, True))
]


@needs_corpus
def test_every_capture_every_mode_renders():
    recs = []
    for path in sorted(CORPUS.iterdir()):
        recs.append((path.name, read_capture(path)))
    for opts in ALL_OPTS:
        for name, records in recs:
            r = Renderer(opts)
            for rec in records[:40]:
                text = r.render(*rec)
                assert isinstance(text, str)
                assert "pycap: malformed" not in text, (name, opts, text)


def test_random_bytes_never_raise():
    hyp = pytest.importorskip("hypothesis")
    st = hyp.strategies

    @hyp.settings(max_examples=600, deadline=None)
    @hyp.given(data=st.binary(max_size=200), lt=st.sampled_from([0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 999]),
               extra=st.integers(0, 3000), v=st.integers(0, 3), e=st.booleans(),
               h=st.sampled_from([None, "x", "XX", "A"]))
    def run(data, lt, extra, v, e, h):
        text = Renderer(RenderOptions(verbose=v, link_header=e, hex=h)).render(data, len(data) + extra, lt, 0)
        assert isinstance(text, str)

    run()


def test_structured_random_frames_never_raise():
    """Random payloads behind valid Ethernet/IP/TCP/UDP headers reach the deep printers."""
    hyp = pytest.importorskip("hypothesis")
    st = hyp.strategies

    def eth(t):
        return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb" + struct.pack("!H", t)

    def ip4(proto, payload, ihl=5):
        return struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                           b"\x0a\0\0\1", b"\x0a\0\0\2") + b"\0" * ((ihl - 5) * 4) + payload

    def ip6(nh, payload):
        return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, b"\x20\x01" + b"\0" * 14,
                           b"\xfe\x80" + b"\0" * 13 + b"\x01") + payload

    @hyp.settings(max_examples=800, deadline=None)
    @hyp.given(payload=st.binary(max_size=120), proto=st.sampled_from([1, 2, 6, 17, 41, 47, 50, 51, 58, 89, 103, 112, 132, 0, 43, 44, 60, 4]),
               sport=st.sampled_from([53, 80, 22, 179, 6653, 123, 67, 4789, 6081, 5353, 1234, 2049, 21, 25,
                                      3784, 4784, 3785, 6696, 6704]),
               six=st.booleans(), v=st.integers(0, 3), cut=st.integers(0, 60))
    def run(payload, proto, sport, six, v, cut):
        if proto in (6, 17):
            payload = struct.pack("!HH", sport, 40000) + payload
        frame = eth(0x86DD if six else 0x0800) + (ip6(proto, payload) if six else ip4(proto, payload))
        frame = frame[:len(frame) - cut] if cut < len(frame) else frame
        r = Renderer(RenderOptions(verbose=v))
        text = r.render(frame, len(frame) + cut, 1, 0)
        assert "pycap: malformed" not in text, text

    run()


def test_link_encapsulations_random_payloads_never_raise():
    """STP, IS-IS, PVST/UDLD (SNAP) and Slow Protocols printers on random bodies."""
    hyp = pytest.importorskip("hypothesis")
    st = hyp.strategies
    heads = [b"\x42\x42\x03", b"\xfe\xfe\x03\x83", b"\xaa\xaa\x03\x00\x00\x0c\x01\x0b",
             b"\xaa\xaa\x03\x00\x00\x0c\x01\x11", None]

    @hyp.settings(max_examples=400, deadline=None)
    @hyp.given(head=st.sampled_from(heads), body=st.binary(max_size=140), v=st.integers(0, 3),
               e=st.booleans(), cut=st.integers(0, 40), sub=st.integers(0, 5))
    def run(head, body, v, e, cut, sub):
        mac = b"\x01\x80\xc2\x00\x00\x00\x00\x11\x22\x33\x44\x55"
        if head is None:
            frame = mac + b"\x88\x09" + bytes([sub]) + body
        else:
            frame = mac + struct.pack("!H", len(head) + len(body)) + head + body
        frame = frame[:max(1, len(frame) - cut)]
        text = Renderer(RenderOptions(verbose=v, link_header=e)).render(frame, len(frame) + cut, 1, 0)
        assert "pycap: malformed" not in text, text

    run()


# ---------------------------------------------------------------------------
# the fast path (render/_fast.py) must print exactly what the general printers print


def _general_only(opts):
    r = Renderer(opts)
    r._fast_links = {}
    return r


@needs_corpus
@pytest.mark.parametrize("opts", [RenderOptions(timestamp="none"), RenderOptions(hex="XX"),
                                  RenderOptions(hex="x", timestamp="delta")],
                         ids=["-t", "-XX", "-x -ttt"])
def test_fast_path_equals_general_path(opts):
    hits = 0
    for path in sorted(CORPUS.iterdir()):
        fast, general = Renderer(opts), _general_only(opts)
        for rec in read_capture(path):
            want = general.render(*rec)
            got = fast.render(*rec)
            assert got == want, (path.name, rec[0].hex())
            hits += fast._fast_links.get(rec[2]) is not None
    assert hits > 1000


def _frame(proto, sport, dport, payload, six=False, flags=0x18, options=b""):
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000, (5 + len(options) // 4) << 4,
                         flags, 512, 0, 0) + options + payload
    else:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if six:
        ip = struct.pack("!IHBB16s16s", 0x60000000, len(l4), proto, 64, b"\x20\x01" + b"\0" * 14,
                         b"\x20\x01" + b"\0" * 13 + b"\x02") + l4
        et = 0x86DD
    else:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0,
                         b"\x0a\0\0\1", b"\x0a\0\0\2") + l4
        et = 0x0800
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb" + struct.pack("!H", et) + ip


def test_fast_path_every_port():
    """Application printers are chosen by port: the fast path must agree for each one."""
    opts = RenderOptions(timestamp="none")
    fast, general = Renderer(opts), _general_only(opts)
    payload = b"SSH-2.0-x\r\n" + bytes(range(40))
    for port in range(65536):
        for proto in (6, 17):
            frame = _frame(proto, port, 40000 if port != 40000 else 40001, payload)
            assert fast.render(frame, len(frame), 1, 0) == general.render(frame, len(frame), 1, 0), \
                (proto, port)


def test_fast_path_random_frames():
    hyp = pytest.importorskip("hypothesis")
    st = hyp.strategies
    ports = st.one_of(st.sampled_from([22, 53, 80, 443, 2049, 4789, 6081, 6633, 179, 123, 5353, 0]),
                      st.integers(0, 65535))

    @hyp.settings(max_examples=500, deadline=None)
    @hyp.given(proto=st.sampled_from([6, 17]), sport=ports, dport=ports,
               payload=st.binary(max_size=80), six=st.booleans(),
               flags=st.integers(0, 255), options=st.binary(max_size=12),
               cut=st.integers(0, 90), pad=st.integers(0, 20), h=st.sampled_from([None, "x", "A"]))
    def run(proto, sport, dport, payload, six, flags, options, cut, pad, h):
        options = options + b"\x01" * (-len(options) % 4)
        frame = _frame(proto, sport, dport, payload, six, flags, options) + b"\0" * pad
        frame = frame[:max(1, len(frame) - cut)]
        opts = RenderOptions(timestamp="none", hex=h)
        fast, general = Renderer(opts), _general_only(opts)
        for _ in range(2):   # the second time through, the TCP table knows the flow
            assert fast.render(frame, len(frame) + cut, 1, 0) == general.render(frame, len(frame) + cut, 1, 0)

    run()


# ---------------------------------------------------------------------------
# unit tests of the pieces


def test_fast_path_other_protocols_random_frames():
    """IPv4 protocols and ethertypes the fast path hands to _dissect's printers."""
    hyp = pytest.importorskip("hypothesis")
    st = hyp.strategies
    from pycap.render import _dissect as D

    @hyp.settings(max_examples=400, deadline=None)
    @hyp.given(ip=st.booleans(), proto=st.one_of(st.sampled_from([47, 103, 112, 89, 88, 2, 51, 4, 41, 1]),
                                                 st.integers(0, 255)),
               ethertype=st.sampled_from(sorted(D._ETHERTYPE_PRINTERS)), hwords=st.integers(4, 7),
               frag=st.sampled_from([0, 0x4000, 0x2000, 1]), slack=st.integers(-4, 8),
               payload=st.binary(max_size=120), cut=st.integers(0, 30), h=st.sampled_from([None, "x"]))
    def run(ip, proto, ethertype, hwords, frag, slack, payload, cut, h):
        if ip:
            header = struct.pack("!BBHHHBBH4s4s", 0x40 | hwords, 0, max(0, 4 * hwords + len(payload) + slack),
                                 1, frag, 64, proto, 0, b"\x0a\0\0\1", b"\x0a\0\0\2")
            body = header[:4 * hwords] + bytes(max(0, 4 * hwords - 20)) + payload
            ethertype = 0x0800
        else:
            body = payload
        frame = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb" + struct.pack("!H", ethertype) + body
        frame = frame[:max(1, len(frame) - cut)]
        opts = RenderOptions(timestamp="none", hex=h)
        assert Renderer(opts).render(frame, len(frame) + cut, 1, 0) == \
            _general_only(opts).render(frame, len(frame) + cut, 1, 0)

    run()


def test_format_packet_arp_request():
    frame = bytes.fromhex("ffffffffffff001122334455" "0806" "0001080006040001" "001122334455" "0a000001"
                          "000000000000" "0a000002") + b"\0" * 18
    text = format_packet(frame, len(frame), 1, 0, RenderOptions(timestamp="none"))
    assert text == "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 46"


def test_ipx_and_eapol_lines():
    """print-ipx.c and eapol_print() (-n: SAP types as hex), as tcpdump 4.99 prints them."""
    mac = bytes.fromhex("ffffffffffff" "001122334455")
    rip = struct.pack("!HHBBI6sHI6sH", 0xFFFF, 40, 0, 1, 0, b"\xff" * 6, 0x0453,
                      0xA8F87967, bytes(5) + b"\x01", 0x0453) + struct.pack("!HIHH", 2, 0xA8F87967, 1, 2)
    opts = RenderOptions(timestamp="none")
    assert format_packet(mac + b"\x81\x37" + rip, 54, 1, 0, opts) == (
        "(NOV-ETHII) IPX a8f87967.00:00:00:00:00:01.0453 > 00000000.ff:ff:ff:ff:ff:ff.0453: "
        "ipx-rip-resp a8f87967/1.2")
    raw_8023 = mac + struct.pack("!H", len(rip[:31])) + rip[:31]      # cut after the header
    assert format_packet(raw_8023, len(raw_8023), 1, 0, opts).endswith(".0453:  [|ipx]")
    eapol = mac + b"\x88\x8e" + bytes.fromhex("0100 0005") + bytes(42)
    assert format_packet(eapol, len(eapol), 1, 0, opts) == "EAP packet (0) v1, len 5"


def test_timestamps():
    r = Renderer(RenderOptions(timestamp="epoch"))
    assert r.format_timestamp(1_704_067_200_123_456_789) == "1704067200.123456 "
    r = Renderer(RenderOptions(timestamp="epoch", nanosecond=True))
    assert r.format_timestamp(1_704_067_200_123_456_789) == "1704067200.123456789 "
    r = Renderer(RenderOptions(timestamp="delta"))
    assert r.format_timestamp(5_000_000_000) == " 00:00:00.000000 "
    assert r.format_timestamp(6_500_000_000) == " 00:00:01.500000 "
    r = Renderer(RenderOptions(timestamp="since_first"))
    r.format_timestamp(5_000_000_000)
    r.format_timestamp(6_000_000_000)
    assert r.format_timestamp(3_605_000_000_000) == " 01:00:00.000000 "
    assert Renderer(RenderOptions(timestamp="none")).format_timestamp(1) == ""


def test_tcp_relative_sequence_numbers():
    def seg(src, dst, sp, dp, seq, ack, flags):
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 0x50, flags, 512, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, bytes(src), bytes(dst))
        return ip + tcp

    a, b = [10, 0, 0, 1], [10, 0, 0, 2]
    r = Renderer(RenderOptions(timestamp="none"))
    lines = [r.render(p, len(p), 101, 0) for p in (
        seg(a, b, 51000, 443, 1000, 0, 0x02),
        seg(b, a, 443, 51000, 5000, 1001, 0x12),
        seg(a, b, 51000, 443, 1001, 5001, 0x10),
    )]
    assert lines[0] == "IP 10.0.0.1.51000 > 10.0.0.2.443: Flags [S], seq 1000, win 512, length 0"
    assert lines[1] == "IP 10.0.0.2.443 > 10.0.0.1.51000: Flags [S.], seq 5000, ack 1001, win 512, length 0"
    assert lines[2] == "IP 10.0.0.1.51000 > 10.0.0.2.443: Flags [.], ack 1, win 512, length 0"


def test_truncation_marks():
    frame = bytes.fromhex("001122334455" "66778899aabb" "0800" "4500003c0000000040060000" "0a000001" "0a000002"
                          "9c40")
    text = format_packet(frame, 74, 1, 0, RenderOptions(timestamp="none"))
    assert text == "IP 10.0.0.1 > 10.0.0.2: [|tcp]"
    assert format_packet(b"\x00\x11", 60, 1, 0, RenderOptions(timestamp="none")) == " [|ether]"


def test_hexdump_layouts():
    data = bytes(range(0x41, 0x41 + 18))
    assert H.hex_lines(data) == ("\n\t0x0000:  4142 4344 4546 4748 494a 4b4c 4d4e 4f50"
                                 "\n\t0x0010:  5152")
    assert H.hex_ascii_lines(data[:3]) == "\n\t0x0000:  4142 43" + " " * 32 + "  ABC"
    assert H.ascii_text(b"GET /\r\nx\ty\x01") == "\nGET /\nx\ty."
    assert H.dump("x", data, 14) == H.hex_lines(data[14:])
    assert H.dump("xx", data, 14) == H.hex_lines(data)
    assert H.dump("X", data, 18) == ""


def test_console_plain(tmp_path, monkeypatch):
    p = tmp_path / "out.txt"
    with open(p, "w") as f:
        con = Console(f, color="auto")
        assert con.color is False
        con.write_line("IP 1.2.3.4.1 > 5.6.7.8.2: UDP, length 0")
        con.write_lines(["a", "b"])
    assert p.read_text() == "IP 1.2.3.4.1 > 5.6.7.8.2: UDP, length 0\na\nb\n"
    monkeypatch.setenv("NO_COLOR", "1")

    class Tty:
        def isatty(self):
            return True

    assert want_color(Tty(), "auto") is False
    assert want_color(Tty(), "never") is False
    monkeypatch.delenv("NO_COLOR")
    assert want_color(Tty(), "auto") is True
    assert protocol_of("IP a > b: Flags [S]") == "tcp"


def test_console_color_uses_rich(tmp_path):
    p = tmp_path / "out.txt"
    with open(p, "w") as f:
        con = Console(f, color="always")
        con.write_line("ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 46")
    assert "who-has" in p.read_text()


def test_record_object_and_invalid_headers():
    class Rec:
        data = b"\x45" + b"\0" * 19
        orig_len = 20
        ts_sec = 0
        ts_usec = 5

    r = Renderer(RenderOptions(timestamp="epoch"))
    assert r.render_record(Rec(), linktype=101).startswith("0.000005 IP ")
    assert r.render(b"", 0, 1, 0) == "[Invalid header: caplen==0, len==0]"
    assert r.render(b"abc", 2, 1, 0) == "[Invalid header: len(2) < caplen(3)]"


@needs_corpus
def test_speed_report(capsys):
    """Not a timing assertion: reports lines/s on the largest capture."""
    biggest = max(CORPUS.iterdir(), key=lambda p: p.stat().st_size)
    recs = read_capture(biggest)
    r = Renderer(RenderOptions(timestamp="none"))
    t0 = time.perf_counter()
    n = 0
    for _ in range(3):
        r.reset()
        for rec in recs:
            r.render(*rec)
            n += 1
    dt = time.perf_counter() - t0
    with capsys.disabled():
        print("\nrender speed on %s: %.0f packets/s" % (biggest.name, n / dt))


# ---------------------------------------------------------------------------
# --json


def _check_json_object(obj, truncated_ok=True):
    from pycap.render.jsonout import (LAYER_FIELDS, OPTIONAL_FIELDS, OPTIONAL_TOP_FIELDS,
                                      TOP_FIELDS)
    keys = list(obj)
    assert keys[:len(TOP_FIELDS)] == list(TOP_FIELDS), keys
    assert set(keys[len(TOP_FIELDS):]) <= set(OPTIONAL_TOP_FIELDS), keys
    assert isinstance(obj["layers"], list) and isinstance(obj["summary"], str)
    for i, layer in enumerate(obj["layers"]):
        name = layer["layer"]
        want = list(LAYER_FIELDS[name])
        got = list(layer)[1:]
        last = i == len(obj["layers"]) - 1
        if obj["truncated"] and last or "error" in obj:
            assert got == want[:len(got)] or got[:len(want)] == want, (name, got)
        else:
            assert got[:len(want)] == want, (name, got)
            assert set(got[len(want):]) <= set(OPTIONAL_FIELDS.get(name, ())), (name, got)


@needs_corpus
def test_json_every_corpus_packet():
    import json
    layers = set()
    for path in sorted(CORPUS.iterdir()):
        r = Renderer(RenderOptions(json=True))
        for i, rec in enumerate(read_capture(path)):
            line = r.render(*rec)
            assert "\n" not in line
            obj = json.loads(line)
            assert obj["n"] == i + 1 and obj["caplen"] == len(rec[0]) and obj["len"] == rec[1]
            assert obj["ts_ns"] == rec[3]
            assert "error" not in obj, (path.name, i, line)
            _check_json_object(obj)
            layers.update(layer["layer"] for layer in obj["layers"])
    assert {"eth", "ip", "ip6", "tcp", "udp", "arp", "icmp", "icmp6", "dns", "sll"} <= layers


def test_json_golden_tcp_syn():
    """The names are an interface: this object must not change by accident."""
    import json
    frame = _frame(6, 51000, 443, b"", flags=0x02, options=b"\x02\x04\x05\xb4\x01\x01\x04\x02")
    obj = json.loads(Renderer(RenderOptions(json=True)).render(frame, len(frame), 1,
                                                               1_700_000_000_123_456_789))
    assert obj == {
        "n": 1, "time": "2023-11-14T22:13:20.123456Z", "ts_ns": 1700000000123456789,
        "caplen": 62, "len": 62, "linktype": "EN10MB",
        "layers": [
            {"layer": "eth", "src": "66:77:88:99:aa:bb", "dst": "00:11:22:33:44:55", "type": 2048},
            {"layer": "ip", "version": 4, "hlen": 20, "tos": 0, "len": 48, "id": 1, "flags": "",
             "frag_offset": 0, "ttl": 64, "proto": 6, "checksum": 0, "src": "10.0.0.1",
             "dst": "10.0.0.2"},
            {"layer": "tcp", "sport": 51000, "dport": 443, "seq": 1000, "ack": 2000, "hlen": 28,
             "flags": "S", "win": 512, "checksum": 0, "urp": 0,
             "options": [{"kind": "mss", "value": 1460}, {"kind": "nop"}, {"kind": "nop"},
                         {"kind": "sackOK"}],
             "payload_len": 0}],
        "truncated": False,
        "summary": "IP 10.0.0.1.51000 > 10.0.0.2.443: Flags [S], seq 1000, win 512, "
                   "options [mss 1460,nop,nop,sackOK], length 0"}


def test_json_random_frames_never_raise():
    hyp = pytest.importorskip("hypothesis")
    import json
    st = hyp.strategies

    @hyp.settings(max_examples=300, deadline=None)
    @hyp.given(data=st.binary(min_size=1, max_size=200),
               lt=st.sampled_from([0, 1, 12, 101, 108, 113, 228, 229, 276, 999]),
               h=st.sampled_from([None, "x"]))
    def run(data, lt, h):
        obj = json.loads(Renderer(RenderOptions(json=True, hex=h)).render(data, len(data), lt, 0))
        _check_json_object(obj)

    run()


@needs_corpus
def test_json_through_the_cli(tmp_path):
    import json
    path = CORPUS / "dns_tcp.pcap"
    if not path.exists():
        path = sorted(CORPUS.iterdir())[0]
    res = subprocess.run([os.sys.executable, "-m", "pycap.cli", "-r", str(path), "-n", "--json",
                          "-#", "--color", "always"], capture_output=True, timeout=60, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.decode().splitlines()
    assert lines and all(json.loads(line)["n"] == i + 1 for i, line in enumerate(lines))
    assert "\x1b[" not in res.stdout.decode()


# ---------------------------------------------------------------------------
# -vv: scapy below the line for protocols pycap only names; never imported otherwise


@needs_corpus
def test_vv_adds_scapy_layers_for_named_protocols():
    pytest.importorskip("scapy")
    recs = read_capture(CORPUS / "DTP.pcap")           # DTP: named, not decoded
    vv = Renderer(RenderOptions(timestamp="none", verbose=2)).render(*recs[0])
    v = Renderer(RenderOptions(timestamp="none", verbose=1)).render(*recs[0])
    assert vv.startswith(v.split("\n")[0]) and "\n\t(scapy) " in vv
    assert "(scapy)" not in v


def _scapy_imported(code: str) -> bool:
    res = subprocess.run([os.sys.executable, "-c", code + "\nimport sys\nprint('scapy' in sys.modules)"],
                         capture_output=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    return res.stdout.decode().strip().splitlines()[-1] == "True"


@needs_corpus
def test_scapy_not_imported_without_vv(tmp_path):
    corpus = str(CORPUS)
    assert not _scapy_imported(
        "import os, sys\nsys.path.insert(0, 'tests')\nfrom test_render import read_capture\n"
        "from pathlib import Path\nfrom pycap.render import Renderer, RenderOptions\n"
        f"for p in sorted(Path({corpus!r}).iterdir()):\n"
        "    for v in (0, 1):\n"
        "        r = Renderer(RenderOptions(verbose=v, hex='x'))\n"
        "        [r.render(*rec) for rec in read_capture(p)]")
    out = tmp_path / "o.pcap"
    assert not _scapy_imported(
        "import sys\nfrom pycap import cli\n"
        f"sys.stdout = open('/dev/null', 'w')\ncli.main(['-r', {str(CORPUS / 'LLDP_and_CDP.pcap')!r}, "
        f"'-w', {str(out)!r}, '-vv'])\nsys.stdout = sys.__stdout__")
    assert out.stat().st_size > 24


# ---------------------------------------------------------------------------
# the console: colours per field, NO_COLOR and pipes, a status line that never tears lines

_LINES = [
    "12:00:00.000001 IP 10.0.0.1.443 > 10.0.0.2.51000: Flags [S.], seq 1, ack 2, win 512, length 0",
    "12:00:00.000002 IP6 fe80::1 > ff02::1: ICMP6, neighbor solicitation, who has fe80::2, length 32",
    "12:00:00.000003 ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 46",
    "12:00:00.000004 IP 10.0.0.1.53 > 10.0.0.2.5353: 1234 A? example.com. (29)\n\tsecond line",
]


class _Tty:
    def __init__(self):
        self.parts = []
        self.lock = __import__("threading").Lock()

    def write(self, s):
        with self.lock:
            self.parts.append(s)
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return True

    def getvalue(self):
        return "".join(self.parts)


def _screen(output: str):
    """(lines scrolled up, the line the cursor is on) after a terminal ran ``output``."""
    done, cur = [], ""
    for piece in re.split(r"(\r\x1b\[2K|\n)", output):
        if piece == "\n":
            done.append(cur)
            cur = ""
        elif piece == "\r\x1b[2K":
            cur = ""
        else:
            cur += piece
    return done, cur


def test_console_color_always_paints_fields(tmp_path):
    p = tmp_path / "out.txt"
    with open(p, "w") as f:
        con = Console(f, color="always")
        assert con.color and not con.status       # a file: no status line
        for line in _LINES:
            con.write_line(line)
    out = p.read_text()
    assert strip_ansi(out) == "\n".join(_LINES) + "\n"
    first = out.splitlines()[0]
    assert first.count("\x1b[") >= 8               # time, protocol, two addresses, flags, length
    assert "\x1b[1m10.0.0.1.443\x1b[0m" in first and "Flags [S.]\x1b[0m" in first
    assert "\x1b[1mff02::1\x1b[0m:" in out        # the colon after an IPv6 address is not painted


def test_console_no_color_and_pipes(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    tty = _Tty()
    con = Console(tty, color="auto")
    assert not con.color and con.status
    con.write_line(_LINES[0])
    con.close()
    done, cur = _screen(tty.getvalue())
    assert done == [_LINES[0]] and cur == "" and "\x1b[3" not in tty.getvalue()
    monkeypatch.delenv("NO_COLOR")
    r, w = os.pipe()
    with os.fdopen(w, "w") as pipe:
        con = Console(pipe, color="auto")
        assert not con.color and not con.status
        assert con.write_line == con._write_plain   # nothing but write() per line
        con.write_line(_LINES[0])
    with os.fdopen(r) as rd:
        assert rd.read() == _LINES[0] + "\n"


def test_console_status_line_never_tears(monkeypatch):
    from pycap.render import console as C
    monkeypatch.setattr(C, "STATUS_INTERVAL_S", 0.002)
    tty = _Tty()
    con = Console(tty, color="auto")
    assert con.color and con.status
    con.set_counts(dropped=0)
    lines = [_LINES[i % len(_LINES)] for i in range(300)]
    for i, line in enumerate(lines):
        con.write_line(line)
        if i % 50 == 0:
            time.sleep(0.01)                       # let the refresh thread draw meanwhile
    out = tty.getvalue()
    done, cur = _screen(out)
    assert [strip_ansi(x) for x in done] == "\n".join(lines).split("\n")
    assert strip_ansi(cur).startswith(" pycap: 300 packets, 0 dropped, ")
    con.close()
    done, cur = _screen(tty.getvalue())
    assert cur == ""                               # flush/close take the status line away


def test_cli_color_on_a_terminal(tmp_path):
    """Through the CLI on a pseudo-terminal: colours and status with auto, none with NO_COLOR."""
    import pty
    import select
    path = CORPUS / "dns_tcp.pcap" if CORPUS is not None else None
    if path is None or not path.exists():
        pytest.skip("no corpus capture")

    def run(env_extra, *flags):
        master, slave = pty.openpty()
        env = dict(os.environ, TERM="xterm", TZ="UTC", **env_extra)
        env.pop("NO_COLOR", None) if "NO_COLOR" not in env_extra else None
        proc = subprocess.Popen([os.sys.executable, "-m", "pycap.cli", "-r", str(path), "-n", *flags],
                                stdout=slave, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
        os.close(slave)
        chunks = []
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=30)
        os.close(master)
        return b"".join(chunks).decode().replace("\r\n", "\n")

    want = [line for line in subprocess.run(
        [os.sys.executable, "-m", "pycap.cli", "-r", str(path), "-n"], capture_output=True,
        cwd=ROOT, env=dict(os.environ, TZ="UTC")).stdout.decode().splitlines()]
    out = run({})
    done, cur = _screen(out)
    assert "\x1b[1m" in out and [strip_ansi(x) for x in done] == want and cur == ""
    out = run({"NO_COLOR": "1"})
    done, cur = _screen(out)
    assert "\x1b[1m" not in out and done == want
    out = run({}, "--color", "never")
    assert "\x1b[1m" not in out


def _dhcp_frame(options: bytes, cookie: bytes = b"\x63\x82\x53\x63", op: int = 1, htype: int = 1,
                hlen: int = 6, flags: int = 0, sname: bytes = b"", file: bytes = b"") -> bytes:
    """A raw IPv4/UDP BOOTP message with every header field set."""
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", op, htype, hlen, 2, 0x1234, 5, flags,
                        bytes([1] * 4), bytes([2] * 4), bytes([3] * 4), bytes([4] * 4),
                        bytes.fromhex("001122334455") + bytes(10), sname, file)
    payload = bootp + cookie + options
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                       bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + udp


@needs_tcpdump
@pytest.mark.parametrize("verbose", [1, 2, 3])
def test_dhcp_options_as_tcpdump_prints_them(tmp_path, verbose):
    """BOOTP/DHCP with -v…-vvv: every option number with the same six bytes
    (the format tcpdump gives each: addresses, 32- and 16-bit numbers,
    bytes, text, booleans, its special cases and their errors), the DHCP
    message types, the parameter list, PAD and END, sname and file, CMU
    and unknown vendor areas, a truncated option."""
    special = {0, 53, 55, 126, 127, 255}
    frames = [_dhcp_frame(b"".join(bytes([t, len(value)]) + value for t in range(1, 255)
                                   if t not in special) + b"\xff")
              for value in (bytes([1, 2, 3, 4, 5, 6]), bytes([0xFF, 0xFF, 0xFF, 0xFE, 0, 0]),
                            bytes([0, 0x41, 0x42, 0, 0, 1]), bytes([24, 10, 1, 2, 9, 9]))]
    frames.append(_dhcp_frame(b"".join(bytes([53, 1, t]) for t in range(20)) + b"\0\0\0"
                              + bytes([55, 6, 1, 119, 3, 250, 6, 121]) + b"\xff",
                              flags=0x8000, sname=b"srv", file=b"boot.img"))
    frames += [_dhcp_frame(b"\xff" + bytes(40), cookie=b"CMU\0", op=2, htype=6, hlen=8),
               _dhcp_frame(b"", cookie=b"\x01\x02\x03\x04"), _dhcp_frame(bytes([1, 8]) + bytes(4))]
    path = tmp_path / "dhcp.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101) + b"".join(
        struct.pack("<IIII", i, 0, len(f), len(f)) + f for i, f in enumerate(frames)))
    want = tcpdump_packets(str(path), ("-t", "-" + "v" * verbose))
    got = render_file(path, RenderOptions(timestamp="none", verbose=verbose))
    assert len(want) == len(frames)
    for i, (w, g) in enumerate(zip(want, got)):
        assert g == w, (i, [(a, b) for a, b in zip(w.split("\n"), g.split("\n")) if a != b][:3])
