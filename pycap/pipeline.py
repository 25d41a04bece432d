"""The loops that move packets: live capture or savefile -> filter -> file or
terminal.  The CLI parses flags into a ``Job`` and calls ``run_live`` or
``run_offline``; nothing here parses arguments or prints errors.

The live ``-w`` loop hands whole ring blocks to the writer: a
:class:`~pycap.capture.encode.BlockEncoder` turns each block into savefile
records in place and appends them to the writer's buffer, so no Python object
is made per packet.  Printing (no ``-w``, or ``--print``) goes packet by
packet through the renderer.
"""

from __future__ import annotations

import os
import select
import sys
import time
from contextlib import ExitStack
from collections.abc import Callable

from pycap.errors import CaptureError, KernelError, SavefileError, UnsupportedFilterError
from pycap.frozen import record
from pycap.linktype import LinkType, link_info
from pycap.savefile import MAX_SNAPLEN

TYPE_CHECKING = False   # typing's, without importing typing (2 ms of every start)
if TYPE_CHECKING:     # the compiler is imported when there is a filter to compile,
    import subprocess     # subprocess with -z
    from typing import TextIO
    from pycap.compiler import CompiledFilter

POLL_MS = 200                 # longest wait between stop-flag checks
# A ring block is handed over when full or this old.  Writing (-w alone):
# libpcap's timeout under tcpdump, one wake-up a second at low rates.
# Printing, or -U: a tenth of that, so that packets show up as they come.
WRITE_BLOCK_TIMEOUT_MS = 1000
PROMPT_BLOCK_TIMEOUT_MS = 100
LAST_BLOCK_GRACE_S = 0.25     # beyond the block timeout, for the kernel's timer
STATUS_INTERVAL_S = 0.5
CHUNK_BYTES = 1 << 16         # encode about this much, then let the writer write it
DEFAULT_BUFFER_KIB = 8192     # 8 MiB, 4 x libpcap's: enough with the C encoder (benchmarks/README.md)


@record(slots=False)
class Job:
    """Everything a run needs, decided by the CLI."""

    expression: str = ""
    snaplen: int = MAX_SNAPLEN
    count: int = 0                      # -c: stop after this many packets (0: no limit)
    write: str | None = None            # -w
    pcapng: bool | None = None
    print_packets: bool = True          # False with -w unless --print
    render_options: object = None       # pycap.render.RenderOptions
    color: str = "auto"
    number: bool = False                # -#
    packet_buffered: bool = False       # -U
    promisc: bool = True
    direction: str = "inout"
    buffer_kib: int = DEFAULT_BUFFER_KIB
    immediate: bool = False
    netmask: int = 0
    optimize: bool = True               # False: -O
    line_buffered: bool = False         # -l: flush printed lines one by one
    backend: str = "pycap"              # --backend: "bcc" compiles the filter's C with BCC
    nanosecond: bool = False            # --time-stamp-precision nano
    cooked: str = "sll2"                # -i any: LINUX_SLL2, or LINUX_SLL with -y LINUX_SLL
    file_size: int = 0                  # -C, bytes
    rotate_seconds: int = 0             # -G
    max_files: int = 0                  # -W
    post_rotate: str | None = None      # -z
    user: str | None = None             # -Z
    status: bool = False                # live status line on stderr (a TTY)
    tstamp_type: str = "host"           # -j: host, adapter, adapter_unsynced
    foreign: bool = False               # -f: names only for the capture interface's IPv4 network
    monitor: bool = False               # -I: 802.11 monitor mode (refused)


@record(slots=False)
class Outcome:
    captured: int = 0
    received: int = 0
    dropped: int = 0
    stats_known: bool = False
    message: str | None = None          # e.g. "Maximum file limit reached: 3"
    output_closed: bool = False         # the reader of -w - went away (EPIPE)


@record
class StopFlag:
    """Set by signal handlers; checked by the loops between blocks.  Python
    runs handlers in the main thread, which is the one that checks it, so a
    plain counter does (no ``threading.Event``, no ``threading`` import).
    A second signal also cuts short the wait for the last blocks."""

    requested: int = 0

    def set(self) -> None:
        self.requested += 1

    @property
    def again(self) -> bool:
        return self.requested > 1

    def __bool__(self) -> bool:
        return self.requested > 0


