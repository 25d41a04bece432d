"""Steering rules in the kernel: SOCKMAP, counters, the sk_lookup program, the
link to a network namespace, pins, and dry runs.

``with Steering.build(rules, netns) as steering:`` compiles the rules, borrows
their sockets, loads the program; ``steering.attach()`` links it to the
namespace; leaving the block closes the link, which detaches the program —
unless ``steering.pin(path)`` pinned the link in bpffs first, in which case
it stays until ``detach_pinned(path)``.
"""

from __future__ import annotations

import errno
import json
import os
import struct
import subprocess
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Iterable, Self

from pycap.bpf import sklookup, sklookup_c
from pycap.bpf.asm import decode, encode
from pycap.bpf.isa import Insn
from pycap.errors import (AlreadyLinkedError, KernelError, PycapError, SteerError,
                          SteerPermissionError, WrongProtocolError)
from pycap.filter.names import NameResolver
from pycap.ir import nodes as ir
from pycap.ir.interp import matches
from pycap.ir.opt import optimize
from pycap.kernel import bpf as kbpf
from pycap.steer.lookup import Address, Lookup, format_endpoint
from pycap.steer.lower import AF_INET, AF_INET6, family_is, lower_expression, protocol_is
from pycap.steer.sockets import Netns, TargetSocket, find_listener, socket_of_process

BPFFS_DEFAULT = "/sys/fs/bpf"
META_NAME = "pycap_steer"
PIN_FILES = ("link", "prog", "sockmap", "counters", "meta")
PROTOCOLS = {"tcp": sklookup.IPPROTO_TCP, "udp": sklookup.IPPROTO_UDP}
PERMISSION = "needs CAP_BPF and CAP_NET_ADMIN (or root)"
BACKENDS = ("pycap", "bcc")     # pycap's own assembler (default), or C compiled by BCC


# ------------------------------------------------------------------------ rules


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One rule as the command line gives it.  Without ``to`` and ``pid_fd``
    it has no socket (``--test``: dry runs only)."""

    expression: str
    label: str | None = None
    to: tuple[Address, int] | None = None
    pid_fd: tuple[int, int] | None = None

    @property
    def target_text(self) -> str:
        if self.to is not None:
            return format_endpoint(*self.to)
        if self.pid_fd is not None:
            return f"pid {self.pid_fd[0]} fd {self.pid_fd[1]}"
        return "(no socket)"


@dataclass
class Rule:
    index: int
    spec: RuleSpec
    predicate: ir.Pred              # the expression alone
    program_predicate: ir.Pred      # what the program tests: also the socket's protocol/family
    socket: TargetSocket | None = None
    target: str = ""                # the socket, as shown
    cookie: int = 0                 # the socket's SO_COOKIE (what a dry run reports)

    @property
    def name(self) -> str:
        return self.spec.label or f"rule{self.index}"


def protocols_of(pred: ir.Pred) -> set[str]:
    """The protocols whose lookups ``pred`` can match."""
    return {name for name, number in PROTOCOLS.items()
            if optimize(ir.all_of(protocol_is(number), pred)) != ir.FALSE}


def socket_constraint(target: TargetSocket) -> ir.Pred:
    """Lookups ``bpf_sk_assign`` accepts for this socket: its protocol, and its
    family (a dual-stack IPv6 socket also takes IPv4)."""
    proto = protocol_is(target.protocol_number)
    if target.family == AF_INET:
        return ir.all_of(proto, family_is(AF_INET))
    if target.v6only:
        return ir.all_of(proto, family_is(AF_INET6))
    return proto


def compile_rule(index: int, spec: RuleSpec, names: NameResolver | None = None) -> Rule:
    pred = lower_expression(spec.expression, names)
    return Rule(index, spec, pred, pred, target=spec.target_text)


def bind_socket(rule: Rule, target: TargetSocket) -> None:
    """Give a rule its socket; the program's predicate gains the socket's constraint."""
    pred = optimize(ir.all_of(socket_constraint(target), rule.predicate))
    if pred == ir.FALSE:
        target.close()
        raise WrongProtocolError(
            f"{rule.name}: '{rule.spec.expression}' can never match {target.description}")
    rule.socket, rule.program_predicate, rule.target = target, pred, target.description
    rule.cookie = target.cookie


def borrow_sockets(rules: list[Rule], netns: Netns) -> None:
    """Find each rule's socket and bind it to the rule; on an error, give back
    the ones already taken."""
    try:
        for rule in rules:
            target = _resolve(rule, netns)
            if target is not None:
                bind_socket(rule, target)
    except BaseException:
        release_sockets(rules)
        raise


def release_sockets(rules: list[Rule]) -> None:
    for rule in rules:
        if rule.socket is not None:
            rule.socket.close()


def steering_c(rules: list[Rule], ifindexes: Iterable[int] = ()) -> str:
    """The BCC backend's C for ``rules`` (what ``pycap steer -d c`` prints),
    with dry-run variants for ``ifindexes``."""
    return sklookup_c.generate_c([sklookup_c.CRule(r.program_predicate, r.name,
                                                   r.spec.expression, r.target)
                                  for r in rules], ifindexes)


# ------------------------------------------------------------------------ counters


@dataclass(frozen=True, slots=True)
class Counters:
    lookups: int
    matched: tuple[int, ...]
    steered: tuple[int, ...]


def read_counters(counters: kbpf.Map, rules: int) -> Counters:
    def total(key: int) -> int:
        return sum(counters.lookup_percpu(struct.pack("<I", key)))
    return Counters(total(sklookup.counter_key(None)),
                    tuple(total(sklookup.counter_key(i, "matched")) for i in range(rules)),
                    tuple(total(sklookup.counter_key(i, "steered")) for i in range(rules)))


# ------------------------------------------------------------------------ dry runs


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the program did with one lookup: the rule that matched (None: none
    did, the lookup falls through), whether it assigned a socket, and which."""

    lookup: Lookup
    rule: int | None
    steered: bool
    cookie: int
    retval: int


