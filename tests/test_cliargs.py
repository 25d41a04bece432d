"""pycap.cliargs: the command line read as tcpdump's getopt_long reads it."""

from __future__ import annotations

import random

import pytest

from pycap.cliargs import APPEND, COUNT, FLAG, OPTIONS, c_integer, help_parser, parse
from pycap.errors import UsageError


def test_clusters_and_values_attached_or_apart():
    a = parse(["-nnvXc5", "-ilo", "-i", "eth0", "-w-", "-s", "0x40"])
    assert (a.numeric, a.verbose, a.hexascii, a.count) == (2, 1, 1, 5)
    assert a.interface == ["lo", "eth0"] and a.write == "-" and a.snaplen == 64
    assert a.expression == []


def test_options_after_the_expression_are_options():
    """``tcpdump -i eth0 port 53 -nn -w x.pcap`` works; so does pycap's."""
    a = parse(["-i", "eth0", "port", "53", "-nn", "-w", "x.pcap", "and", "udp"])
    assert a.expression == ["port", "53", "and", "udp"]
    assert (a.interface, a.numeric, a.write) == (["eth0"], 2, "x.pcap")


def test_double_dash_ends_the_options_and_digits_are_never_options():
    a = parse(["-n", "--", "-v", "x"])
    assert a.expression == ["-v", "x"] and a.verbose == 0
    assert parse(["ip[2]", "=", "-1", "-n"]).expression == ["ip[2]", "=", "-1"]
    assert parse(["-", "-n"]).expression == ["-"]


def test_long_options_take_values_both_ways_and_prefixes():
    a = parse(["--interface=lo", "--backend", "bcc", "--imm", "--time-stamp-p", "nano",
               "--number", "--json"])
    assert (a.interface, a.backend, a.immediate_mode, a.time_stamp_precision, a.number,
            a.json) == (["lo"], "bcc", True, "nano", True, True)


@pytest.mark.parametrize("argv, message", [
    (["-k"], "invalid option -- 'k'"),
    (["-c"], "option requires an argument -- 'c'"),
    (["-n", "-w"], "option requires an argument -- 'w'"),
    (["--no-such-flag"], "unrecognized option '--no-such-flag'"),
    (["--pcapng=1"], "option '--pcapng' doesn't allow an argument"),
    (["--backend"], "option '--backend' requires an argument"),
    (["--time"], "option '--time' is ambiguous; possibilities: '--time-stamp-type' "
                 "'--time-stamp-precision'"),
    (["-c", "x"], "invalid packet count x"),
    (["-c5x"], "invalid packet count 5x"),
    (["-s", "08"], "invalid snaplen 08"),
    (["-B", ""], "invalid packet buffer size "),
    (["-G", "1.5"], "invalid number of seconds 1.5"),
    (["-W", "two"], "invalid number of output files two"),
    (["-Q", "sideways"], "unknown capture direction `sideways'"),
    (["--time-stamp-precision", "pico"], "unsupported time stamp precision"),
])
def test_errors_in_tcpdumps_words(argv, message):
    with pytest.raises(UsageError) as err:
        parse(argv)
    assert str(err.value) == message


@pytest.mark.parametrize("text, value", [
    ("5", 5), ("+5", 5), ("-5", -5), (" 7", 7), ("0", 0), ("0x40", 64), ("0X1f", 31),
    ("010", 8), ("-0x10", -16), ("", None), ("0x", None), ("08", None), ("5x", None),
    ("1.5", None), ("x", None), ("- 5", None),
])
def test_c_integer_reads_like_strtol_base_0(text, value):
    assert c_integer(text) == value


def test_defaults_and_help_agree_with_the_table():
    """The -h parser is made from the same table: same destinations and
    defaults, and every option is in the help text."""
    ours, theirs = vars(parse([])), vars(help_parser().parse_args([]))
    assert ours == theirs
    text = help_parser().format_help()
    for o in OPTIONS:
        assert (f"-{o.short}" if o.short else f"--{o.long}") in text


def _random_command_line(rng: random.Random) -> list[str]:
    argv = []
    for o in rng.sample(OPTIONS, rng.randint(0, 8)):
        if o.dest in ("help", "version"):
            continue
        name = rng.choice([n for n in (f"-{o.short}" if o.short else None,
                                       f"--{o.long}" if o.long else None) if n])
        if o.kind in (FLAG, COUNT):
            argv += [name] * (rng.randint(1, 3) if o.kind == COUNT else 1)
        else:
            value = (rng.choice(o.choices) if o.choices else str(rng.randint(0, 999))
                     if o.integer else rng.choice(["lo", "x.pcap", "a b"]))
            argv += [name, value] * (rng.randint(1, 2) if o.kind == APPEND else 1)
    return argv + rng.choice([[], ["tcp"], ["port", "53", "and", "udp"], ["ip[2] = 1"]])


def test_options_first_lines_read_as_argparse_reads_them():
    """Where argparse and getopt_long agree (options first, then the
    expression), both give the same values: 2000 random command lines."""
    rng = random.Random(7)
    parser = help_parser()
    for _ in range(2000):
        argv = _random_command_line(rng)
        assert vars(parse(argv)) == vars(parser.parse_args(argv)), argv