# ------------------------------------------------------------------------- output


def _open_output(job: Job, interfaces: list[tuple[int, int, str | None]], nanosecond: bool,
                 on_close: Callable | None = None, post_rotate: Callable | None = None):
    """The ``-w`` file (or rotation of files), pcapng when asked, by name, or
    when there are several interfaces (a pcap file cannot hold them)."""
    from pycap.savefile import open_writer
    from pycap.savefile.detect import wants_pcapng
    from pycap.savefile.rotate import RotatingWriter
    pcapng = job.pcapng if job.pcapng is not None else wants_pcapng(job.write)
    linktype, snaplen, _ = interfaces[0]

    def open_file(path: str):
        return open_writer(path, linktype, snaplen, nanosecond=nanosecond, pcapng=pcapng,
                           interfaces=interfaces if pcapng or len(interfaces) > 1 else None)
    return RotatingWriter(job.write, open_file, size_limit=job.file_size,
                          seconds=job.rotate_seconds, max_files=job.max_files,
                          on_close=on_close, post_rotate=post_rotate)


class PostRotate:
    """``-z CMD``: run ``CMD FILE`` at low priority on each rotated file, as
    tcpdump does, without waiting for it (children are reaped as they end)."""

    def __init__(self, command: str, warn: Callable[[str], None]):
        self.command = command
        self.warn = warn
        self.children: list[subprocess.Popen] = []

    def __call__(self, path: str) -> None:
        import subprocess       # only with -z: 1.5 ms of every start otherwise
        self.children = [c for c in self.children if c.poll() is None]
        try:
            self.children.append(subprocess.Popen([self.command, path], stdin=subprocess.DEVNULL,
                                                  preexec_fn=_lowest_priority))
        except OSError as err:
            self.warn(f"compress_savefile: execlp({self.command}, {path}) failed: {err.strerror}")


def retain_heap() -> None:
    """The write buffer is filled and emptied thousands of times a second:
    keep its memory for reuse instead of mapping it afresh each time (see
    ``_ringcodec.retain_heap``; measured: 25 000-100 000 page faults in a
    4 s run at full rate, 2 500 with it).  Nothing without the C encoder."""
    from pycap.capture.encode import _ringcodec
    if _ringcodec is not None:
        _ringcodec.retain_heap()


def _lowest_priority() -> None:
    os.setpriority(os.PRIO_PROCESS, 0, 19)


def drop_privileges(user: str, created: list[str]) -> None:
    """``-Z``: become ``user`` (its uid, gid and groups), after the sockets and
    the first file are open; files already created are given to ``user``, as
    if it had made them (tcpdump opens its file after switching).  Only root
    switches, as in tcpdump."""
    import pwd
    if os.getuid() != 0 and os.geteuid() != 0:
        return
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise CaptureError(f"Couldn't find user '{user}'") from None
    for path in created:
        if path != "-":
            try:
                os.chown(path, pw.pw_uid, pw.pw_gid)
            except OSError:
                pass
    try:
        os.initgroups(pw.pw_name, pw.pw_gid)
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    except OSError as err:
        raise CaptureError(f"Couldn't change to '{user}' uid={pw.pw_uid} gid={pw.pw_gid}: "
                           f"{err.strerror}") from None


class StatusLine:
    """A live line on a terminal while writing: captured, dropped, rate, bytes.
    rich is imported only when the line is wanted."""

    def __init__(self, stream: TextIO):
        from rich.console import Console
        from rich.live import Live
        self._console = Console(file=stream, highlight=False)
        self._live = Live(console=self._console, auto_refresh=False, transient=True)
        self._live.start()
        self._last = (time.monotonic(), 0)
        self._next = 0.0

    def due(self) -> bool:
        return time.monotonic() >= self._next

    def update(self, captured: int, dropped: int, written: int) -> None:
        now = time.monotonic()
        from rich.text import Text
        then, before = self._last
        rate = (captured - before) / (now - then) if now > then else 0.0
        self._last, self._next = (now, captured), now + STATUS_INTERVAL_S
        text = Text.assemble(("captured ", "dim"), (f"{captured:,}", "bold"),
                             ("  dropped ", "dim"), (f"{dropped:,}", "bold red" if dropped else "bold"),
                             ("  rate ", "dim"), (f"{rate:,.0f}/s", "bold"),
                             ("  written ", "dim"), (_human_bytes(written), "bold"))
        self._live.update(text, refresh=True)

    def close(self) -> None:
        self._live.stop()


