"""The ``pycap steer`` command line.

    pycap steer [--netns NS] [--pin PATH] [--interval S] [--backend pycap|bcc] [-d | -d c]
                RULE...
        RULE := (--to ADDR:PORT | --to-pid PID --to-fd FD) [--label NAME] EXPR
    pycap steer --test EXPR [--label NAME] ... --lookup LOOKUP ...
    pycap steer --to ADDR:PORT EXPR ... --lookup LOOKUP ...   (dry run, real sockets)
    pycap steer --list [DIR]
    pycap steer --detach PATH

Rules are tried in order, the first match wins.  An expression is the words
after its rule's options up to the next option, so it may be quoted or not.
Errors are PycapError subclasses; the caller (``pycap.cli.main``) prints them.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Sequence, TextIO

from pycap.bpf import sklookup
from pycap.errors import SteerPermissionError, UsageError
from pycap.steer.lookup import Lookup, parse_endpoint, parse_lookup
from pycap.steer.sockets import Netns
from pycap.steer.steering import (BACKENDS, BPFFS_DEFAULT, Counters, Pinned, Rule, RuleSpec,
                                  Steering, Verdict, borrow_sockets, compile_rule, detach_pinned,
                                  interpret, list_pinned, release_sockets, steering_c)

USAGE = """\
usage: pycap steer [--netns NAME|PATH] [--pin PATH] [--interval SECONDS]
                   [--backend pycap|bcc] [-d | -d c | --dump-c]
                   (--to ADDR:PORT | --to-pid PID --to-fd FD) [--label NAME] EXPR
                   [(--to ...) [--label NAME] EXPR ...]
       pycap steer --test EXPR [--label NAME] [--test EXPR ...] --lookup LOOKUP [--lookup ...]
       pycap steer --list [DIR]
       pycap steer --detach PATH

