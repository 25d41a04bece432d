"""The netdb files' common form (/etc/services, /etc/networks, /etc/ethers):
whitespace-separated fields, ``#`` to the end of a line a comment.  The
filter language and the printers both read them, each for its own table."""

from __future__ import annotations


def table_lines(path: str) -> list[list[str]]:
    """The fields of each line of ``path`` that has two or more, comments
    removed; no file (or no reading it), no lines."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    return [fields for line in text.splitlines()
            if len(fields := line.split("#", 1)[0].split()) >= 2]