def interpret(rules: list[Rule], lookup: Lookup) -> Verdict:
    """The verdict by pycap's IR interpreter instead of the kernel (no BPF
    needed; no socket is ever assigned).  Tests use it as a second opinion."""
    fields = lookup.fields()
    rule = next((r.index for r in rules if matches(r.program_predicate, b"", ctx=fields)), None)
    return Verdict(lookup, rule, False, 0, sklookup.SK_PASS)


# ------------------------------------------------------------------------ kernel errors


def _permission(what: str, err: KernelError) -> SteerError:
    if err.errno in (errno.EPERM, errno.EACCES) and not err.verifier_log:
        return SteerPermissionError(f"{what}: {os.strerror(err.errno)} ({PERMISSION})")
    return SteerError(f"{what}: {err}")


class Steering:
    """Rules, their sockets, the maps and the loaded program; optionally linked."""

    def __init__(self, rules: list[Rule], netns: Netns, backend: str = "pycap"):
        self.rules = rules
        self.netns = netns
        self.backend = backend
        self.map_fds: dict[int, str] = {}     # bcc: the map fds clang's bytecode names
        self.sockmap: kbpf.Map | None = None
        self.counters: kbpf.Map | None = None
        self.program: kbpf.Program | None = None
        self.link: kbpf.Link | None = None
        self.pinned_at: str | None = None
        self._variants: dict[int, kbpf.Program] = {}

    # ---- building ---------------------------------------------------------------------
    @classmethod
    def build(cls, specs: list[RuleSpec], netns: Netns | None = None,
              names: NameResolver | None = None, backend: str = "pycap",
              ifindexes: Iterable[int] = ()) -> "Steering":
        """Compile every rule (so a typo in the last one fails before anything
        is taken), borrow the sockets, fill the maps and load the program.

        ``backend="bcc"`` compiles the C of :func:`steering_c` with BCC instead,
        whose maps BCC creates; ``ifindexes`` are the ingress interfaces dry
        runs will ask about: BCC compiles their variants with the program, so
        they share its maps (pycap's backend makes a variant when asked)."""
        if backend not in BACKENDS:
            raise SteerError(f"unknown backend '{backend}' (pycap or bcc)")
        netns = netns or Netns.resolve(None)
        rules = [compile_rule(i, spec, names) for i, spec in enumerate(specs)]
        if backend == "bcc":            # before any socket is taken
            from pycap.kernel import bcc_loader
            problem = bcc_loader.unavailable()
            if problem:
                raise PycapError(problem)
        self = cls(rules, netns, backend)
        try:
            borrow_sockets(rules, netns)
            self._load(ifindexes)
        except BaseException:
            self.close()
            raise
        return self

    def _load(self, ifindexes: Iterable[int] = ()) -> None:
        if self.backend == "bcc":
            self._load_bcc(ifindexes)
        else:
            self._create_maps()
        self._fill_sockmap()
        if self.program is None:
            self.program = self._load_program(None)

    def _create_maps(self) -> None:
        n = max(1, len(self.rules))
        try:
            self.sockmap = kbpf.create_map(kbpf.BPF_MAP_TYPE_SOCKMAP, 4, 8, n,
                                           sklookup_c.SOCKMAP)
            self.counters = kbpf.create_map(kbpf.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8,
                                            sklookup.counter_count(len(self.rules)),
                                            sklookup_c.COUNTERS)
        except KernelError as err:
            raise _permission("cannot create BPF map", err) from None

    def _load_bcc(self, ifindexes: Iterable[int]) -> None:
        """One BCC compile: the program, its dry-run variants, and the maps
        its C declares, handed over as pycap's own Map objects."""
        from pycap.kernel import bcc_loader
        variants = sorted(set(ifindexes))
        names = [sklookup_c.function_name(i) for i in (None, *variants)]
        try:
            objects = bcc_loader.compile_with_maps(
                steering_c(self.rules, variants), names,
                (sklookup_c.SOCKMAP, sklookup_c.COUNTERS),
                prog_type=kbpf.BPF_PROG_TYPE_SK_LOOKUP, attach_type=kbpf.BPF_SK_LOOKUP)
        except KernelError as err:
            what = "cannot create BPF map" if str(err).startswith("cannot create BPF map") \
                else "cannot load sk_lookup program"
            raise _permission(what, err) from None
        self.sockmap = objects.maps[sklookup_c.SOCKMAP]
        self.counters = objects.maps[sklookup_c.COUNTERS]
        self.map_fds = objects.map_fds
        self.program = objects.programs[names[0]]
        self._variants = {i: objects.programs[n] for i, n in zip(variants, names[1:])}

    def _fill_sockmap(self) -> None:
        assert self.sockmap is not None
        for rule in self.rules:
            if rule.socket is not None:
                try:
                    self.sockmap.update(struct.pack("<I", rule.index),
                                        struct.pack("<Q", rule.socket.sock.fileno()))
                except KernelError as err:
                    raise SteerError(f"{rule.name}: cannot put {rule.target} in the SOCKMAP: "
                                     f"{os.strerror(err.errno) if err.errno else err}") from None
                rule.socket.close()        # the map holds the socket now

    def disassemble(self) -> str:
        """``pycap steer -d``: the program as loaded; with BCC, clang's code."""
        assert self.sockmap is not None and self.counters is not None
        if self.backend == "bcc":
            from pycap.kernel.bcc_loader import BccProgram
            assert isinstance(self.program, BccProgram)
            names = {fd: name.removeprefix("pycap_") for fd, name in self.map_fds.items()}
            return sklookup.disassemble(decode(self.program.bytecode), names)
        return sklookup.disassemble(self.insns(), {self.sockmap.fd: "sockmap",
                                                   self.counters.fd: "counters"})

    def insns(self, ifindex: int | None = None) -> list[Insn]:
        assert self.sockmap is not None and self.counters is not None
        return sklookup.generate([r.program_predicate for r in self.rules],
                                 self.sockmap.fd, self.counters.fd, ifindex)

    def _load_program(self, ifindex: int | None) -> kbpf.Program:
        try:
            return kbpf.load_program(encode(self.insns(ifindex)), kbpf.BPF_PROG_TYPE_SK_LOOKUP,
                                     name="pycap_steer",
                                     expected_attach_type=kbpf.BPF_SK_LOOKUP)
        except KernelError as err:
            raise _permission("cannot load sk_lookup program", err) from None

    # ---- linking ----------------------------------------------------------------------
    def attach(self) -> None:
        """Link the program to the namespace; refuses if another sk_lookup
        program is linked there already."""
        assert self.program is not None
        nsfd = self.netns.open()
        try:
            try:
                linked = kbpf.prog_query(nsfd, kbpf.BPF_SK_LOOKUP)
            except KernelError as err:
                raise _permission(f"cannot query {self.netns.name}", err) from None
            if linked:
                ids = ", ".join(str(i) for i in linked)
                raise AlreadyLinkedError(
                    f"{self.netns.name} already has an sk_lookup program linked (id {ids}); "
                    f"detach it first (pycap steer --list shows pinned ones)")
            try:
                self.link = kbpf.link_create(self.program.fd, nsfd, kbpf.BPF_SK_LOOKUP)
            except KernelError as err:
                raise _permission(f"cannot link sk_lookup program to {self.netns.name}",
                                  err) from None
        finally:
            os.close(nsfd)

    def pin(self, path: str) -> None:
        """Pin link, program, maps and a description under directory ``path``
        in bpffs: the steering then outlives this process."""
        assert self.link is not None and self.program is not None
        assert self.sockmap is not None and self.counters is not None
        ensure_bpffs(os.path.dirname(os.path.abspath(path)))
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            raise SteerError(f"cannot pin at {path}: it exists") from None
        except OSError as err:
            raise SteerError(f"cannot pin at {path}: {err.strerror}") from None
        blob = json.dumps(self.describe()).encode()
        try:
            with kbpf.create_map(kbpf.BPF_MAP_TYPE_ARRAY, 4, len(blob), 1, META_NAME) as meta:
                meta.update(bytes(4), blob)
                for name, obj in (("link", self.link), ("prog", self.program),
                                  ("sockmap", self.sockmap), ("counters", self.counters),
                                  ("meta", meta)):
                    kbpf.obj_pin(obj.fd, os.path.join(path, name))
        except KernelError as err:
            _remove_pins(path)
            raise SteerError(str(err)) from None
        self.pinned_at = path

    def describe(self) -> dict:
        return {"pycap": "steer", "version": 1, "backend": self.backend, "netns": self.netns.name,
                "netns_path": self.netns.path, "netns_inode": self.netns.inode,
                "pid": os.getpid(), "created": int(time.time()),
                "rules": [{"label": r.name, "expression": r.spec.expression, "target": r.target}
                          for r in self.rules]}

    # ---- observing --------------------------------------------------------------------
    def read_counters(self) -> Counters:
        assert self.counters is not None
        return read_counters(self.counters, len(self.rules))

    def dry_run(self, lookup: Lookup) -> Verdict:
        """Run the program on ``lookup`` with ``BPF_PROG_TEST_RUN``.  The same
        program runs live, except that for a lookup with an ingress interface
        a copy with that index as a constant runs instead (the kernel's test
        runs cannot set ``ingress_ifindex``)."""
        assert self.program is not None
        prog = self.program
        if lookup.ifindex and self.backend == "bcc" and lookup.ifindex not in self._variants:
            raise SteerError(f"cannot dry-run '{lookup}': the BCC program was built without "
                             f"a variant for ifindex {lookup.ifindex}")
        if lookup.ifindex:
            prog = self._variants.get(lookup.ifindex) or self._load_program(lookup.ifindex)
            self._variants[lookup.ifindex] = prog
        before = self.read_counters()
        try:
            result = kbpf.run_sk_lookup(prog, lookup.ctx())
        except KernelError as err:
            raise SteerError(f"cannot dry-run '{lookup}': {err}") from None
        after = self.read_counters()
        rule = next((i for i in range(len(self.rules))
                     if after.matched[i] > before.matched[i]), None)
        return Verdict(lookup, rule, result.cookie != 0, result.cookie, result.retval)

    # ---- lifetime -----------------------------------------------------------------------
    def close(self) -> None:
        """Detach (unless pinned) and release everything; safe to call twice."""
        release_sockets(self.rules)
        for prog in self._variants.values():
            prog.close()
        self._variants.clear()
        for obj in (self.link, self.program, self.sockmap, self.counters):
            if obj is not None:
                obj.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _resolve(rule: Rule, netns: Netns) -> TargetSocket | None:
    spec = rule.spec
    if spec.pid_fd is not None:
        return socket_of_process(*spec.pid_fd, netns)
    if spec.to is not None:
        protocols = protocols_of(rule.predicate)
        if not protocols:
            raise WrongProtocolError(f"{rule.name}: '{spec.expression}' matches neither TCP "
                                     f"nor UDP lookups")
        return find_listener(netns, *spec.to, protocols)
    return None


