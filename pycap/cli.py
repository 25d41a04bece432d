"""pycap's command line: tcpdump's options, exit codes and signals.

Errors are printed as one line (``pycap: message``), plus the expression and
a caret line for filter errors, and exit 1; never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from collections.abc import Sequence

from pycap import __version__
from pycap.errors import FilterError, PycapError, UsageError

PROG = "pycap"
TIMESTAMPS = {0: "default", 1: "none", 2: "epoch", 3: "delta", 4: "date", 5: "since_first"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:   # one line, exit 1, like tcpdump's usage errors
        raise UsageError(message)


class _Formatter(argparse.HelpFormatter):
    """argparse's own help format, given the width it would find itself:
    left alone it imports ``shutil`` (1.7 ms, with bz2 and lzma) to ask, and
    it asks on each of the parser's ``add_argument`` calls."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_columns() - 2)


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, add_help=False, allow_abbrev=False, formatter_class=_Formatter,
                description="Capture packets with tcpdump's filter language compiled to eBPF.")
    p.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument("-i", "--interface", metavar="IFACE", action="append",
                   help="capture on IFACE ('any': every interface); repeatable (pcapng output)")
    p.add_argument("-r", dest="read", metavar="FILE", action="append",
                   help="read packets from a pcap/pcapng file (- for stdin); repeatable")
    p.add_argument("-V", dest="read_list", metavar="LIST",
                   help="read the savefiles named in LIST, one per line")
    p.add_argument("-w", dest="write", metavar="FILE", help="write packets to FILE (- for stdout)")
    p.add_argument("--pcapng", action="store_true", help="write pcapng instead of pcap")
    p.add_argument("--print", dest="print_", action="store_true",
                   help="print packets even when writing with -w")
    p.add_argument("-c", dest="count", type=int, metavar="N", help="stop after N packets")
    p.add_argument("-s", dest="snaplen", type=int, metavar="N",
                   help="snapshot length, enforced in the kernel (0 = 262144)")
    p.add_argument("-n", dest="numeric", action="count", default=0,
                   help="don't convert addresses or ports to names")
    p.add_argument("-d", dest="dump", action="count", default=0,
                   help="print the compiled eBPF program (-dd: C array, -ddd: decimal) and exit")
    p.add_argument("--dump-c", action="store_true",
                   help="print the filter as C for BCC or libbpf and exit (also: -d c)")
    p.add_argument("--backend", choices=("pycap", "bcc"), default="pycap",
                   help="compile the filter with pycap's own eBPF code generator (default) "
                        "or as C with BCC")
    p.add_argument("--explain", action="store_true",
                   help="show the expression as parsed, its IR, its decision graph and its "
                        "eBPF, then exit")
    p.add_argument("-y", dest="linktype", metavar="LINKTYPE",
                   help="link type for -d without an interface (EN10MB, LINUX_SLL, LINUX_SLL2, RAW)")
    p.add_argument("-D", dest="list_interfaces", action="store_true", help="list interfaces")
    p.add_argument("-j", "--time-stamp-type", dest="tstamp_type", metavar="TYPE",
                   help="time stamps from the host (default) or the adapter (adapter, "
                        "adapter_unsynced)")
    p.add_argument("-J", "--list-time-stamp-types", dest="list_tstamp_types",
                   action="store_true", help="list the time stamp types of the interface")
    p.add_argument("-p", dest="no_promisc", action="store_true", help="don't use promiscuous mode")
    p.add_argument("-Q", dest="direction", choices=("in", "out", "inout"), default="inout",
                   help="direction of packets to capture")
    p.add_argument("-B", dest="buffer_kib", type=int, metavar="KIB",
                   help="kernel ring size in KiB (default 8192)")
    p.add_argument("-C", dest="file_size", metavar="SIZE",
                   help="with -w: start a new file when the current one exceeds SIZE "
                        "millions of bytes (k/m/g suffix: KiB/MiB/GiB)")
    p.add_argument("-G", dest="rotate_seconds", type=int, metavar="SECONDS",
                   help="with -w: start a new file every SECONDS (the name may hold strftime "
                        "conversions)")
    p.add_argument("-W", dest="max_files", type=int, metavar="COUNT",
                   help="with -C: reuse COUNT file names; with -G alone: stop after COUNT files")
    p.add_argument("-z", dest="post_rotate", metavar="COMMAND",
                   help="run COMMAND FILE on each file closed by -C/-G rotation")
    p.add_argument("-Z", dest="user", metavar="USER",
                   help="switch to USER once the capture and output file are open")
    p.add_argument("--immediate-mode", action="store_true", help="deliver packets at once")
    p.add_argument("-U", dest="packet_buffered", action="store_true",
                   help="flush output after every packet")
    p.add_argument("-t", dest="tstamp", action="count", default=0,
                   help="-t none, -tt epoch, -ttt delta, -tttt date, -ttttt since first")
    p.add_argument("-e", dest="link_header", action="store_true", help="print link-level headers")
    p.add_argument("-q", dest="quiet", action="store_true", help="quieter output")
    p.add_argument("-v", dest="verbose", action="count", default=0, help="more detail (-vv, -vvv)")
    p.add_argument("-x", dest="hex", action="count", default=0, help="hex dump (-xx with link header)")
    p.add_argument("-X", dest="hexascii", action="count", default=0,
                   help="hex and ASCII dump (-XX with link header)")
    p.add_argument("-A", dest="ascii", action="count", default=0, help="ASCII dump")
    p.add_argument("-#", "--number", dest="number", action="store_true", help="number the packets")
    p.add_argument("--time-stamp-precision", choices=("micro", "nano"), default="micro")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per packet (fields: see pycap(1))")
    p.add_argument("-F", dest="filter_file", metavar="FILE", help="read the expression from FILE")
    p.add_argument("expression", nargs=argparse.REMAINDER, help="pcap-filter(7) expression")
    return p


