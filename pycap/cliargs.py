"""pycap's options, read the way tcpdump reads its own: GNU ``getopt_long``.

One table, :data:`OPTIONS`, says everything about an option: its letters,
where its value goes, the metavariable and help text, what values it takes
and tcpdump's message when the value is wrong.  :func:`parse` reads a
command line with it as ``getopt_long`` does under tcpdump:

* short options cluster (``-nnvX``) and take their value attached or as
  the next word (``-c5``, ``-c 5``); long ones take ``--name=value`` or
  ``--name value``, and an unambiguous prefix of the name will do;
* words that are not options are the expression, wherever they stand:
  ``pycap -i eth0 port 53 -nn`` is ``-i eth0 -nn 'port 53'``; ``--`` ends
  the options (a word like ``-1`` is never an option: pycap has no digit
  letters, and such a word can only belong to the expression);
* the values of ``-c``, ``-s``, ``-B``, ``-C``, ``-G``, ``-W``, ``-Q`` and
  ``--time-stamp-precision`` are checked with tcpdump's words.

:func:`help_parser` builds an ``argparse`` parser from the same table for
``-h``; argparse is not imported otherwise (its import and the building
of a parser cost about 4 ms of every start).
"""

from __future__ import annotations

from pycap.errors import UsageError
from pycap.frozen import frozen

FLAG, COUNT, VALUE, APPEND = "flag", "count", "value", "append"


@frozen
class Option:
    short: str | None            # the letter, or None
    long: str | None             # the name after --, or None
    dest: str
    kind: str                    # FLAG, COUNT, VALUE or APPEND
    help: str = ""
    metavar: str | None = None
    default: object = None
    choices: tuple | None = None
    integer: bool = False        # a C integer, read as tcpdump reads it
    bad: str | None = None       # tcpdump's message for a bad value ({} is the value)


def _opt(short, long, dest, kind, help="", **kw) -> Option:
    return Option(short, long, dest, kind, help, **kw)