# ------------------------------------------------------------------------ bpffs and pins


def mount_fstype(path: str) -> str | None:
    """The type of the filesystem ``path`` is on, from /proc/self/mountinfo."""
    path = os.path.realpath(path)
    best, fstype = "", None
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                point = left.split()[4].replace("\\040", " ")
                if (path == point or path.startswith(point.rstrip("/") + "/")) and \
                        len(point) >= len(best):
                    best, fstype = point, right.split()[0]
    except OSError:
        return None
    return fstype


def ensure_bpffs(directory: str) -> None:
    """Pins need a bpffs.  At the standard place, /sys/fs/bpf, pycap mounts one
    if there is none (as bpftool does); elsewhere it says how."""
    directory = os.path.abspath(directory)
    if not os.path.isdir(directory):
        raise SteerError(f"cannot pin in {directory}: no such directory")
    if mount_fstype(directory) == "bpf":
        return
    if directory == BPFFS_DEFAULT:
        proc = subprocess.run(["mount", "-t", "bpf", "bpf", BPFFS_DEFAULT],
                              capture_output=True, text=True, timeout=10)
        if proc.returncode == 0:
            return
        raise SteerError(f"no BPF filesystem on {BPFFS_DEFAULT} and cannot mount one: "
                         f"{proc.stderr.strip()}")
    raise SteerError(f"{directory} is not on a BPF filesystem "
                     f"(mount one with: mount -t bpf bpf {directory})")