def _human_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


# ------------------------------------------------------------------- the printer


class _Printer:
    """Renders packets as tcpdump lines on the terminal."""

    def __init__(self, job: Job, out: TextIO | None):
        from pycap.render import RenderOptions, Renderer
        from pycap.render.console import Console
        self.job = job
        self.renderer = Renderer(job.render_options or RenderOptions())
        self.console = Console(out, color=job.color)

    def show(self, data: bytes, wire_len: int, ts_ns: int, linktype: int, number: int) -> None:
        text = self.renderer.render(data, wire_len, linktype, ts_ns)
        if self.job.number:
            text = f"{number:5d}  {text}"
        self.console.write_line(text)
        if self.job.packet_buffered or self.job.line_buffered:
            self.console.flush()

    @property
    def has_status(self) -> bool:
        """Whether the console draws its own status line (a terminal)."""
        return bool(getattr(self.console, "status", False))

    def set_counts(self, **counts: int) -> None:
        if self.has_status:
            self.console.set_counts(**counts)

    def flush(self) -> None:
        self.console.flush()

    def close(self) -> None:
        close = getattr(self.console, "close", None)
        if close is not None:
            close()
        else:
            self.console.flush()


class _Sink:
    """Where accepted packets go, one by one: a savefile writer (with
    rotation) and/or the terminal.  The offline path and live printing."""

    def __init__(self, job: Job, linktype: int, snaplen: int, nanosecond: bool = False,
                 out: TextIO | None = None):
        self.job = job
        self.linktype = linktype
        self.writer = None
        self.printer: _Printer | None = None
        self.count = 0
        self.stopped = False
        if job.write is not None:
            warn = lambda text: sys.stderr.write(f"{text}\n")  # noqa: E731
            self.writer = _open_output(job, [(linktype, snaplen, None)], nanosecond,
                                       post_rotate=PostRotate(job.post_rotate, warn)
                                       if job.post_rotate else None)
        if job.print_packets:
            self.printer = _Printer(job, out)

    def take(self, ts_ns: int, data, wire_len: int, linktype: int | None = None,
             interface: int = 0) -> None:
        if self.writer is not None:
            if not self.writer.write_raw(ts_ns, data, wire_len, interface):
                self.stopped = True
                return
            if self.job.packet_buffered:
                self.writer.flush()
        self.count += 1
        if self.printer is not None:
            self.printer.show(bytes(data), wire_len, ts_ns,
                              self.linktype if linktype is None else linktype, self.count)

    def done(self) -> bool:
        return self.stopped or (bool(self.job.count) and self.count >= self.job.count)

    def close(self) -> None:
        if self.printer is not None:
            self.printer.close()
        if self.writer is not None:
            self.writer.close()


# ------------------------------------------------------------------------ live


@record(slots=False)
class _Live:
    """One capture of a live run: its interface, snap length and socket."""

    interface: str
    snaplen: int
    capture: object = None         # pycap.capture.Capture
    encoder: object = None         # its BlockEncoder, when writing


