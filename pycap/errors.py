"""One exception tree for everything a user can get wrong or the system can refuse.

Every error carries the text a user sees; the CLI prints ``str(err)`` on one
line (plus a caret line for filter errors) and exits non-zero.  Nothing here
prints.
"""

from __future__ import annotations

from pycap.frozen import frozen


class PycapError(Exception):
    """Base of every error pycap reports to a user."""

    exit_code = 1


@frozen
class Span:
    """A half-open range of character offsets into the filter expression."""

    start: int
    end: int


class FilterError(PycapError):
    """The filter expression is invalid; ``span`` points at the offending token."""

    def __init__(self, message: str, span: Span | None = None, source: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.source = source

    def with_source(self, source: str) -> "FilterError":
        self.source = source
        return self

    def caret_lines(self) -> list[str]:
        """The expression and a caret line under the bad token (empty without a span)."""
        if self.span is None or self.source is None:
            return []
        start = min(self.span.start, len(self.source))
        width = max(1, self.span.end - self.span.start)
        return [self.source, " " * start + "^" * width]


class UnsupportedFilterError(FilterError):
    """Valid pcap-filter syntax that this version of pycap cannot compile yet."""


class KernelError(PycapError):
    """A bpf(2) or socket call failed; ``verifier_log`` holds the verifier's text."""

    def __init__(self, message: str, errno: int = 0, verifier_log: str = ""):
        super().__init__(message)
        self.errno = errno
        self.verifier_log = verifier_log


class CaptureError(PycapError):
    """Opening or reading a live interface failed."""


class SavefileError(PycapError):
    """A pcap/pcapng file is unreadable, truncated or malformed."""


class UsageError(PycapError):
    """Bad command-line flags."""

    exit_code = 1


class SteerError(PycapError):
    """``pycap steer`` cannot do what it was asked (socket, link or pin problems)."""


class NoListenerError(SteerError):
    """No socket to steer to: nothing listens on the address, or the fd is no socket."""


class WrongProtocolError(SteerError):
    """The target socket's protocol or family can never match the rule's expression."""


class SteerPermissionError(SteerError):
    """Missing privileges: taking another process's socket, loading or linking BPF."""


class AlreadyLinkedError(SteerError):
    """The network namespace already has an sk_lookup program linked."""
