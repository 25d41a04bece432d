"""Application printers that tcpdump 4.99's tcp_print() and udp_print() hand
payloads to: telnet option negotiation (print-telnet.c) and NFS calls and
replies (print-nfs.c, with nfsfh.c's reading of file handles).

Same conventions as ``_dissect`` (which imports this module at its end and
hooks these printers into its port table): append to ``c.o``, read with the
bounds-checked accessors, raise ``Trunc`` where tcpdump would longjmp.
"""

from __future__ import annotations

from . import _dissect as D

g8, g32 = D.g8, D.g32
U32 = D.U32

# --------------------------------------------------------------------------
# telnet (print-telnet.c): the commands at the start of a segment, summarised
# as " [telnet DO ECHO, SB TERMINAL TYPE SEND SE]"

IAC, SB, SE = 255, 250, 240
_DONT, _DO, _WONT, _WILL = 254, 253, 252, 251
_TELCMD_FIRST = 236
_TELCMDS = ("EOF", "SUSP", "ABORT", "EOR", "SE", "NOP", "DMARK", "BRK", "IP", "AO", "AYT",
            "EC", "EL", "GA", "SB", "WILL", "WONT", "DO", "DONT", "IAC")
_TELOPTS = (
    "BINARY", "ECHO", "RCP", "SUPPRESS GO AHEAD", "NAME", "STATUS", "TIMING MARK", "RCTE",
    "NAOL", "NAOP", "NAOCRD", "NAOHTS", "NAOHTD", "NAOFFD", "NAOVTS", "NAOVTD", "NAOLFD",
    "EXTEND ASCII", "LOGOUT", "BYTE MACRO", "DATA ENTRY TERMINAL", "SUPDUP", "SUPDUP OUTPUT",
    "SEND LOCATION", "TERMINAL TYPE", "END OF RECORD", "TACACS UID", "OUTPUT MARKING",
    "TTYLOC", "3270 REGIME", "X.3 PAD", "NAWS", "TSPEED", "LFLOW", "LINEMODE", "XDISPLOC",
    "OLD-ENVIRON", "AUTHENTICATION", "ENCRYPT", "NEW-ENVIRON")
# the tables naming the first bytes of a subnegotiation, by option
_SB_QUALIFIERS = ("IS", "SEND", "INFO")
_SB_NAMES = {
    37: (("IS", "SEND", "REPLY", "NAME"),
         ("NULL", "KERBEROS_V4", "KERBEROS_V5", "SPX", "MINK", "SRP", "RSA", "SSL", None, None,
          "LOKI", "SSA", "KEA_SJ", "KEA_SJ_INTEG", "DSS", "NTLM")),
    38: (("IS", "SUPPORT", "REPLY", "START", "END", "REQUEST-START", "REQUEST-END",
          "END_KEYID", "DEC_KEYID"),
         ("NULL", "DES_CFB64", "DES_OFB64", "DES3_CFB64", "DES3_OFB64", None,
          "CAST5_40_CFB64", "CAST5_40_OFB64", "CAST128_CFB64", "CAST128_OFB64")),
}


def _numstr(x):
    """C's "%#x": no prefix for zero."""
    return "0x%x" % x if x else "0"


_SPACED_NUMSTR = tuple(" " + _numstr(x) for x in range(256))     # a byte, as " %#x"


def _str_or_id(x, table):
    name = table[x] if x < len(table) else None
    return name if name is not None else _numstr(x)


class _PacketEnd(Exception):
    """telnet_parse()'s "goto pktend": the command is not complete."""


def _command_byte(c, q, limit, stop):
    """The byte at q of a telnet command ending at limit: _PacketEnd past
    it, Trunc (g8) inside it but past the captured bytes."""
    if q >= limit:
        raise _PacketEnd
    return c.d[q] if q < stop else g8(c, q)