def _compile_live(job: Job, interface: str, linktype: int
                  ) -> tuple[CompiledFilter | None, bytes, Callable[[bytes, int], bool] | None]:
    """The filter for one interface: ``(compiled, program bytes, user-space filter)``.

    ``-i any`` is a SOCK_DGRAM socket: the kernel program sees the network
    header at offset 0, so it needs the compiler's ``cooked_live`` mode.  If the
    compiler lacks it (or cannot express the filter that way), the kernel gets
    a program that accepts everything and the filter runs in user space, on
    the frame with its synthesized cooked header.

    Without an expression nothing is compiled, or even imported (the
    compiler's modules were most of a ``-w`` run's start-up): ``compiled`` is
    None and the program only cuts packets to the snap length.
    """
    if not job.expression.strip() and job.backend != "bcc":
        return None, _snap_only(job.snaplen or MAX_SNAPLEN), None
    from functools import partial
    from pycap.compiler import compile_filter
    compile_ = partial(compile_filter, job.expression, linktype, job.snaplen,
                       netmask=job.netmask, optimized=job.optimize)
    if interface != "any":
        compiled = compile_()
        return compiled, compiled.bytecode, None
    try:
        compiled = compile_(cooked_live=True)
        return compiled, compiled.bytecode, None
    except (TypeError, UnsupportedFilterError):
        pass
    compiled = compile_()
    if not job.expression.strip():
        return compiled, compiled.bytecode, None   # "return snaplen" reads no packet bytes
    from pycap.ir.interp import runs
    graph = compiled.graph
    return compiled, _snap_only(MAX_SNAPLEN), lambda data, wire: runs(graph, data, wire)


def _snap_only(snaplen: int) -> bytes:
    """What an empty expression compiles to: every packet, cut to ``snaplen``."""
    from pycap.bpf.asm import encode
    from pycap.bpf.isa import exit_insn, mov32_imm
    return encode([mov32_imm(0, snaplen), exit_insn()])


def _load_live_program(bytecode: bytes, interface: str, bcc: CompiledFilter | None = None):
    """``bcc``: load that filter through the BCC backend instead of ``bytecode``."""
    import errno
    from pycap.kernel.bpf import load_program
    try:
        if bcc is not None:
            from pycap.kernel.bcc_loader import load_filter
            return load_filter(bcc)
        return load_program(bytecode, name="pycap_filter")
    except KernelError as err:
        if err.errno in (errno.EPERM, errno.EACCES) and not err.verifier_log:
            raise CaptureError(f"{interface}: You don't have permission to perform this capture "
                               f"on that device (bpf: {os.strerror(err.errno)})") from None
        raise


def _writes_pcapng(job: Job) -> bool:
    from pycap.savefile.detect import wants_pcapng
    if job.write is None:
        return False
    return job.pcapng if job.pcapng is not None else wants_pcapng(job.write)


def block_timeout_ms(job: Job) -> int:
    """How old a ring block may get before the kernel hands it over (see
    WRITE_BLOCK_TIMEOUT_MS; ``--immediate-mode`` overrides it in Capture)."""
    if job.print_packets or job.packet_buffered:
        return PROMPT_BLOCK_TIMEOUT_MS
    return WRITE_BLOCK_TIMEOUT_MS


def _open_captures(job: Job, interfaces: list[str], stack: ExitStack) -> list[_Live]:
    from pycap.capture import Capture, interface_linktype
    from pycap.capture.encode import record_header_len
    headroom = record_header_len(_writes_pcapng(job))
    lives = []
    for interface in interfaces:
        if job.monitor:
            _monitor_mode(interface)
        linktype = interface_linktype(interface, job.cooked)
        compiled, bytecode, accept = _compile_live(job, interface, linktype)
        snaplen = compiled.snaplen if compiled is not None else job.snaplen or MAX_SNAPLEN
        bcc = compiled if job.backend == "bcc" and bytecode == compiled.bytecode else None
        with _load_live_program(bytecode, interface, bcc) as program:
            cap = Capture(interface, program, snaplen=snaplen, promisc=job.promisc,
                          direction=job.direction, buffer_kib=job.buffer_kib,
                          block_timeout_ms=block_timeout_ms(job),
                          immediate=job.immediate, cooked=job.cooked, accept=accept,
                          headroom=headroom, program_snaps=True, tstamp_type=job.tstamp_type)
        stack.enter_context(cap)
        lives.append(_Live(interface, snaplen, cap))
    return lives


def _monitor_mode(interface: str) -> None:
    """-I: libpcap's answer for a device that is not 802.11 (checked before
    anything else, so also for one that does not exist); on one that is,
    pycap says it cannot: libpcap adds a monitor interface over nl80211,
    which pycap does not speak."""
    from pycap.capture.devices import is_wireless
    if not is_wireless(interface):
        raise CaptureError(f"{interface}: That device doesn't support monitor mode")
    raise CaptureError(f"{interface}: pycap cannot put a device in monitor mode "
                       f"(libpcap adds a monitor interface over nl80211)")