def _remove_pins(path: str) -> None:
    for name in PIN_FILES:
        try:
            os.unlink(os.path.join(path, name))
        except FileNotFoundError:
            pass
    os.rmdir(path)


@dataclass
class Pinned:
    """A pinned steering, as ``--list`` shows it."""

    path: str
    meta: dict
    counters: Counters | None = None
    rules: list[dict] = field(default_factory=list)


def open_pinned(path: str) -> Pinned:
    """Read the description and counters of the steering pinned at ``path``."""
    path = os.path.abspath(path)
    try:
        fd = kbpf.obj_get(os.path.join(path, "meta"))
    except KernelError:
        raise SteerError(f"{path} is not a pinned pycap steering") from None
    try:
        info = kbpf.map_info(fd)
        if info.name != META_NAME:
            raise SteerError(f"{path} is not a pinned pycap steering")
        with kbpf.Map(os.dup(fd), 4, info.value_size) as meta:
            blob = meta.lookup(bytes(4)) or b"{}"
    finally:
        os.close(fd)
    try:
        desc = json.loads(blob.decode())
    except ValueError:
        raise SteerError(f"{path}: unreadable pycap steering description") from None
    pinned = Pinned(path, desc, rules=list(desc.get("rules", [])))
    try:
        with kbpf.Map(kbpf.obj_get(os.path.join(path, "counters")), 4, 8) as counters:
            pinned.counters = read_counters(counters, len(pinned.rules))
    except KernelError:
        pass
    return pinned