def _telnet_parse(c, sp, length, out):
    """telnet_parse(): the length of the command at sp (an IAC), or -1 if it
    is not complete; its text is appended to ``out``.  A byte past the
    command's ``length`` ends it ("goto pktend"); one inside it but past the
    captured bytes raises Trunc, as g8 does."""
    d, osp, limit = c.d, sp, sp + length
    stop = min(limit, c.end)        # bytes below this are there and in the command
    if sp + 3 <= stop:              # IAC, the command and an option byte: all there
        if d[sp] != IAC:
            return -1
        cmd, opt = d[sp + 1], d[sp + 2]
    else:
        try:
            if _command_byte(c, sp, limit, stop) != IAC:
                return -1
            cmd = _command_byte(c, sp + 1, limit, stop)
            opt = None              # read below if the command has one
        except _PacketEnd:
            return -1
    sp += 2
    if cmd == IAC:
        out.append("IAC IAC")
        return 2
    i = cmd - _TELCMD_FIRST
    if i < 0:
        return -1
    if cmd not in (_DONT, _DO, _WONT, _WILL, SB):
        out.append(_TELCMDS[i])
        return 2
    if opt is None:
        try:
            opt = _command_byte(c, sp, limit, stop)
        except _PacketEnd:
            return -1
    sp += 1
    out.append("%s %s" % (_TELCMDS[i], _TELOPTS[opt] if opt < len(_TELOPTS) else _numstr(opt)))
    if cmd != SB:
        return 3
    # IAC SB <option> ... IAC SE: the first IAC SE of the command
    p = bytes(d[sp:stop]).find(b"\xff\xf0")
    p = sp + p if p >= 0 else -1
    if p < 0:
        if limit > c.end:           # the search runs into the end of the capture
            g8(c, c.end)
        p = max(sp, limit - 1)
    if g8(c, p) != IAC:
        return -1
    for table in _SB_NAMES.get(opt, (_SB_QUALIFIERS,)):
        if p <= sp:
            break
        out.append(" " + _str_or_id(d[sp], table))
        sp += 1
    out.append("".join(map(_SPACED_NUMSTR.__getitem__, d[sp:p])))
    out.append(" SE")
    return p + 2 - osp


def telnet_print(c, sp, length):
    """telnet_print(), without the -X -vvv hex layout."""
    c.proto = "telnet"
    first = True
    while length > 0 and g8(c, sp) == IAC:
        text: list = []
        n = _telnet_parse(c, sp, length, text)
        if n < 0:
            break
        c.o.append(" [telnet " if first else ", ")
        c.o.extend(text)
        first = False
        sp += n
        length = (length - n) & U32     # tcpdump's u_int: a command may overrun it by one
    if not first:
        c.o.append("]")


# --------------------------------------------------------------------------
# NFS over Sun RPC (print-nfs.c): what follows "NFS request xid N " and
# "NFS reply xid N ".  pycap decodes the WRITE call (every verbosity) and its
# NFSv3 reply (the default verbosity); for the rest the line stops after the
# xid.  Calls are remembered, as tcpdump's xid map does, so that a reply can
# be decoded as the procedure it answers.

_NFS_VER3 = 3
_NFSPROC_WRITE = 7                   # NFSv3 numbering; NFSv2's WRITE is 8
_NFSV2_WRITE = 8
_XID_MAP_SIZE = 64
_XID_MAP = "nfs xid map"             # its key in the per-file state (c.tcp)
_WRITE_MODES = {0: "unstable", 1: "datasync", 2: "filesync"}
_RPC_ACCEPT_STATS = {1: "PROG_UNAVAIL", 2: "PROG_MISMATCH", 3: "PROC_UNAVAIL", 4: "GARBAGE_ARGS",
                     5: "SYSTEM_ERR"}
_NFS_STATUS = {
    1: "Operation not permitted", 2: "No such file or directory", 5: "Input/output error",
    6: "Device not configured", 11: "Resource deadlock avoided", 12: "Cannot allocate memory",
    13: "Permission denied", 17: "File exists", 18: "Cross-device link",
    19: "Operation not supported by device", 20: "Not a directory", 21: "Is a directory",
    22: "Invalid argument", 26: "Text file busy", 27: "File too large",
    28: "No space left on device", 30: "Read-only file system", 31: "Too many links",
    45: "Operation not supported", 62: "Too many levels of symbolic links",
    63: "File name too long", 66: "Directory not empty", 69: "Disc quota exceeded",
    70: "Stale NFS file handle", 71: "Too many levels of remote in path",
    99: "Write cache flushed to disk", 10001: "Illegal NFS file handle",
    10002: "Update synchronization mismatch", 10003: "READDIR/READDIRPLUS cookie is stale",
    10004: "Operation not supported", 10005: "Buffer or request is too small",
    10006: "Unspecified error on server", 10007: "Object of that type not supported",
    10008: "Request couldn't be completed in time",
}


def _g64(c, o):
    return (g32(c, o) << 32) | g32(c, o + 4)