def link_type_text(linktype: int) -> str:
    """tcpdump's "NAME (description)" of a link type; libpcap shows the
    number of one it cannot name."""
    try:
        info = link_info(linktype)
    except (KeyError, ValueError):
        return str(linktype)
    return f"{info.name} ({info.description})"


def listening_line(interface: str, linktype: int, snaplen: int) -> str:
    return (f"listening on {interface}, link-type {link_type_text(linktype)}, "
            f"snapshot length {snaplen} bytes")


def reading_line(path: str, linktype: int, snaplen: int) -> str:
    return f"reading from file {path}, link-type {link_type_text(linktype)}, snapshot length {snaplen}"


def run_live(job: Job, interfaces: str | list[str], stop: StopFlag,
             on_listening: Callable[[str], None],
             on_warning: Callable[[str], None] | None = None) -> Outcome:
    """Capture on ``interfaces`` until ``stop``, ``-c``, ``-W`` or an error.
    ``on_listening`` gets tcpdump's "listening on" line for each interface,
    ``on_warning`` what tcpdump prints as "WARNING: ..." (default: dropped)."""
    if isinstance(interfaces, str):
        interfaces = [interfaces]
    if len(set(interfaces)) != len(interfaces):
        raise CaptureError("an interface is named twice")
    if len(interfaces) > 1 and job.write is not None and not _writes_pcapng(job):
        raise SavefileError(f"{job.write}: a pcap file holds one interface; write pcapng "
                            f"(--pcapng or a .pcapng name) to capture on several")
    outcome = Outcome(stats_known=True)
    with ExitStack() as stack:
        lives = _open_captures(job, interfaces, stack)
        warnings = [live.capture.warnings for live in lives]
        warnings[0] = [*warnings[0], *_foreign_network(job, interfaces[0])]
        run = _LiveRun(job, lives, stop, outcome)
        stack.callback(run.finish)
        run.open_output()
        if job.user:
            drop_privileges(job.user, run.output.paths if run.output is not None else [])
        for live, said in zip(lives, warnings):
            for warning in said:
                if on_warning is not None:
                    on_warning(warning)
            on_listening(listening_line(live.interface, live.capture.linktype, live.snaplen))
        run.loop()
    return outcome


def _foreign_network(job: Job, interface: str) -> list[str]:
    """-f: the IPv4 network of the (first) capture interface goes into the
    render options, as tcpdump asks pcap_lookupnet() once the device is
    open.  Without one, every address is named, after tcpdump's warning,
    which is returned."""
    if not job.foreign or job.render_options is None:
        return []
    from dataclasses import replace
    from pycap.kernel.sockopt import interface_ipv4_network
    try:
        job.render_options = replace(job.render_options, foreign=interface_ipv4_network(interface))
    except CaptureError as err:
        return [f"foreign (-f) flag used but: {err}"]
    return []