def _expression(args: argparse.Namespace) -> str:
    if args.filter_file:
        try:
            with open(args.filter_file, encoding="utf-8") as f:
                text = f.read()
        except OSError as err:
            raise UsageError(f"{args.filter_file}: {err.strerror}") from None
        return " ".join(line.split("#", 1)[0] for line in text.splitlines()).strip()
    return " ".join(args.expression).strip()


def _render_options(args: argparse.Namespace):
    from pycap.render import RenderOptions
    hexmode = None
    if args.hexascii:
        hexmode = "XX" if args.hexascii > 1 else "X"
    elif args.hex:
        hexmode = "xx" if args.hex > 1 else "x"
    elif args.ascii:
        hexmode = "AA" if args.ascii > 1 else "A"
    return RenderOptions(numeric=True, timestamp=TIMESTAMPS.get(args.tstamp, "since_first"),
                         link_header=args.link_header, verbose=args.verbose, quiet=args.quiet,
                         nanosecond=args.time_stamp_precision == "nano", hex=hexmode,
                         json=args.json)


def _snaplen(args: argparse.Namespace) -> int:
    if args.snaplen is None or args.snaplen == 0:
        return 262144
    if args.snaplen < 0:
        raise UsageError(f"invalid snaplen {args.snaplen}")
    return min(args.snaplen, 262144)


def _job(args: argparse.Namespace):
    from pycap.pipeline import Job
    if args.count is not None and args.count <= 0:
        raise UsageError(f"invalid packet count {args.count}")
    printing = args.write is None or args.print_
    job = Job(expression=_expression(args), snaplen=_snaplen(args), count=args.count or 0,
              write=args.write, pcapng=True if args.pcapng else None, print_packets=printing,
              render_options=_render_options(args) if printing else None,   # imports render
              color="never" if args.json else args.color, number=args.number and not args.json,
              packet_buffered=args.packet_buffered, promisc=not args.no_promisc,
              direction=args.direction, immediate=args.immediate_mode)
    _output_options(args, job)
    return job