class _XidMap:
    """tcpdump's xid map: a ring of the last 64 calls, searched from where the
    last search matched (so a reused xid finds the call tcpdump finds)."""

    __slots__ = ("calls", "next", "hint")

    def __init__(self):
        self.calls = [None] * _XID_MAP_SIZE     # (xid, client, server, proc, vers)
        self.next = 0
        self.hint = 0

    def enter(self, xid, client, server, proc, vers):
        self.calls[self.next] = (xid, client, server, proc, vers)
        self.next = (self.next + 1) % _XID_MAP_SIZE

    def find(self, xid, server, client):
        """(proc, vers) of the call a reply from server to client answers, or None."""
        i = self.hint
        while True:
            call = self.calls[i]
            if call is not None and call[:3] == (xid, client, server):
                self.hint = i
                return call[3:]
            i = (i + 1) % _XID_MAP_SIZE
            if i == self.hint:
                return None


def _is_write(proc, vers):
    return proc == (_NFSPROC_WRITE if vers == _NFS_VER3 else _NFSV2_WRITE)


def nfsreq_print(c, rp, length):
    """nfsreq_noaddr_print() for a WRITE call; other calls are only remembered."""
    if not D.tt(c, rp + 20, 4):
        return
    vers, proc = g32(c, rp + 16), g32(c, rp + 20)
    if c.ipaddrs is not None:
        D.run_state(c, _XID_MAP, _XidMap).enter(g32(c, rp), *c.ipaddrs, proc, vers)
    if not _is_write(proc, vers):
        return
    c.proto = "nfs"
    c.o.append("%u write" % length)
    dp = _parsereq(c, rp, length)
    if dp is not None:
        dp = _parsefh(c, dp, vers == _NFS_VER3)
    if dp is None:
        D.trunc(c)
    elif vers == _NFS_VER3:
        c.o.append(" %u (%u) bytes @ %u" % (g32(c, dp + 16), g32(c, dp + 8), _g64(c, dp)))
        if c.v:
            mode = g32(c, dp + 12)
            c.o.append(" <%s>" % _WRITE_MODES.get(mode, "#%d" % mode))
    else:
        c.o.append(" %u (%u) bytes @ %u (%u)" % (g32(c, dp + 12), g32(c, dp + 8),
                                                  g32(c, dp + 4), g32(c, dp)))


def nfsreply_print(c, rp, length):
    """nfsreply_noaddr_print() for an accepted reply to a call not seen, or to
    an NFSv3 WRITE call at the default verbosity; other replies are left alone."""
    if c.ipaddrs is None or not D.tt(c, rp + 8, 4) or g32(c, rp + 8) != 0:
        return
    call = D.run_state(c, _XID_MAP, _XidMap).find(g32(c, rp), *c.ipaddrs)
    if call is None:
        c.proto = "nfs"
        c.o.append("reply ok %u" % length)
        return
    if c.v or call != (_NFSPROC_WRITE, _NFS_VER3):
        return
    c.proto = "nfs"
    c.o.append("reply ok %u write" % length)
    dp = _parserep(c, rp, length)
    if dp is None:
        return
    status = g32(c, dp)
    if status and not c.q:
        c.o.append(" ERROR: %s" % _NFS_STATUS.get(status, "unk %u" % status))
    if _skip_wcc_data(c, dp + 4) is None and not status:
        D.trunc(c)


def _parsereq(c, rp, length):
    """parsereq(): the offset of the call's arguments past the credentials and
    the verifier, or None (with "(invalid)" printed for a bad length)."""
    dp = rp + 24
    for what, last in (("credentials", False), ("verifier", True)):
        if length < 8:
            return None
        n = g32(c, dp + 4)
        if n > length:
            c.o.append(" [%s length %u > %u] (invalid)" % (what, n, length))
            return None
        rounded = (n + 3) & ~3
        if not D.tt(c, dp + 8, rounded):
            return None
        if 8 + rounded > length or (last and 8 + rounded == length):
            return None
        dp += 8 + rounded
        length -= 8 + rounded
    return dp


def _parsefh(c, dp, v3):
    """parsefh(): print the file handle at dp; the offset past it, or None."""
    if v3:
        words = g32(c, dp) // 4
        dp += 4
    else:
        words = 8
    if not D.tt(c, dp, words * 4):
        return None
    _nfs_printfh(c, dp, words)
    return dp + words * 4