class _LiveRun:
    """The state of one live run: captures, output, counters, status line."""

    def __init__(self, job: Job, lives: list[_Live], stop: StopFlag, outcome: Outcome):
        self.job = job
        self.lives = lives
        self.stop = stop
        self.outcome = outcome
        self.output = None
        self.printer: _Printer | None = None
        self.status: StatusLine | None = None
        self.captured = 0
        self.remaining = job.count or (1 << 62)
        self.chunk = 128              # ring packets per encoder step (adapted)
        self.started_ns = time.time_ns()
        self.next_counts = 0.0
        self.finished = False

    # ----------------------------------------------------------------- set-up

    def open_output(self) -> None:
        job = self.job
        if job.write is not None:
            warn = lambda text: sys.stderr.write(f"{text}\n")  # noqa: E731
            ifaces = [(live.capture.linktype, live.snaplen, live.interface)
                      for live in self.lives]
            self.output = _open_output(job, ifaces, job.nanosecond, on_close=self._statistics,
                                       post_rotate=PostRotate(job.post_rotate, warn)
                                       if job.post_rotate else None)
            pcapng = hasattr(self.output.writer, "write_stats")
            for ifid, live in enumerate(self.lives):
                live.encoder = live.capture.encoder(pcapng=pcapng, nanosecond=job.nanosecond,
                                                    ifid=ifid)
            retain_heap()
        if job.print_packets:
            self.printer = _Printer(job, sys.stdout)
        if job.status and job.write is not None and not job.print_packets:
            try:
                self.status = StatusLine(sys.stderr)
            except Exception:   # noqa: BLE001 - a status line is never worth failing for
                self.status = None

    def _statistics(self, writer) -> None:
        """Before a pcapng file closes: an Interface Statistics Block per interface."""
        if not hasattr(writer, "write_stats"):
            return
        now = time.time_ns()
        for ifid, live in enumerate(self.lives):
            stats = live.capture.stats()
            writer.write_stats(ifid, stats.received, stats.dropped, self.started_ns, now)

    # ------------------------------------------------------------------- loop

    def loop(self) -> None:
        poll = select.poll()
        by_fd = {}
        for live in self.lives:
            poll.register(live.capture.fileno(), select.POLLIN | select.POLLERR)
            by_fd[live.capture.fileno()] = live
        try:
            while not self.stop and self.remaining > 0:
                busy = False
                for live in self.lives:
                    busy |= self._drain(live)
                    if self.stop or self.remaining <= 0:
                        break
                if self.status is not None and self.status.due():
                    self._update_status()
                elif self.printer is not None and self.printer.has_status:
                    self._update_console_counts()
                if busy:
                    continue
                for fd, revents in poll.poll(POLL_MS):
                    if revents & select.POLLERR:
                        by_fd[fd].capture.check_error()
            if self.stop and self.remaining > 0:
                self._last_blocks(poll)
        except SavefileError as err:
            from pycap.savefile._io import OutputClosed
            if not isinstance(err, OutputClosed):
                raise
            self.outcome.output_closed = True

    def _last_blocks(self, poll) -> None:
        """After a stop signal, wait for the packets the kernel has taken but
        not handed over (:meth:`Capture.pending`): at most one block timeout,
        cut short by a second signal, ``-c`` or ``-W``."""
        deadline = time.monotonic() + LAST_BLOCK_GRACE_S + max(
            live.capture.block_timeout_s for live in self.lives)
        waiting = [live for live in self.lives if live.capture.pending()]
        while waiting and not self.stop.again and self.remaining > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            poll.poll(min(POLL_MS, max(1, int(left * 1000))))
            for live in waiting:
                while self._drain(live, stopping=False) and self.remaining > 0:
                    pass
            waiting = [live for live in waiting if live.capture.pending()]

    def _drain(self, live: _Live, stopping: bool = True) -> bool:
        """Consume the ready blocks of one capture (at most a ring's worth)."""
        cap = live.capture
        busy = False
        for _ in range(64):
            block = cap.take()
            if block is None:
                break
            busy = True
            try:
                if live.encoder is not None and self.printer is None:
                    self._write_block(live, block)
                else:
                    self._show_block(live, block, stopping)
            finally:
                cap.release(block)
            if (stopping and self.stop) or self.remaining <= 0:
                break
        if busy and self.job.packet_buffered and self.output is not None:
            self.output.flush()
        return busy

    def _write_block(self, live: _Live, block) -> None:
        """The ``-w`` hot path: the whole block, encoded in place, appended at once."""
        out, encoder = self.output, live.encoder
        while not block.exhausted:
            if not out.before_packet():
                self._limit_reached()
                return
            buf = out.buffer
            start = len(buf)
            n = encoder.encode(block, buf, min(self.remaining, self.chunk))
            added = len(buf) - start
            out.commit(n, start)
            if n:
                # ~64 KiB per step: the writer hands the kernel cache-warm slabs
                self.chunk = max(16, CHUNK_BYTES * n // max(1, added))
            self.captured += n
            self.remaining -= n
            if self.remaining <= 0:
                return

    def _show_block(self, live: _Live, block, stopping: bool = True) -> None:
        """Printing (and ``--print`` with ``-w``): packet by packet; a stop
        signal ends the block early unless ``stopping`` is False (the last
        blocks, which are waited for to be shown)."""
        from pycap.capture import release_views
        cap, ifid = live.capture, self.lives.index(live)
        frames = cap.frames(block)
        try:
            self._show_frames(live, cap, ifid, frames, stopping)
        finally:
            release_views(frames)

    def _show_frames(self, live: _Live, cap, ifid: int, frames: list,
                     stopping: bool = True) -> None:
        for frame in frames:
            if self.output is not None:
                if not self.output.write_raw(frame.ts_ns, frame.data, frame.wire_len, ifid):
                    self._limit_reached()
                    return
            self.captured += 1
            self.remaining -= 1
            if self.printer is not None:
                self.printer.show(bytes(frame.data), frame.wire_len, frame.ts_ns,
                                  cap.linktype, self.captured)
            if self.remaining <= 0 or (stopping and self.stop):
                return

    def _limit_reached(self) -> None:
        self.outcome.message = f"Maximum file limit reached: {self.job.max_files}"
        self.remaining = 0

    def _update_console_counts(self) -> None:
        now = time.monotonic()
        if now >= self.next_counts:
            self.next_counts = now + STATUS_INTERVAL_S
            self.printer.set_counts(dropped=sum(live.capture.stats().dropped
                                                for live in self.lives))

    def _update_status(self) -> None:
        dropped = sum(live.capture.stats().dropped for live in self.lives)
        self.status.update(self.captured, dropped, self.output.bytes_written)

    # ---------------------------------------------------------------- closing

    def finish(self) -> None:
        """Close the output (a valid file, pcapng statistics at the end) and
        fill in the outcome; runs on every exit path, errors included."""
        if self.finished:
            return
        self.finished = True
        try:
            if self.status is not None:
                self.status.close()
            if self.printer is not None:
                self.printer.close()
            if self.output is not None:
                try:
                    self.output.close()
                except SavefileError as err:
                    from pycap.savefile._io import OutputClosed
                    if not isinstance(err, OutputClosed):
                        raise
                    self.outcome.output_closed = True
        finally:
            received = dropped = 0
            for live in self.lives:
                stats = live.capture.stats()
                received += stats.received
                dropped += stats.dropped
            self.outcome.captured = self.captured
            self.outcome.received, self.outcome.dropped = received, dropped


# --------------------------------------------------------------------- offline


class OfflineFilter:
    """Verdicts for savefile records: the very program that would go live, run
    by the kernel (BPF_PROG_TEST_RUN) when we may, else its decision graph
    walked in Python (pycap.ir.interp.runs)."""

    def __init__(self, compiled: CompiledFilter, use_kernel: bool = True, backend: str = "pycap"):
        self.compiled = compiled
        self.program = None
        if backend == "bcc":   # asked for by name: no silent fall-back to the interpreter
            from pycap.kernel.bcc_loader import load_filter
            self.program = load_filter(compiled, offline=True, name="pycap_offline")
        elif use_kernel:
            try:
                from pycap.kernel.bpf import load_program
                self.program = load_program(compiled.bytecode, name="pycap_offline")
            except KernelError:
                self.program = None    # not privileged: the interpreter is exact too

    def __call__(self, data: bytes, wire_len: int) -> bool:
        if self.program is not None:
            from pycap.kernel.bpf import TEST_RUN_MAX_FRAME, run_socket_filter
            if len(data) <= TEST_RUN_MAX_FRAME:
                return run_socket_filter(self.program, data, wire_len) != 0
        from pycap.ir.interp import runs
        return runs(self.compiled.graph, data, wire_len)

    def close(self) -> None:
        if self.program is not None:
            self.program.close()

    def __enter__(self) -> "OfflineFilter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _offline_filter(job: Job, linktype: int, byte_order: str,
                    use_kernel: bool) -> OfflineFilter | None:
    """Verdicts for records of ``linktype`` from a file written in ``byte_order``
    (it matters for DLT_NULL), or None when every record passes.
    Without an expression nothing is compiled, loaded, or even imported (and
    a link type the compiler does not know still prints)."""
    if not job.expression.strip():
        return None
    from pycap.compiler import compile_filter
    from pycap.ir.nodes import TRUE
    compiled = compile_filter(job.expression, linktype, job.snaplen, offline=True,
                              optimized=job.optimize,
                              netmask=job.netmask, byte_order=byte_order)
    if compiled.predicate == TRUE:
        return None       # e.g. "ip or not ip": asking for verdicts would cost more than printing
    return OfflineFilter(compiled, use_kernel, job.backend)