OPTIONS: tuple[Option, ...] = (
    _opt("h", "help", "help", FLAG, "show this help and exit"),
    _opt(None, "version", "version", FLAG, "print the version and exit"),
    _opt("i", "interface", "interface", APPEND,
         "capture on IFACE ('any': every interface); repeatable (pcapng output)", metavar="IFACE"),
    _opt("r", None, "read", APPEND,
         "read packets from a pcap/pcapng file (- for stdin); repeatable", metavar="FILE"),
    _opt("V", None, "read_list", VALUE, "read the savefiles named in LIST, one per line",
         metavar="LIST"),
    _opt("w", None, "write", VALUE, "write packets to FILE (- for stdout)", metavar="FILE"),
    _opt(None, "pcapng", "pcapng", FLAG, "write pcapng instead of pcap"),
    _opt(None, "print", "print_", FLAG, "print packets even when writing with -w"),
    _opt("c", None, "count", VALUE, "stop after N packets", metavar="N", integer=True,
         bad="invalid packet count {}"),
    _opt("s", "snapshot-length", "snaplen", VALUE, "snapshot length, enforced in the kernel (0 = 262144)",
         metavar="N", integer=True, bad="invalid snaplen {}"),
    _opt("n", None, "numeric", COUNT, "don't convert addresses or ports to names", default=0),
    _opt("N", None, "no_domain", FLAG, "print host names without their domain"),
    _opt("u", None, "raw_nfs_handles", FLAG, "print NFS file handles undecoded"),
    _opt("M", None, "tcp_md5_secret", VALUE, "check TCP-MD5 signatures (RFC 2385) with SECRET",
         metavar="SECRET"),
    _opt("f", None, "foreign", FLAG,
         "print IPv4 addresses outside the capture interface's network as numbers"),
    _opt("d", None, "dump", COUNT,
         "print the compiled eBPF program (-dd: C array, -ddd: decimal) and exit", default=0),
    _opt(None, "dump-c", "dump_c", FLAG,
         "print the filter as C for BCC or libbpf and exit (also: -d c)"),
    _opt(None, "backend", "backend", VALUE,
         "compile the filter with pycap's own eBPF code generator (default) or as C with BCC",
         choices=("pycap", "bcc"), default="pycap", bad="unknown backend {}"),
    _opt(None, "explain", "explain", FLAG,
         "show the expression as parsed, its IR, its decision graph and its eBPF, then exit"),
    _opt("y", "linktype", "linktype", VALUE,
         "link type for -d without an interface (EN10MB, LINUX_SLL, LINUX_SLL2, RAW)",
         metavar="LINKTYPE"),
    _opt("D", "list-interfaces", "list_interfaces", FLAG, "list interfaces"),
    _opt("L", "list-data-link-types", "list_linktypes", FLAG,
         "list the link types pycap can capture on the interface"),
    _opt("j", "time-stamp-type", "tstamp_type", VALUE,
         "time stamps from the host (default) or the adapter (adapter, adapter_unsynced)",
         metavar="TYPE"),
    _opt("J", "list-time-stamp-types", "list_tstamp_types", FLAG,
         "list the time stamp types of the interface"),
    _opt("p", "no-promiscuous-mode", "no_promisc", FLAG, "don't use promiscuous mode"),
    _opt("I", "monitor-mode", "monitor", FLAG,
         "monitor mode (802.11 devices only; pycap refuses, see pycap(1))"),
    _opt("Q", "direction", "direction", VALUE, "direction of packets to capture",
         choices=("in", "out", "inout"), default="inout", bad="unknown capture direction `{}'"),
    _opt("B", "buffer-size", "buffer_kib", VALUE, "kernel ring size in KiB (default 8192)", metavar="KIB",
         integer=True, bad="invalid packet buffer size {}"),
    _opt("C", None, "file_size", VALUE,
         "with -w: start a new file when the current one exceeds SIZE millions of bytes "
         "(k/m/g suffix: KiB/MiB/GiB)", metavar="SIZE"),
    _opt("G", None, "rotate_seconds", VALUE,
         "with -w: start a new file every SECONDS (the name may hold strftime conversions)",
         metavar="SECONDS", integer=True, bad="invalid number of seconds {}"),
    _opt("W", None, "max_files", VALUE,
         "with -C: reuse COUNT file names; with -G alone: stop after COUNT files",
         metavar="COUNT", integer=True, bad="invalid number of output files {}"),
    _opt("z", None, "post_rotate", VALUE, "run COMMAND FILE on each file closed by -C/-G rotation",
         metavar="COMMAND"),
    _opt("Z", "relinquish-privileges", "user", VALUE, "switch to USER once the capture and output file are open",
         metavar="USER"),
    _opt(None, "immediate-mode", "immediate_mode", FLAG, "deliver packets at once"),
    _opt("U", None, "packet_buffered", FLAG, "flush output after every packet"),
    _opt("l", None, "line_buffered", FLAG, "flush standard output after every line"),
    _opt(None, "count", "count_only", FLAG,
         "print only the number of packets read (with -r), not the packets"),
    _opt("K", "dont-verify-checksums", "no_checksums", FLAG,
         "don't verify IP, TCP and UDP checksums (-v prints them otherwise)"),
    _opt("S", "absolute-tcp-sequence-numbers", "absolute_seq", FLAG,
         "print absolute TCP sequence numbers, not relative ones"),
    _opt("O", "no-optimize", "no_optimize", FLAG,
         "don't optimize the filter: its tests run in the written order, as tcpdump -O's"),
    _opt("t", None, "tstamp", COUNT,
         "-t none, -tt epoch, -ttt delta, -tttt date, -ttttt since first", default=0),
    _opt("e", None, "link_header", FLAG, "print link-level headers"),
    _opt("q", None, "quiet", FLAG, "quieter output"),
    _opt("v", None, "verbose", COUNT, "more detail (-vv, -vvv)", default=0),
    _opt("x", None, "hex", COUNT, "hex dump (-xx with link header)", default=0),
    _opt("X", None, "hexascii", COUNT, "hex and ASCII dump (-XX with link header)", default=0),
    _opt("A", None, "ascii", COUNT, "ASCII dump", default=0),
    _opt("#", "number", "number", FLAG, "number the packets"),
    _opt(None, "time-stamp-precision", "time_stamp_precision", VALUE,
         choices=("micro", "nano"), default="micro", bad="unsupported time stamp precision"),
    _opt(None, "micro", "micro", FLAG, "microsecond time stamps (--time-stamp-precision=micro)"),
    _opt(None, "nano", "nano", FLAG, "nanosecond time stamps (--time-stamp-precision=nano)"),
    _opt(None, "color", "color", VALUE, choices=("auto", "always", "never"), default="auto",
         bad="unknown --color value {}"),
    _opt(None, "json", "json", FLAG, "print one JSON object per packet (fields: see pycap(1))"),
    _opt("F", None, "filter_file", VALUE, "read the expression from FILE", metavar="FILE"),
)
EXPRESSION_HELP = "pcap-filter(7) expression"

_SHORT = {o.short: o for o in OPTIONS if o.short}
_LONG = {o.long: o for o in OPTIONS if o.long}