def list_pinned(root: str = BPFFS_DEFAULT, max_depth: int = 4) -> list[Pinned]:
    """Every pycap steering pinned under ``root``."""
    if not os.path.isdir(root):
        raise SteerError(f"{root}: no such directory")
    if mount_fstype(root) != "bpf":
        return []
    found = []
    base = root.rstrip("/").count("/")
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath.rstrip("/").count("/") - base >= max_depth:
            dirnames.clear()
        if {"meta", "link", "counters"} <= set(filenames):
            try:
                found.append(open_pinned(dirpath))
            except SteerError:
                continue
    return sorted(found, key=lambda p: p.path)


def detach_pinned(path: str) -> Pinned:
    """Detach the steering pinned at ``path`` and remove its pins."""
    pinned = open_pinned(path)
    try:
        fd = kbpf.obj_get(os.path.join(pinned.path, "link"))
    except KernelError as err:
        raise SteerError(str(err)) from None
    try:
        kbpf.link_detach(fd)
    except KernelError as err:
        if err.errno in (errno.EPERM, errno.EACCES):
            raise _permission(f"cannot detach {path}", err) from None
        if err.errno != errno.ENOLINK:    # already defunct (its namespace is gone)
            raise SteerError(str(err)) from None
    finally:
        os.close(fd)
    _remove_pins(pinned.path)
    return pinned