def _plain_printing(sink: "_Sink") -> bool:
    """Printing only, one line per packet, nothing else per packet to do."""
    job = sink.job
    return (sink.writer is None and sink.printer is not None and not job.number
            and not job.packet_buffered and not job.line_buffered and not sink.printer.has_status)


def _print_records(reader, sink: "_Sink", accept, stop: StopFlag) -> None:
    """The ``-r`` printing loop: the reader's batches of rows (no Record
    objects, no per-packet sink bookkeeping), one console write per batch.
    The stop flag is checked between batches."""
    render = sink.printer.renderer.render  # type: ignore[union-attr]
    write_lines = sink.printer.console.write_lines  # type: ignore[union-attr]
    limit = sink.job.count
    batches = reader.row_batches()
    while not stop and not (limit and sink.count >= limit):
        batch = next(batches, None)
        if batch is None:
            return
        if accept is not None:
            batch = [row for row in batch if accept(row[1], row[2])]
        if limit:
            batch = batch[:limit - sink.count]
        lines = [render(data, wire_len, linktype, ts_ns)
                 for ts_ns, data, wire_len, _interface, linktype in batch]
        sink.count += len(lines)
        write_lines(lines)


def run_offline(job: Job, paths: list[str], stop: StopFlag, use_kernel: bool = True,
                on_reading: Callable[[str], None] | None = None) -> Outcome:
    """Read savefiles in order, filter, then print and/or write.
    ``on_reading`` gets tcpdump's "reading from file" line for the first file,
    as soon as it is open (before the filter is compiled, as in tcpdump)."""
    from pycap.savefile import open_savefile
    outcome = Outcome()
    sink: _Sink | None = None
    active: tuple[int, str, OfflineFilter | None] | None = None
    try:
        for number, path in enumerate(paths):
            with open_savefile(path) as reader:
                linktype = reader.linktype
                if number == 0 and on_reading is not None:
                    on_reading(reading_line(path, linktype, reader.snaplen))
                if sink is not None and sink.writer is not None and active is not None \
                        and active[0] != linktype:
                    raise SavefileError(f"{path}: new dlt does not match original")
                if active is None or active[:2] != (linktype, reader.byteorder):
                    if active is not None and active[2] is not None:
                        active[2].close()
                    active = (linktype, reader.byteorder,
                              _offline_filter(job, linktype, reader.byteorder, use_kernel))
                if sink is None:
                    # one input: keep its snap length; several: the largest possible,
                    # so no record of a later file is cut
                    snaplen = (reader.snaplen or MAX_SNAPLEN) if len(paths) == 1 else MAX_SNAPLEN
                    sink = _Sink(job, linktype, snaplen,
                                 nanosecond=reader.nanosecond or job.nanosecond, out=sys.stdout)
                accept = active[2]
                if _plain_printing(sink):
                    _print_records(reader, sink, accept, stop)
                    continue
                for rec in reader:
                    if stop or sink.done():
                        break
                    if accept is None or accept(rec.data, rec.wire_len):
                        sink.take(rec.timestamp_ns, rec.data, rec.wire_len, rec.linktype)
                if sink.done():
                    break
    finally:
        if active is not None and active[2] is not None:
            active[2].close()
        if sink is not None:
            sink.close()
            outcome.captured = sink.count
            if sink.stopped:
                outcome.message = f"Maximum file limit reached: {job.max_files}"
    return outcome


__all__ = ["Job", "Outcome", "StopFlag", "run_live", "run_offline", "OfflineFilter",
           "listening_line", "link_type_text", "drop_privileges", "LinkType"]