class Args:
    """The options read: one attribute per :attr:`Option.dest`, and
    ``expression``, the list of words that were not options."""

    def __init__(self) -> None:
        for o in OPTIONS:
            setattr(self, o.dest, 0 if o.kind == COUNT else False if o.kind == FLAG
                    else o.default)
        self.expression: list[str] = []

    def __repr__(self) -> str:
        return f"Args({vars(self)!r})"


def c_integer(text: str) -> int | None:
    """``strtol(text, &end, 0)`` that must use all of ``text``: decimal,
    ``0x`` hex or ``0`` octal, a sign, leading blanks; None if not that."""
    s = text.lstrip(" \t\n\r\f\v")
    sign = -1 if s[:1] == "-" else 1
    if s[:1] in "+-" and s:
        s = s[1:]
    try:
        if s[:2].lower() == "0x":
            return sign * int(s[2:], 16) if s[2:3].isalnum() else None
        if len(s) > 1 and s[0] == "0":
            return sign * int(s, 8)
        return sign * int(s, 10) if s.isdigit() else None
    except ValueError:
        return None


def _value(option: Option, text: str) -> object:
    if option.choices is not None and text not in option.choices:
        raise UsageError(option.bad.format(text))
    if option.integer:
        number = c_integer(text)
        if number is None:
            raise UsageError(option.bad.format(text))
        return number
    return text


def _set(args: Args, option: Option, value: str | None) -> None:
    if option.kind == FLAG:
        setattr(args, option.dest, True)
    elif option.kind == COUNT:
        setattr(args, option.dest, getattr(args, option.dest) + 1)
    elif option.kind == APPEND:
        current = getattr(args, option.dest)
        setattr(args, option.dest, [*(current or []), _value(option, value)])
    else:
        setattr(args, option.dest, _value(option, value))


def _long(name: str) -> Option:
    if name in _LONG:
        return _LONG[name]
    matches = [o for n, o in _LONG.items() if n.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(f"option '--{name}' is ambiguous; possibilities: "
                         + " ".join(f"'--{o.long}'" for o in matches))
    raise UsageError(f"unrecognized option '--{name}'")


def parse(argv: list[str]) -> Args:
    """Read ``argv`` (without the program name) as tcpdump's getopt_long does."""
    args = Args()
    words = iter(argv)

    def next_word(missing: str) -> str:
        word = next(words, None)
        if word is None:
            raise UsageError(missing)
        return word

    for word in words:
        if word == "--":
            args.expression += words
            break
        if word.startswith("--"):
            name, eq, attached = word[2:].partition("=")
            option = _long(name)
            if option.kind in (FLAG, COUNT):
                if eq:
                    raise UsageError(f"option '--{option.long}' doesn't allow an argument")
                _set(args, option, None)
            else:
                _set(args, option, attached if eq else
                     next_word(f"option '--{option.long}' requires an argument"))
        elif word.startswith("-") and len(word) > 1 and not word[1].isdigit():
            for at, letter in enumerate(word[1:], 1):
                option = _SHORT.get(letter)
                if option is None:
                    raise UsageError(f"invalid option -- '{letter}'")
                if option.kind in (FLAG, COUNT):
                    _set(args, option, None)
                    continue
                _set(args, option, word[at + 1:] or
                     next_word(f"option requires an argument -- '{letter}'"))
                break
        else:
            args.expression.append(word)
    return args


def help_parser():
    """The ``-h`` text: an argparse parser made from :data:`OPTIONS`."""
    import argparse

    class Formatter(argparse.HelpFormatter):
        def __init__(self, prog: str) -> None:
            import shutil
            super().__init__(prog, width=shutil.get_terminal_size().columns - 2)

    parser = argparse.ArgumentParser(
        prog="pycap", add_help=False, formatter_class=Formatter,
        description="Capture packets with tcpdump's filter language compiled to eBPF.")
    for o in OPTIONS:
        names = [f"-{o.short}"] if o.short else []
        names += [f"--{o.long}"] if o.long else []
        kw: dict = {"dest": o.dest, "help": o.help or None}
        if o.kind == FLAG:
            kw["action"] = "store_true"
        elif o.kind == COUNT:
            kw.update(action="count", default=0)
        else:
            kw.update(metavar=o.metavar, default=o.default)
            if o.kind == APPEND:
                kw["action"] = "append"
            if o.choices is not None:
                kw["choices"] = o.choices
            if o.integer:
                kw["type"] = lambda text, o=o: _value(o, text)
        parser.add_argument(*names, **kw)
    parser.add_argument("expression", nargs="*", help=EXPRESSION_HELP)
    return parser
