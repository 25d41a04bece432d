"""The loops that move packets: live capture or savefile -> filter -> file or
terminal.  The CLI parses flags into a ``Job`` and calls ``run_live`` or
``run_offline``; nothing here parses arguments or prints errors."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from typing import Callable, TextIO

from pycap.compiler import MAX_SNAPLEN, CompiledFilter, compile_filter
from pycap.errors import CaptureError, KernelError, SavefileError
from pycap.ir.interp import matches
from pycap.linktype import link_info


@dataclass
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
    buffer_kib: int = 2048
    immediate: bool = False
    netmask: int = 0


@dataclass
class Outcome:
    captured: int = 0
    received: int = 0
    dropped: int = 0
    stats_known: bool = False


@dataclass
class StopFlag:
    """Set by signal handlers; checked by the loops between blocks."""

    event: threading.Event = field(default_factory=threading.Event)

    def set(self) -> None:
        self.event.set()

    def __bool__(self) -> bool:
        return self.event.is_set()


class _Sink:
    """Where accepted packets go: a savefile writer and/or the terminal."""

    def __init__(self, job: Job, linktype: int, snaplen: int, nanosecond: bool = False,
                 out: TextIO | None = None):
        self.job = job
        self.writer = None
        self.printer: Callable[[bytes, int, int], None] | None = None
        self.count = 0
        if job.write is not None:
            from pycap.savefile import open_writer
            self.writer = open_writer(job.write, linktype, snaplen, nanosecond=nanosecond,
                                      pcapng=job.pcapng)
        if job.print_packets:
            self.printer = self._make_printer(linktype, out)

    def _make_printer(self, linktype: int, out: TextIO | None) -> Callable[[bytes, int, int], None]:
        from pycap.render import RenderOptions, Renderer
        from pycap.render.console import Console
        renderer = Renderer(self.job.render_options or RenderOptions())
        console = Console(out, color=self.job.color)

        def show(data: bytes, wire_len: int, ts_ns: int) -> None:
            text = renderer.render(data, wire_len, linktype, ts_ns)
            if self.job.number:
                text = f"{self.count:5d}  {text}"
            console.write_line(text)
            if self.job.packet_buffered:
                console.flush()
        self.console = console
        return show

    def take(self, ts_ns: int, data, wire_len: int) -> None:
        self.count += 1
        if self.writer is not None:
            self.writer.write_raw(ts_ns, data, wire_len)
            if self.job.packet_buffered:
                self.writer.flush()
        if self.printer is not None:
            self.printer(bytes(data), wire_len, ts_ns)

    def done(self) -> bool:
        return bool(self.job.count) and self.count >= self.job.count

    def close(self) -> None:
        if self.printer is not None:
            self.console.flush()
        if self.writer is not None:
            self.writer.close()


def run_live(job: Job, interface: str, stop: StopFlag,
             on_listening: Callable[[str], None]) -> Outcome:
    """Capture on ``interface`` until ``stop``, ``-c`` or an error."""
    from pycap.capture import Capture, interface_linktype
    from pycap.kernel.bpf import load_program
    linktype = interface_linktype(interface)
    compiled = compile_filter(job.expression, linktype, job.snaplen, netmask=job.netmask)
    outcome = Outcome(stats_known=True)
    with _load_live_program(compiled, interface) as program, \
            Capture(interface, program, snaplen=compiled.snaplen, promisc=job.promisc,
                    direction=job.direction, buffer_kib=job.buffer_kib,
                    immediate=job.immediate) as cap:
        info = link_info(linktype)
        on_listening(f"listening on {interface}, link-type {info.name} ({info.description}), "
                     f"snapshot length {compiled.snaplen} bytes")
        sink = _Sink(job, linktype, compiled.snaplen)
        try:
            while not stop and not sink.done():
                for block in cap.blocks(timeout_s=0.2):
                    for frame in block:
                        sink.take(frame.ts_ns, frame.data, frame.wire_len)
                        if sink.done():
                            break
                    if sink.done() or stop:
                        break
        finally:
            sink.close()
            stats = cap.stats()
            outcome.captured, outcome.received, outcome.dropped = (
                sink.count, stats.received, stats.dropped)
    return outcome


def _load_live_program(compiled: CompiledFilter, interface: str):
    import errno
    import os
    from pycap.kernel.bpf import load_program
    try:
        return load_program(compiled.bytecode, name="pycap_filter")
    except KernelError as err:
        if err.errno in (errno.EPERM, errno.EACCES) and not err.verifier_log:
            raise CaptureError(f"{interface}: You don't have permission to perform this capture "
                               f"on that device (bpf: {os.strerror(err.errno)})") from None
        raise


class OfflineFilter:
    """Verdicts for savefile records: the very program that would go live, run
    by the kernel (BPF_PROG_TEST_RUN) when we may, else the IR interpreter."""

    def __init__(self, compiled: CompiledFilter, use_kernel: bool = True):
        self.compiled = compiled
        self.program = None
        if use_kernel:
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
        return matches(self.compiled.predicate, data, wire_len)

    def close(self) -> None:
        if self.program is not None:
            self.program.close()

    def __enter__(self) -> "OfflineFilter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_offline(job: Job, paths: list[str], stop: StopFlag, use_kernel: bool = True) -> Outcome:
    """Read savefiles in order, filter, then print and/or write."""
    from pycap.savefile import open_savefile
    outcome = Outcome()
    sink: _Sink | None = None
    active: tuple[int, OfflineFilter] | None = None
    try:
        for path in paths:
            with open_savefile(path) as reader:
                linktype = reader.linktype
                if sink is not None and sink.writer is not None and active is not None \
                        and active[0] != linktype:
                    raise SavefileError(f"{path}: new dlt does not match original")
                if active is None or active[0] != linktype:
                    if active is not None:
                        active[1].close()
                    compiled = compile_filter(job.expression, linktype, job.snaplen,
                                              offline=True, netmask=job.netmask)
                    active = (linktype, OfflineFilter(compiled, use_kernel))
                if sink is None:
                    # one input: keep its snap length; several: the largest possible,
                    # so no record of a later file is cut
                    snaplen = (reader.snaplen or MAX_SNAPLEN) if len(paths) == 1 else MAX_SNAPLEN
                    sink = _Sink(job, linktype, snaplen,
                                 nanosecond=reader.nanosecond, out=sys.stdout)
                accept = active[1]
                for record in reader:
                    if stop or sink.done():
                        break
                    if accept(record.data, record.wire_len):
                        sink.take(record.timestamp_ns, record.data, record.wire_len)
    finally:
        if active is not None:
            active[1].close()
        if sink is not None:
            sink.close()
            outcome.captured = sink.count
    return outcome
