"""Access to the conformance corpus copied under expr/corpus (tcpdump's verdicts)."""

from __future__ import annotations

import functools
from pathlib import Path

from pycap.savefile import open_savefile

CORPUS = Path(__file__).resolve().parent.parent / "expr" / "corpus"
LINKTYPES = {1: "EN10MB", 113: "LINUX_SLL", 276: "LINUX_SLL2", 101: "RAW"}


@functools.cache
def captures() -> dict[str, int]:
    """capture file name -> LINKTYPE, as tcpdump saw it."""
    out = {}
    for line in (CORPUS / "expected" / "_pcaps.tsv").read_text().splitlines():
        name, linktype, *_ = line.split("\t")
        if name != "pcap":
            out[name] = int(linktype)
    return out


@functools.cache
def records(name: str) -> tuple[tuple[bytes, int], ...]:
    """(captured bytes, wire length) of every record of a capture, in order."""
    with open_savefile(str(CORPUS / "pcaps" / name)) as reader:
        return tuple((r.data, r.wire_len) for r in reader)


@functools.cache
def expected(name: str) -> dict[str, frozenset[int]]:
    """expression -> 1-based indices of the packets tcpdump selects in capture ``name``."""
    return read_verdicts(CORPUS / "expected" / f"{name}.tsv")


def read_verdicts(path: Path) -> dict[str, frozenset[int]]:
    """A verdict table: ``expression<TAB>i,j,...`` (``-`` for none) a line."""
    out = {}
    for line in path.read_text().splitlines():
        expr, _, indices = line.rpartition("\t")
        out[expr] = frozenset() if indices == "-" else frozenset(int(i) for i in indices.split(","))
    return out


@functools.cache
def errors() -> dict[tuple[int, str], str]:
    """(linktype, expression) -> tcpdump's error, for expressions rejected on that link type."""
    out = {}
    for line in (CORPUS / "expected" / "_errors.tsv").read_text().splitlines():
        linktype, expr, message = line.split("\t")
        if linktype.isdigit():
            out[(int(linktype), expr)] = message
    return out


def expressions() -> list[str]:
    lines = (CORPUS / "expressions.txt").read_text().splitlines()
    lines += (CORPUS / "expressions_nonether.txt").read_text().splitlines()
    return [line for line in lines if line.strip()]


def invalid() -> list[tuple[str, str]]:
    out = []
    for line in (CORPUS / "invalid.txt").read_text().splitlines():
        expr, _, message = line.rpartition("\t")
        out.append((expr, message))
    return out


def captures_of(linktype: int) -> list[str]:
    return sorted(n for n, lt in captures().items() if lt == linktype)