def _parserep(c, rp, length):
    """parserep(): the offset of the results of an accepted reply, or None
    (with the accept status printed if it is not SUCCESS)."""
    dp = rp + 12
    n = g32(c, dp + 4)
    if n >= length:
        D.trunc(c)
        return None
    dp += (n + 11) // 4 * 4
    astat = g32(c, dp)
    if astat:
        c.o.append(" %s" % _RPC_ACCEPT_STATS.get(astat, "ar_stat %u" % astat))
        return None
    D.need(c, dp, 4)
    return dp + 4


def _skip_wcc_data(c, dp):
    """parse_wcc_data() without -v: nothing printed; the offset past it, or None."""
    if g32(c, dp):
        if not D.tt(c, dp + 4, 24):
            return None
        dp += 24
    dp += 4
    if g32(c, dp):
        dp += 84
    return dp + 4


# ---- file handles (nfs_printfh(), nfsfh.c's Parse_fh())

def _fh_type(c, fh, words):
    """Parse_fh()'s guess, from the handle's bytes, at the server OS that made it."""
    b = c.d[fh:fh + words * 4]
    if words < 4:
        return "unknown"
    if b[0] == 0 and b[1] == 0:
        if b[2] == 0 and b[3] == 0:
            return "auspex"
        if b[4] != 0 and b[5] == 0 and b[8] == 12 and b[9] == 0:
            return "decosf"
        if b[4] == 0 and b[5] == 8 and b[6] == 0 and b[7] == 0:
            return "irix4"
        return "sunos4"
    if b[2] == 0 and b[3] == 0:
        if b[6] == 0 and b[7] == 0:
            return "bsd44"
        if words >= 6 and b[21] == 0 and b[23] == 0:
            return "ultrix"
        return "sunos5" if b[9] == 10 else "unknown"
    if b[8] == 12 and b[9] == 0:
        return "decosf"
    if b[8] == 0 and b[9] == 10:
        return "hpux9" if b[4:8] == b"\0\0\0\0" else "sunos5"
    return "vmsucx" if _is_ucx(b, words) else "unknown"


def _is_ucx(b, words):
    """is_UCX(): a code byte, printable characters, then NULs."""
    if words < 7:
        return False
    seen_nul = False
    for ch in b[1:14]:
        if 0x20 <= ch < 0x7F:
            if seen_nul:
                return False
        elif ch == 0:
            seen_nul = True
        else:
            return False
    return True


def _be(b):
    return int.from_bytes(b, "big")


def _le(b):
    return int.from_bytes(b, "little")


# (major, minor, inode) of a handle, by the OS guessed
_FH_FIELDS = {
    "auspex": lambda b: (b[6], b[7], _be(b[12:16])),
    "bsd44": lambda b: (b[1], b[0], _le(b[12:16])),
    "decosf": lambda b: ((_le(b[0:4]) >> 20) & 0xFFF, _le(b[0:4]) & 0xFFFFF, _le(b[12:16])),
    "irix4": lambda b: (b[2], b[3], _be(b[8:12])),
    "sunos4": lambda b: (b[2], b[3], _be(b[12:16])),
    "sunos5": lambda b: ((_be(b[0:2]) >> 2) & 0x3FFF, _be(b[1:4]) & 0x3FFFF, _be(b[12:16])),
    "ultrix": lambda b: (b[1], b[0], _le(b[4:8])),
    "hpux9": lambda b: (b[0], _be(b[1:4]), _be(b[12:16])),
}


def _nfs_printfh(c, fh, words):
    """nfs_printfh(): " fh MAJOR,MINOR/INODE", the file system's name for VMS
    handles, the bytes in hex for a handle of no known layout; with -u the
    handle's 32-bit words in hex."""
    if c.u:
        c.o.append(" fh[%s]" % ":".join("%x" % g32(c, fh + 4 * i) for i in range(words)))
        return
    b = c.d[fh:fh + words * 4]
    kind = _fh_type(c, fh, words)
    if kind == "unknown":
        c.o.append(" fh Unknown/%s" % b[:32].hex().upper())
    elif kind == "vmsucx":
        name = b[1:1 + min(words, 64)].split(b"\0", 1)[0].split(b" ", 1)[0]
        inode = (b[26] << 24) | (b[27] << 16) | (b[23] << 8) | b[22]
        c.o.append(" fh %s/%u" % (D.fn_print_bytes(name), inode))
    else:
        major, minor, inode = _FH_FIELDS[kind](b)
        c.o.append(" fh %u,%u/%u" % (major, minor, inode))