Steer new TCP connections and UDP datagrams whose socket lookup matches EXPR
to the socket listening on ADDR:PORT (first matching rule wins). EXPR is a
pcap-filter expression over what sk_lookup sees: tcp, udp, ip, ip6, host,
net, port, portrange (src = remote end, dst = local end), ifindex.
LOOKUP is 'PROTO SRC:PORT -> DST:PORT [if IFINDEX]'. --backend bcc compiles the
program as C with BCC; -d prints the program, -d c (--dump-c) its C.
"""


@dataclass
class _RuleArgs:
    head: str                       # --to, --to-pid or --test
    value: str                      # its argument
    label: str | None = None
    fd: int | None = None
    words: list[str] = field(default_factory=list)


@dataclass
class SteerArgs:
    rules: list[_RuleArgs] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    netns: str | None = None
    pin: str | None = None
    interval: float = 1.0
    dump: bool = False
    dump_c: bool = False
    backend: str = "pycap"
    list_root: str | None = None
    detach: str | None = None
    help: bool = False


_WITH_VALUE = {"--to", "--to-pid", "--to-fd", "--label", "--test", "--lookup", "--netns",
               "--pin", "--interval", "--detach", "--backend"}


def parse_args(argv: Sequence[str]) -> SteerArgs:
    args = SteerArgs()
    items = list(argv)
    i = 0
    while i < len(items):
        word = items[i]
        i += 1
        if word in ("-h", "--help"):
            args.help = True
            continue
        if word == "-d" and i < len(items) and items[i] == "c":    # as pycap -d c
            args.dump_c = True
            i += 1
            continue
        if word == "--dump-c":
            args.dump_c = True
            continue
        if word == "-d":
            args.dump = True
            continue
        if word == "--list":
            args.list_root = BPFFS_DEFAULT
            if i < len(items) and not items[i].startswith("-"):
                args.list_root = items[i]
                i += 1
            continue
        if word.startswith("-") and word not in _WITH_VALUE and not args.rules:
            raise UsageError(f"steer: unknown option '{word}'")
        if word in _WITH_VALUE:
            if i >= len(items):
                raise UsageError(f"steer: {word} needs an argument")
            value = items[i]
            i += 1
            _option(args, word, value)
            continue
        if word.startswith("--"):
            raise UsageError(f"steer: unknown option '{word}'")
        if not args.rules:
            raise UsageError(f"steer: expression '{word}' before any --to or --test")
        args.rules[-1].words.append(word)
    return args


def _option(args: SteerArgs, word: str, value: str) -> None:
    if word in ("--to", "--to-pid", "--test"):
        args.rules.append(_RuleArgs(word, value))
        if word == "--test":
            args.rules[-1].words.append(value)
    elif word in ("--label", "--to-fd"):
        if not args.rules:
            raise UsageError(f"steer: {word} before any --to or --test")
        rule = args.rules[-1]
        if word == "--label":
            rule.label = value
        elif rule.head != "--to-pid":
            raise UsageError("steer: --to-fd must follow --to-pid")
        else:
            rule.fd = _int(word, value)
    elif word == "--lookup":
        args.lookups.append(value)
    elif word == "--netns":
        args.netns = value
    elif word == "--pin":
        args.pin = value
    elif word == "--interval":
        try:
            args.interval = float(value)
        except ValueError:
            raise UsageError(f"steer: --interval needs a number of seconds, not '{value}'"
                             ) from None
        if not 0.05 <= args.interval <= 3600:
            raise UsageError("steer: --interval must be between 0.05 and 3600 seconds")
    elif word == "--detach":
        args.detach = value
    elif word == "--backend":
        if value not in BACKENDS:
            raise UsageError(f"steer: --backend must be pycap or bcc, not '{value}'")
        args.backend = value


def _int(word: str, value: str) -> int:
    if not value.isdigit():
        raise UsageError(f"steer: {word} needs a number, not '{value}'")
    return int(value)


def rule_specs(args: SteerArgs) -> list[RuleSpec]:
    specs = []
    heads = {r.head for r in args.rules}
    if "--test" in heads and heads != {"--test"}:
        raise UsageError("steer: --test rules cannot be mixed with --to rules")
    for rule in args.rules:
        expression = " ".join(rule.words).strip()
        label = rule.label
        if rule.head == "--to":
            specs.append(RuleSpec(expression, label, to=parse_endpoint(rule.value, "--to")))
        elif rule.head == "--to-pid":
            if rule.fd is None:
                raise UsageError("steer: --to-pid needs --to-fd")
            specs.append(RuleSpec(expression, label, pid_fd=(_int("--to-pid", rule.value),
                                                             rule.fd)))
        else:
            specs.append(RuleSpec(expression, label))
    return specs


# ------------------------------------------------------------------------ output


def rule_line(steering: Steering, index: int) -> str:
    rule = steering.rules[index]
    return f"{rule.name}: {rule.spec.expression or '(everything)'} -> {rule.target}"


def status_line(steering: Steering, counters: Counters) -> str:
    parts = [f"{rule.name} matched {counters.matched[i]} steered {counters.steered[i]}"
             for i, rule in enumerate(steering.rules)]
    return f"lookups {counters.lookups}: " + ", ".join(parts)


def verdict_line(rules: list[Rule], verdict: Verdict) -> str:
    if verdict.rule is None:
        return f"{verdict.lookup}: no rule matches, normal lookup"
    rule = rules[verdict.rule]
    if rule.socket is None:
        return f"{verdict.lookup}: {rule.name} (rule {verdict.rule}) matches"
    if verdict.steered:
        return f"{verdict.lookup}: {rule.name} (rule {verdict.rule}) steers to {rule.target}"
    return (f"{verdict.lookup}: {rule.name} (rule {verdict.rule}) matches, but its socket is "
            f"gone: normal lookup")


def pinned_lines(pinned: Pinned) -> list[str]:
    meta = pinned.meta
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(meta.get("created", 0)))
    backend = " (BCC)" if meta.get("backend") == "bcc" else ""
    lines = [f"{pinned.path}: {meta.get('netns', '?')}, pinned by pid {meta.get('pid', '?')} "
             f"at {when}{backend}"]
    c = pinned.counters
    for i, rule in enumerate(pinned.rules):
        counts = f": matched {c.matched[i]} steered {c.steered[i]}" if c else ""
        lines.append(f"  {rule.get('label')}: {rule.get('expression') or '(everything)'} -> "
                     f"{rule.get('target')}{counts}")
    if c:
        lines.append(f"  lookups {c.lookups}")
    return lines


# ------------------------------------------------------------------------ commands


def run_steer(argv: Sequence[str], out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parse_args(argv)
    if args.help or not (args.rules or args.list_root or args.detach):
        out.write(USAGE)
        return 0 if args.help else 1
    if args.list_root is not None:
        return _list(args.list_root, out)
    if args.detach is not None:
        pinned = detach_pinned(args.detach)
        _say(out, f"detached {pinned.path} ({pinned.meta.get('netns', '?')})")
        return 0
    specs = rule_specs(args)
    testing = all(s.to is None and s.pid_fd is None for s in specs)
    if testing and not args.lookups and not (args.dump or args.dump_c):
        raise UsageError("steer: --test needs at least one --lookup")
    lookups = [parse_lookup(text) for text in args.lookups]
    if args.dump_c:
        return _dump_c(specs, args.netns, out)
    if testing and args.dump and args.backend == "pycap":
        return _dump_pure(specs, out)
    netns = Netns.resolve(args.netns)
    if testing and args.backend == "pycap":
        try:
            steering = Steering.build(specs, netns)
        except SteerPermissionError:       # no BPF here: pycap's interpreter decides
            rules = [compile_rule(i, spec) for i, spec in enumerate(specs)]
            for lookup in lookups:
                out.write(verdict_line(rules, interpret(rules, lookup)) + "\n")
            return 0
    else:    # BCC compiles the dry runs' ifindex variants with the program
        steering = Steering.build(specs, netns, backend=args.backend,
                                  ifindexes={lookup.ifindex for lookup in lookups
                                             if lookup.ifindex})
    with steering:
        if args.dump:
            out.write(steering.disassemble() + "\n")
            return 0
        if lookups:
            return _dry_run(steering, lookups, out)
        return _steer(steering, args, out)


def _list(root: str, out: TextIO) -> int:
    found = list_pinned(root)
    if not found:
        _say(out, f"no pinned pycap steering under {root}")
    for pinned in found:
        for line in pinned_lines(pinned):
            out.write(line + "\n")
    out.flush()
    return 0


def _dump_pure(specs: list[RuleSpec], out: TextIO) -> int:
    """-d with --test rules: no kernel objects; maps are placeholders."""
    rules = [compile_rule(i, spec) for i, spec in enumerate(specs)]
    insns = sklookup.generate([r.program_predicate for r in rules], -1, -2)
    out.write(sklookup.disassemble(insns, {-1: "sockmap", -2: "counters"}) + "\n")
    return 0


def _dump_c(specs: list[RuleSpec], netns: str | None, out: TextIO) -> int:
    """-d c: the C the BCC backend compiles; needs neither BCC nor BPF.  Rules
    with sockets look them up (their protocol and family go into the C)."""
    rules = [compile_rule(i, spec) for i, spec in enumerate(specs)]
    if any(s.to is not None or s.pid_fd is not None for s in specs):
        borrow_sockets(rules, Netns.resolve(netns))
        release_sockets(rules)
    out.write(steering_c(rules))
    return 0


def _dry_run(steering: Steering, lookups: list[Lookup], out: TextIO) -> int:
    for lookup in lookups:
        out.write(verdict_line(steering.rules, steering.dry_run(lookup)) + "\n")
    out.flush()
    return 0


def _say(out: TextIO, line: str) -> None:
    out.write(line + "\n")
    out.flush()


def _steer(steering: Steering, args: SteerArgs, out: TextIO) -> int:
    for i in range(len(steering.rules)):
        _say(out, rule_line(steering, i))
    stop = threading.Event()
    previous = _install_signals(stop)
    try:
        steering.attach()
        if args.pin:
            steering.pin(args.pin)
            _say(out, f"pinned at {args.pin} in {steering.netns.name}; "
                      f"'pycap steer --detach {args.pin}' removes it")
            return 0
        _say(out, f"steering in {steering.netns.name} (Ctrl-C to stop)")
        if out.isatty():
            _live_table(steering, stop, args.interval)
        else:
            _plain_status(steering, stop, args.interval, out)
        _say(out, status_line(steering, steering.read_counters()))
    finally:
        steering.close()
        _restore_signals(previous)
    _say(out, "detached")
    return 0


def _plain_status(steering: Steering, stop: threading.Event, interval: float,
                  out: TextIO) -> None:
    """One line each time the counters change, at most once per interval."""
    last = steering.read_counters()
    while not stop.wait(interval):
        now = steering.read_counters()
        if now != last:
            _say(out, status_line(steering, now))
            last = now


def _live_table(steering: Steering, stop: threading.Event, interval: float) -> None:
    from rich.live import Live
    from rich.table import Table

    def table() -> Table:
        counters = steering.read_counters()
        t = Table(title=f"pycap steer: {steering.netns.name}, {counters.lookups} lookups",
                  title_justify="left")
        for column in ("rule", "expression", "socket", "matched", "steered"):
            t.add_column(column, justify="right" if column in ("matched", "steered") else "left")
        for i, rule in enumerate(steering.rules):
            t.add_row(rule.name, rule.spec.expression, rule.target,
                      str(counters.matched[i]), str(counters.steered[i]))
        return t
    with Live(table(), auto_refresh=False, transient=False) as live:
        while not stop.wait(interval):
            live.update(table(), refresh=True)


def _install_signals(stop: threading.Event) -> dict:
    previous = {}

    def handler(signum, frame):
        stop.set()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, handler)
    return previous


def _restore_signals(previous: dict) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)