def _output_options(args: argparse.Namespace, job) -> None:
    """-B, -C, -G, -W, -z, -Z, --time-stamp-precision and -y for -i any, checked
    with tcpdump's wording."""
    if args.buffer_kib is not None:
        if args.buffer_kib <= 0:
            raise UsageError(f"invalid buffer size {args.buffer_kib}")
        job.buffer_kib = args.buffer_kib
    job.nanosecond = args.time_stamp_precision == "nano"
    if args.linktype and args.interface and "any" in args.interface:
        from pycap.linktype import LinkType, parse_linktype
        try:
            wanted = parse_linktype(args.linktype)
        except ValueError:
            raise UsageError(f"{args.linktype}: unknown data link type") from None
        if wanted not in (LinkType.LINUX_SLL, LinkType.LINUX_SLL2):
            raise UsageError(f"{args.linktype} is not one of the DLTs supported by this device")
        job.cooked = "sll" if wanted == LinkType.LINUX_SLL else "sll2"
    if args.file_size is not None:
        from pycap.savefile.rotate import parse_file_size
        job.file_size = parse_file_size(args.file_size)
    if args.rotate_seconds is not None:
        if args.rotate_seconds < 0:
            raise UsageError(f"invalid number of seconds {args.rotate_seconds}")
        job.rotate_seconds = args.rotate_seconds
    if args.max_files is not None:
        if args.max_files <= 0:
            raise UsageError(f"invalid number of output files {args.max_files}")
        job.max_files = args.max_files
    if (job.file_size or job.rotate_seconds) and args.write in (None, "-"):
        raise UsageError("-C and -G need a file name to rotate: use -w FILE")
    job.post_rotate = args.post_rotate
    job.user = args.user
    if args.tstamp_type is not None:
        from pycap.capture import TSTAMP_TYPES
        if args.tstamp_type not in TSTAMP_TYPES:
            raise UsageError(f"invalid time stamp type {args.tstamp_type}")
        job.tstamp_type = args.tstamp_type
    job.status = bool(args.write) and not args.print_ and _stderr_is_tty()


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def _dump_program(args: argparse.Namespace) -> int:
    from pycap.compiler import compile_filter
    from pycap.linktype import LinkType, parse_linktype
    linktype: int = LinkType.EN10MB
    byte_order = sys.byteorder
    if args.linktype:
        try:
            linktype = parse_linktype(args.linktype)
        except ValueError:
            raise UsageError(f"{args.linktype}: unknown data link type") from None
    elif args.read:
        from pycap.savefile import open_savefile
        with open_savefile(args.read[0]) as reader:
            linktype, byte_order = reader.linktype, reader.byteorder
    elif args.interface:
        from pycap.capture import interface_linktype
        linktype = interface_linktype(args.interface[0])
    compiled = compile_filter(_expression(args), linktype, _snaplen(args),
                              offline=bool(args.read), byte_order=byte_order)
    if args.explain:
        _explain(compiled)
        return 0
    if args.dump_c:
        from pycap.bpf.c_backend import dump_c
        print(dump_c(compiled, offline=bool(args.read)), end="")
        return 0
    if args.backend == "bcc":   # -d shows what clang made of the same filter
        from pycap.frozen import replace
        from pycap.kernel.bcc_loader import compile_insns
        compiled = replace(compiled, insns=compile_insns(compiled, offline=bool(args.read)))
    if args.dump == 1:
        print(compiled.disassemble())
    elif args.dump == 2:
        for insn in compiled.insns:
            print(f"{{ 0x{insn.code:02x}, {insn.dst}, {insn.src}, {insn.off}, {_s32(insn.imm)} }},")
    else:
        print(len(compiled.insns))
        for insn in compiled.insns:
            print(f"{insn.code} {insn.dst} {insn.src} {insn.off} {_s32(insn.imm)}")
    return 0


def _explain(compiled) -> None:
    """AST -> IR -> eBPF for one expression."""
    import textwrap

    from pycap.ir import cfg
    from pycap.ir.pretty import graph, pred
    print(f"expression: {compiled.expression}")
    print(f"tree:       {compiled.tree}")
    print("IR (after optimization):")
    print(pred(compiled.predicate, 1))
    print("decision graph (tests shared, jumps threaded; the eBPF follows it):")
    print(textwrap.indent(graph(cfg.graph(compiled.lowered)), "  "))
    print(f"eBPF ({len(compiled.insns)} instructions):")
    print(compiled.disassemble())


def _dump_c_alias(argv: list[str]) -> list[str]:
    """``-d c`` (the word ``c`` right after ``-d``) is ``--dump-c``; a filter
    on a host named c is spelled ``host c``."""
    for i, arg in enumerate(argv[:-1]):
        if arg == "--":
            break
        if arg == "-d" and argv[i + 1] == "c":
            return argv[:i] + ["--dump-c"] + argv[i + 2:]
    return argv


def _s32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def _list_time_stamp_types(args: argparse.Namespace) -> int:
    from pycap.capture import TSTAMP_TYPES, time_stamp_types
    interface = (args.interface or [_default_interface()])[0]
    types = time_stamp_types(interface)
    print(f"Time stamp types for {interface} (use option -j to set):")
    for name in types:
        print(f"  {name} ({TSTAMP_TYPES[name]})")
    return 0


