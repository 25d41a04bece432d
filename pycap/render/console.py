"""Write rendered packet lines to a stream.

Plain ``write`` unless colour is wanted: ``color="always"``, or ``"auto"``
with the stream a TTY and ``NO_COLOR`` unset.  rich is imported only then.
"""

from __future__ import annotations

import os
import sys

__all__ = ["Console", "want_color", "protocol_of"]

_STYLES = {
    "tcp": "cyan",
    "udp": "green",
    "icmp": "magenta",
    "icmp6": "magenta",
    "arp": "yellow",
    "dns": "bright_blue",
    "ip6": "blue",
    "other": "white",
}


def want_color(stream, color: str = "auto") -> bool:
    """Whether to colour: never with "never", always with "always", else TTY and no NO_COLOR."""
    if color == "never":
        return False
    if color == "always":
        return True
    if os.environ.get("NO_COLOR") is not None:
        return False
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


class Console:
    """``write_line(text)`` puts one packet's text (and a newline) on the stream."""

    def __init__(self, stream=None, color: str = "auto"):
        self.stream = stream if stream is not None else sys.stdout
        self.color = want_color(self.stream, color)
        self._rich = None
        if self.color:
            from rich.console import Console as _RichConsole  # lazy: slow to import

            self._rich = _RichConsole(file=self.stream, highlight=False, soft_wrap=True,
                                      force_terminal=True)
        self._write = self.stream.write

    def write_line(self, text: str) -> None:
        if self._rich is None:
            self._write(text + "\n")
            return
        from rich.text import Text

        self._rich.print(Text(text, style=_STYLES.get(protocol_of(text), "white")))

    def write_lines(self, texts) -> None:
        if self._rich is None:
            self._write("".join(t + "\n" for t in texts))
            return
        for t in texts:
            self.write_line(t)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except (AttributeError, ValueError, OSError):
            pass
