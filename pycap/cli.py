"""pycap's command line: tcpdump's options, exit codes and signals.

Errors are printed as one line (``pycap: message``), plus the expression and
a caret line for filter errors, and exit 1; never a traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

from pycap import __version__
from pycap.cliargs import Args, help_parser, parse
from pycap.errors import FilterError, PycapError, UsageError

PROG = "pycap"
TIMESTAMPS = {0: "default", 1: "none", 2: "epoch", 3: "delta", 4: "date", 5: "since_first"}


def _expression(args: Args) -> str:
    if args.filter_file:
        try:
            with open(args.filter_file, encoding="utf-8") as f:
                text = f.read()
        except OSError as err:
            raise UsageError(f"{args.filter_file}: {err.strerror}") from None
        return " ".join(line.split("#", 1)[0] for line in text.splitlines()).strip()
    return " ".join(args.expression).strip()


def _render_options(args: Args):
    from pycap.render import RenderOptions
    hexmode = None
    if args.hexascii:
        hexmode = "XX" if args.hexascii > 1 else "X"
    elif args.hex:
        hexmode = "xx" if args.hex > 1 else "x"
    elif args.ascii:
        hexmode = "AA" if args.ascii > 1 else "A"
    return RenderOptions(numeric=bool(args.numeric),
                         timestamp=TIMESTAMPS.get(args.tstamp, "since_first"),
                         link_header=args.link_header, verbose=args.verbose, quiet=args.quiet,
                         nanosecond=_nanosecond(args), hex=hexmode, json=args.json,
                         absolute_seq=args.absolute_seq, no_checksums=args.no_checksums,
                         strip_domain=args.no_domain, raw_nfs_handles=args.raw_nfs_handles,
                         tcp_md5_secret=args.tcp_md5_secret)


def _nanosecond(args: Args) -> bool:
    """--time-stamp-precision=nano, or --nano (--micro wins over neither)."""
    return args.nano or (args.time_stamp_precision == "nano" and not args.micro)


def _snaplen(args: Args) -> int:
    if args.snaplen is None or args.snaplen == 0:
        return 262144
    if args.snaplen < 0:
        raise UsageError(f"invalid snaplen {args.snaplen}")
    return min(args.snaplen, 262144)


def _job(args: Args):
    from pycap.pipeline import Job
    if args.count is not None and args.count <= 0:
        raise UsageError(f"invalid packet count {args.count}")
    if args.foreign and (args.read or args.read_list):
        raise UsageError("-f can not be used with -V or -r")
    printing = (args.write is None or args.print_) and not args.count_only
    job = Job(expression=_expression(args), snaplen=_snaplen(args), count=args.count or 0,
              write=args.write, pcapng=True if args.pcapng else None, print_packets=printing,
              render_options=_render_options(args) if printing else None,   # imports render
              color="never" if args.json else args.color, number=args.number and not args.json,
              packet_buffered=args.packet_buffered, promisc=not args.no_promisc,
              direction=args.direction, immediate=args.immediate_mode,
              optimize=not args.no_optimize, line_buffered=args.line_buffered,
              foreign=args.foreign and not args.numeric, monitor=args.monitor)
    _output_options(args, job)
    return job


def _output_options(args: Args, job) -> None:
    """-B, -C, -G, -W, -z, -Z, --time-stamp-precision and -y for -i any, checked
    with tcpdump's wording."""
    if args.buffer_kib is not None:
        if args.buffer_kib <= 0:
            raise UsageError(f"invalid packet buffer size {args.buffer_kib}")
        job.buffer_kib = args.buffer_kib
    job.nanosecond = _nanosecond(args)
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


def _dump_program(args: Args) -> int:
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
                              offline=bool(args.read), byte_order=byte_order,
                              optimized=not args.no_optimize)
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


def _list_time_stamp_types(args: Args) -> int:
    from pycap.capture import TSTAMP_TYPES, time_stamp_types
    interface = (args.interface or [_default_interface()])[0]
    types = time_stamp_types(interface)
    lines = [f"  {name} ({TSTAMP_TYPES[name]})" for name in types]
    print(f"Time stamp types for {interface} (use option -j to set):", *lines, sep="\n",
          file=sys.stderr)     # tcpdump writes -J's and -L's lists to stderr
    return 0


def _list_link_types(args: Args) -> int:
    """``-L``: tcpdump's list for the interface, of the link types pycap
    captures there (libpcap also offers DOCSIS on Ethernet devices)."""
    from pycap.capture import interface_linktype
    from pycap.pipeline import link_type_text
    interface = (_resolve_interfaces(args.interface) or [_default_interface()])[0]
    kinds = ("sll", "sll2") if interface == "any" else ("sll2",)
    lines = [f"  {link_type_text(interface_linktype(interface, kind))}" for kind in kinds]
    print(f"Data link types for {interface} (use option -y to set):", *lines, sep="\n",
          file=sys.stderr)
    return 0


def _list_interfaces() -> int:
    """``-D``: tcpdump's list, in libpcap's order (capture.devices)."""
    from pycap.capture.devices import describe, devices
    for number, device in enumerate(devices(), 1):
        print(f"{number}.{describe(device)}")
    return 0


def _resolve_interfaces(named: list[str] | None) -> list[str] | None:
    """``-i`` as tcpdump reads it: a number is a position in the ``-D`` list."""
    if not named or not any(name.isdigit() for name in named):
        return named
    from pycap.capture.devices import devices
    ranked = devices()
    resolved = []
    for name in named:
        if name.isdigit():
            if not 1 <= int(name) <= len(ranked):
                raise UsageError("Invalid adapter index")
            name = ranked[int(name) - 1].name
        resolved.append(name)
    return resolved


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


def _run(args: Args) -> int:
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
        outcome = pipeline.run_offline(job, paths, stop, on_reading=_tell)
        if outcome.message:
            _print_summary(outcome, live=False)
        if args.count_only:          # tcpdump --count: the number alone, on stdout
            n = outcome.captured
            sys.stdout.write(f"{n} packet{'' if n == 1 else 's'}\n")
        return 0
    interfaces = args.interface or [_default_interface()]

    said = []

    quiet = job.print_packets and not args.verbose

    def listening(line: str) -> None:
        # tcpdump's two forms: "tcpdump: verbose output suppressed, ..." and
        # then a bare "listening on ..." when printing without -v, otherwise
        # "tcpdump: listening on ..."
        if quiet and not said:
            sys.stderr.write(f"{PROG}: verbose output suppressed, use -v[v]... "
                             f"for full protocol decode\n")
        said.append(line)
        _tell(("" if quiet else f"{PROG}: ") + line)
    def warning(text: str) -> None:
        sys.stderr.write(f"{PROG}: WARNING: {text}\n")
    outcome = pipeline.run_live(job, interfaces, stop, listening, warning)
    _print_summary(outcome, live=True)
    return 0


def _tell(line: str) -> None:
    """A line of tcpdump's on stderr ("listening on", "reading from file"), at once."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _default_interface() -> str:
    """What tcpdump captures on without ``-i``: the first of ``-D``'s list
    (an interface that is up and running, else ``any``)."""
    from pycap.capture.devices import devices
    return devices()[0].name


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
        args = parse(_dump_c_alias(argv))
        args.interface = _resolve_interfaces(args.interface)
        if args.help:
            help_parser().print_help()
            return 0
        if args.version:
            print(f"{PROG} version {__version__}")
            return 0
        if args.list_interfaces:
            return _list_interfaces()
        if args.list_tstamp_types:
            return _list_time_stamp_types(args)
        if args.list_linktypes:
            return _list_link_types(args)
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