def _list_interfaces() -> int:
    for index, name in sorted(socket.if_nameindex()):
        flags = []
        try:
            with open(f"/sys/class/net/{name}/operstate", encoding="ascii") as f:
                state = f.read().strip()
            flags.append("Up" if state in ("up", "unknown") else "Down")
        except OSError:
            pass
        if name == "lo":
            flags.append("Loopback")
        print(f"{index}.{name}" + (f" [{', '.join(flags)}]" if flags else ""))
    print(f"{len(socket.if_nameindex()) + 1}.any (Pseudo-device that captures on all interfaces)")
    return 0


def _install_signals(stop) -> None:
    def handler(signum, frame):
        stop.set()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def _print_summary(outcome, live: bool) -> None:
    err = sys.stderr
    if outcome.message:
        err.write(outcome.message + "\n")
    if live or outcome.stats_known:
        err.write(f"{outcome.captured} packets captured\n"
                  f"{outcome.received} packets received by filter\n"
                  f"{outcome.dropped} packets dropped by kernel\n")
    err.flush()


def _run(args: argparse.Namespace) -> int:
    from pycap import pipeline
    job = _job(args)
    job.backend = args.backend
    stop = pipeline.StopFlag()
    _install_signals(stop)
    paths = list(args.read or [])
    if args.read_list:
        try:
            with open(args.read_list, encoding="utf-8") as f:
                paths += [line.strip() for line in f if line.strip()]
        except OSError as err:
            raise UsageError(f"{args.read_list}: {err.strerror}") from None
    if paths:
        outcome = pipeline.run_offline(job, paths, stop)
        if outcome.message:
            _print_summary(outcome, live=False)
        return 0
    interfaces = args.interface or [_default_interface()]

    said = []

    def listening(line: str) -> None:
        if job.print_packets and not args.verbose and not said:
            sys.stderr.write(f"{PROG}: verbose output suppressed, use -v[v]... "
                             f"for full protocol decode\n")
        said.append(line)
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    def warning(text: str) -> None:
        sys.stderr.write(f"{PROG}: WARNING: {text}\n")
    outcome = pipeline.run_live(job, interfaces, stop, listening, warning)
    _print_summary(outcome, live=True)
    return 0


def _default_interface() -> str:
    for _, name in sorted(socket.if_nameindex()):
        if name != "lo":
            return name
    raise UsageError("no suitable device found")


def report(err: PycapError) -> None:
    """The user-facing text of an error: one line, plus the caret for filters."""
    sys.stderr.write(f"{PROG}: {err}\n")
    if isinstance(err, FilterError):
        for line in err.caret_lines():
            sys.stderr.write(f"    {line}\n")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["demo"]:
            from pycap.demo import run_demo
            return run_demo(argv[1:])
        if argv[:1] == ["steer"]:
            from pycap.steer.command import run_steer
            return run_steer(argv[1:])
        args = build_parser().parse_args(_dump_c_alias(argv))
        if args.help:
            build_parser().print_help()
            return 0
        if args.version:
            print(f"{PROG} version {__version__}")
            return 0
        if args.list_interfaces:
            return _list_interfaces()
        if args.list_tstamp_types:
            return _list_time_stamp_types(args)
        if args.dump or args.dump_c or args.explain:
            return _dump_program(args)
        return _run(args)
    except PycapError as err:
        report(err)
        return err.exit_code
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except OSError as err:        # writing the output: a full disk, a dead terminal
        sys.stderr.write(_output_error(err))
        return 1
    except KeyboardInterrupt:
        return 130


def _output_error(err: OSError) -> str:
    where = f"{err.filename}: " if err.filename else "write error: "
    return f"{PROG}: {where}{err.strerror or err}\n"


def _silence_stdout() -> None:
    """After EPIPE on stdout, point it at /dev/null so interpreter shutdown
    does not print a second error while flushing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def entry() -> None:
    """The ``pycap`` command: main(), then out without the interpreter's
    teardown (about 7 ms, a tenth of what a short capture costs in all).
    Everything main() opened is closed when it returns; the standard streams
    are flushed here, and a failure to write them is one line and status 1
    instead of the interpreter's "Exception ignored" and 120."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass                          # the reader went away, as main() takes it
    except OSError as err:
        os.write(2, _output_error(err).encode())
        code = code or 1
    except ValueError:
        pass                          # closed by the caller
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


if __name__ == "__main__":
    entry()
