"""Write rendered packet lines to a stream: plain, or coloured with a status line.

Plain ``write`` of ``text + "\\n"`` unless the stream is a terminal or colour
is asked for, so pipes and files pay nothing.

Colour (``color="always"``, or ``"auto"`` with the stream a TTY and
``NO_COLOR`` unset): each line is painted per field (time stamp, protocol,
addresses and ports, TCP flags, lengths) with styles from rich, whose colour
system detection picks the escape codes (standard, 256 or truecolor).  The
styles are turned into escape sequences once; painting a line is one regular
expression, so a fast capture is not held up by the terminal code.

Status line (the stream a TTY, unless ``status=False``): the last line of the
terminal shows packets printed, the rate, and what the caller adds with
``set_counts``.  Every packet line is written together with erasing and
redrawing it, in one ``write`` under a lock, so packet lines are never torn
or interleaved with it; a daemon thread refreshes it twice a second while no
packets come.  ``flush()`` takes it off the screen (the caller flushes before
printing its summary), ``close()`` also stops the thread.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time

__all__ = ["Console", "want_color", "want_status", "protocol_of", "STYLES", "strip_ansi"]

# rich style strings per protocol (the line's protocol word) and per field
STYLES = {
    "tcp": "cyan",
    "udp": "green",
    "icmp": "magenta",
    "icmp6": "magenta",
    "arp": "yellow",
    "dns": "bright_blue",
    "ip6": "blue",
    "other": "white",
    # fields
    "time": "dim",
    "addr": "bold",
    "flags": "bold yellow",
    "reset": "bold red",
    "length": "dim",
    "status": "reverse",
}

_ERASE = "\r\x1b[2K"
STATUS_INTERVAL_S = 0.5


def want_color(stream, color: str = "auto") -> bool:
    """Whether to colour: never with "never", always with "always", else TTY and no NO_COLOR."""
    if color == "never":
        return False
    if color == "always":
        return True
    if os.environ.get("NO_COLOR") is not None:
        return False
    return _isatty(stream)


def want_status(stream) -> bool:
    """A status line only on a terminal that can erase a line."""
    return _isatty(stream) and os.environ.get("TERM", "") != "dumb"


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def protocol_of(line: str) -> str:
    """A cheap guess at the protocol of a tcpdump line, for colouring."""
    if "Flags [" in line:
        return "tcp"
    if "ICMP6" in line:
        return "icmp6"
    if "ICMP" in line:
        return "icmp"
    if "ARP," in line or line.startswith("ARP"):
        return "arp"
    if "UDP," in line:
        return "udp"
    if "? " in line or ".53:" in line or ".53 >" in line:
        return "dns"
    if "IP6 " in line:
        return "ip6"
    return "other"


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


# the fields painted: time stamp at the start, the protocol word, addresses
# (with ports) around " > ", "Flags [...]", and "length N"
_FIELDS = re.compile(
    r"(?P<time>^[ -]?\d[\d:.-]*(?: \d[\d:.]*)?(?= ))"
    r"|(?P<proto>\b(?:IP6?|ARP|ICMP6?|UDP|DNS)\b)"
    r"|(?P<addr>(?<=[ (])(?:[0-9a-f:]*:[0-9a-f:.]+|\d+\.\d+\.\d+\.\d+)(?:\.\d+)?(?=[ :,)]))"
    r"|(?P<flags>Flags \[[^\]]*\])"
    r"|(?P<length>\blength \d+)", re.M)


class _Painter:
    """Escape sequences for the styles, made once with rich."""

    def __init__(self, stream, force: bool):
        from rich.color import ColorSystem
        from rich.console import Console as _RichConsole
        from rich.style import Style
        probe = _RichConsole(file=stream, force_terminal=force or None, highlight=False)
        system = probe.color_system
        cs = {"standard": ColorSystem.STANDARD, "256": ColorSystem.EIGHT_BIT,
              "truecolor": ColorSystem.TRUECOLOR, "windows": ColorSystem.WINDOWS}.get(
                  system or "standard", ColorSystem.STANDARD)
        self.codes = {}
        for name, spec in STYLES.items():
            rendered = Style.parse(spec).render("\0", color_system=cs)
            on, _, off = rendered.partition("\0")
            self.codes[name] = (on, off)

    def paint(self, line: str) -> str:
        codes = self.codes
        proto = codes[protocol_of(line)]

        def sub(m):
            kind = m.lastgroup
            text = m.group(0)
            tail = ""
            if kind == "proto":
                on, off = proto
            elif kind == "flags":
                on, off = codes["reset" if "R" in text else "flags"]
            else:
                on, off = codes[kind]
                if kind == "addr" and text[-1] == ":" and text[-2:] != "::":
                    text, tail = text[:-1], ":"      # "ff02::1:" is the address, then ":"
            return on + text + off + tail
        return _FIELDS.sub(sub, line)


class Console:
    """``write_line(text)`` puts one packet's text (and a newline) on the stream."""

    def __init__(self, stream=None, color: str = "auto", status: bool | None = None):
        self.stream = stream if stream is not None else sys.stdout
        self.color = want_color(self.stream, color)
        self.status = want_status(self.stream) if status is None else bool(status)
        self._write = self.stream.write
        self._painter = None
        if self.color:
            try:
                self._painter = _Painter(self.stream, force=color == "always")
            except Exception:  # noqa: BLE001 - rich missing or broken: plain text
                self.color = False
        self.printed = 0
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._shown = False              # the status line is on the screen
        self._started = time.monotonic()
        self._rate = (self._started, 0, 0.0)   # (when, printed then, rate)
        self._thread = None
        self._stop = threading.Event()
        if not self.color and not self.status:
            self.write_line = self._write_plain        # the fast path: no checks per line
            self.write_lines = self._write_plain_lines
        if self.status:
            self._thread = threading.Thread(target=self._refresh_loop, name="pycap-status",
                                            daemon=True)
            self._thread.start()

    # -- packets ---------------------------------------------------------

    def _write_plain(self, text: str) -> None:
        self._write(text + "\n")

    def _write_plain_lines(self, texts: list[str]) -> None:
        if texts:
            self._write("\n".join(texts) + "\n")

    def write_line(self, text: str) -> None:
        if self._painter is not None:
            text = self._painter.paint(text)
        if not self.status:
            self._write(text + "\n")
            return
        with self._lock:
            self.printed += 1
            if self._shown:
                self._write(_ERASE + text + "\n" + self._status_text())
            else:
                self._write(text + "\n" + self._status_text())
                self._shown = True

    def write_lines(self, texts: list[str]) -> None:
        """Several packets' texts; on a plain stream, in one ``write``."""
        for t in texts:
            self.write_line(t)

    # -- status line -----------------------------------------------------

    def set_counts(self, **counts: int) -> None:
        """Extra figures for the status line, e.g. ``captured=…, dropped=…``."""
        self.counts.update(counts)

    def _status_text(self) -> str:
        now = time.monotonic()
        when, before, rate = self._rate
        if when == self._started and now > when:        # the first half second: so far
            rate = self.printed / (now - when)
        if now - when >= STATUS_INTERVAL_S:
            rate = (self.printed - before) / (now - when)
            self._rate = (now, self.printed, rate)
        parts = ["%s packets" % format(self.printed, ",")]
        parts += ["%s %s" % (format(v, ","), k) for k, v in self.counts.items()]
        parts.append("%s/s" % format(round(rate), ","))
        text = " pycap: " + ", ".join(parts) + " "
        width = shutil.get_terminal_size((80, 24)).columns
        text = text[:max(width - 1, 1)]
        if self._painter is not None:
            on, off = self._painter.codes["status"]
            text = on + text + off
        return text

    def _refresh_loop(self) -> None:
        while not self._stop.wait(STATUS_INTERVAL_S):
            with self._lock:
                if not self._shown:
                    continue
                try:
                    self._write(_ERASE + self._status_text())
                    self.stream.flush()
                except (OSError, ValueError):
                    return

    def _hide(self) -> None:
        with self._lock:
            if self._shown:
                self._shown = False
                try:
                    self._write(_ERASE)
                except (OSError, ValueError):
                    pass

    # -- end -------------------------------------------------------------

    def flush(self) -> None:
        """Flush the stream, taking the status line off the screen first."""
        if self.status:
            self._hide()
        try:
            self.stream.flush()
        except (AttributeError, ValueError, OSError):
            pass

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
            self._thread = None
        self.flush()
