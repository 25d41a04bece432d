"""The filter as a decision graph, optimized the way libpcap's flow graph is.

A predicate (``nodes.Pred``) is a tree of ``and``/``or``/``not`` over tests.
The eBPF backend wants a graph instead: one node per test, a ``yes`` and a
``no`` edge out of each, ending in ``ACCEPT`` or ``REJECT``.  Built with
sharing (equal nodes with equal successors are one node), that graph is
what libpcap's optimizer works on, and the same two transformations make
it small:

* **jump threading** (libpcap's ``opt_j``/``fold_edge``): along an edge,
  what the tests before it proved (this field equals 0x800, that one is not
  6, this comparison held) decides some tests after it; the edge then skips
  them.  ``tcp and port 22`` tests the ethertype and the protocol once,
  not twice: the ``port`` part is entered past its own ``ip``/``tcp``
  tests.  What an edge knows is what *every* path to it knows (facts at a
  node are the intersection over its incoming edges).
* **common-branch elimination**: a test whose two edges lead to the same
  place is skipped, as libpcap does when no register depends on it.  Like
  libpcap's, this drops the test's loads, which matters only for packets
  too short for them.

Beyond libpcap: a run of ``value == constant`` tests of one value in an
``or`` (a port list) is built as one ``OneOf`` node, which known values
decide like a comparison and the code generator emits as a search.

``Def`` nodes (variables) have one successor and are never skipped;
``Transport6`` defines a variable too, so it is never skipped either.

``graph(p)`` is pure: a predicate in, a graph of fresh ``Node`` objects
out.  The passes (``thread``, ``share``, ``optimize``) rewrite the edges of
the graph they are given, which nothing else holds.
"""

from __future__ import annotations

from collections.abc import Iterator

from pycap.ir import nodes as ir

MAX_ROUNDS = 16      # threading rounds; each makes progress, and a few suffice
SPLIT_BUDGET = 2     # node copies made by threading: at most this many times the graph
SPLIT_MIN_SKIP = 2   # nodes a copy must let its edges skip to be made
ONE_OF_MIN = 4       # ``==`` tests of one value in a row in an ``or`` that become one OneOf


class Node:
    """A test with two successors, a ``Def`` with one (``no is None``), or a
    terminal (``op is None``: ``ACCEPT`` or ``REJECT``)."""

    __slots__ = ("op", "yes", "no", "name")

    def __init__(self, op, yes: Node | None = None, no: Node | None = None, name: str = ""):
        self.op = op
        self.yes = yes
        self.no = no
        self.name = name

    @property
    def terminal(self) -> bool:
        return self.op is None

    def successors(self) -> tuple[Node, ...]:
        if self.op is None:
            return ()
        if self.no is None:
            return (self.yes,)
        return (self.yes, self.no)

    def __repr__(self) -> str:
        return self.name or f"Node({self.op!r})"


class Graph:
    """A decision graph with its own two terminals."""

    def __init__(self) -> None:
        self.accept = Node(None, name="ACCEPT")
        self.reject = Node(None, name="REJECT")
        self.root: Node = self.reject
        self.size = 0             # nodes as built, before optimization
        self._shared: dict[tuple, Node] = {}

    # ---- construction -------------------------------------------------------------
    def node(self, op, yes: Node, no: Node | None) -> Node:
        key = (op, id(yes), id(no))
        found = self._shared.get(key)
        if found is None:
            found = self._shared[key] = Node(op, yes, no)
        return found

    def build(self, p: ir.Pred, yes: Node, no: Node) -> Node:
        """The node that runs ``p`` and continues at ``yes`` or ``no``."""
        if isinstance(p, ir.All):
            for item in reversed(p.items):
                yes = self.build(item, yes, no)
            return yes
        if isinstance(p, ir.Any):
            for item in reversed(_one_ofs(p.items)):
                no = self.build(item, yes, no)
            return no
        if isinstance(p, ir.Negation):
            return self.build(p.item, no, yes)
        if isinstance(p, ir.Const):
            return yes if p.value else no
        if isinstance(p, ir.Def):
            return self.node(p, yes, None)
        return self.node(p, yes, no)

    # ---- traversal ----------------------------------------------------------------
    def order(self, terminals: bool = False) -> list[Node]:
        """The reachable nodes in topological order (every node before its
        successors), laid out so that a node's ``no`` successor comes straight
        after it where it can: the fall-through.  Terminals only on request
        (a code generator may place them between the others)."""
        post: list[Node] = []
        seen: set[int] = set() if terminals else {id(self.accept), id(self.reject)}
        stack: list[tuple[Node, Iterator[Node]]] = []
        if id(self.root) not in seen:
            seen.add(id(self.root))
            stack.append((self.root, iter(self.root.successors())))
        while stack:
            n, children = stack[-1]
            for child in children:
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(child.successors())))
                    break
            else:
                stack.pop()
                post.append(n)
        post.reverse()
        return post


def _one_ofs(items: tuple[ir.Pred, ...]) -> list[ir.Pred]:
    """The operands of an ``or`` with each run of ONE_OF_MIN or more ``value ==
    constant`` tests of one value as one OneOf test: one node for the graph
    passes to look at instead of a chain of them (the code generator emits a
    search).  Only runs, so every load happens where it did: a packet too
    short for a later test is rejected as before."""
    out: list[ir.Pred] = []
    run: list[ir.Cmp] = []

    def flush() -> None:
        if len(run) >= ONE_OF_MIN:
            out.append(ir.OneOf(run[0].left, tuple(c.right.value for c in run)))  # type: ignore[union-attr]
        else:
            out.extend(run)
        run.clear()

    for item in items:
        if _is_const_eq(item) and not isinstance(item.left, ir.Imm):   # 2 * 3 = 6: a test
            if run and item.left != run[0].left:   # type: ignore[union-attr]
                flush()
            run.append(item)                       # type: ignore[arg-type]
        else:
            flush()
            out.append(item)
    flush()
    return out


def from_predicate(p: ir.Pred) -> Graph:
    g = Graph()
    g.root = g.build(p, g.accept, g.reject)
    g.size = len(g._shared)
    return g


# ---- facts --------------------------------------------------------------------------
# What a path knows: ``eqs`` maps a value to the constant it was found equal
# to; ``known`` holds (test, outcome) pairs: inequalities to a constant and the
# outcome of every other test.  Both are immutable so they can be shared.

Facts = tuple[dict, frozenset]
NO_FACTS: Facts = ({}, frozenset())


def _is_const_eq(op) -> bool:
    return isinstance(op, ir.Cmp) and op.op == "eq" and isinstance(op.right, ir.Imm)


def _defines(op) -> str | None:
    """The variable a node sets, if any (``Transport6`` only when it holds)."""
    if isinstance(op, ir.Def):
        return op.name
    if isinstance(op, ir.Transport6):
        return op.var
    return None


def _reads_var(x, name: str) -> bool:
    """Whether a test or value depends on variable ``name``."""
    if isinstance(x, ir.Var):
        return x.name == name
    if isinstance(x, ir.Load):
        return _reads_var(x.offset, name)
    if isinstance(x, (ir.Alu, ir.Cmp)):
        return _reads_var(x.left, name) or _reads_var(x.right, name)
    if isinstance(x, ir.OneOf):
        return _reads_var(x.left, name)
    if isinstance(x, ir.Def):
        return x.name == name or _reads_var(x.value, name)
    return _defines(x) == name


def learn(facts: Facts, op, outcome: bool) -> Facts:
    eqs, known = facts
    if outcome and _is_const_eq(op):
        if op.left in eqs:
            return facts
        grown = dict(eqs)
        grown[op.left] = op.right.value
        return grown, known
    name = _defines(op) if outcome else None
    if name is not None and any(_defines(k) == name and k != op for k, _ in known):
        # set again, differently: what was known through the old value is stale
        known = frozenset(f for f in known if not _reads_var(f[0], name))
        eqs = {v: c for v, c in eqs.items() if not _reads_var(v, name)}
    return eqs, known | {(op, outcome)}


def decide(op, facts: Facts, as_libpcap: bool = False) -> bool | None:
    """The outcome of test ``op`` if ``facts`` fix it.  ``as_libpcap``: only
    what libpcap's fold_edge decides, the outcome of the same test and an
    ``==`` on a value known equal to a constant (not ``>`` or ``&``)."""
    eqs, known = facts
    if (op, True) in known:
        return True
    if (op, False) in known:
        return False
    if isinstance(op, ir.Cmp) and isinstance(op.right, ir.Imm):
        value = eqs.get(op.left)      # not a constant comparison: see Lowerer._relation
        if value is not None and not (as_libpcap and op.op != "eq"):
            return ir.cmp_eval(op.op, value, op.right.value)
    if isinstance(op, ir.OneOf):
        value = eqs.get(op.left)      # never a constant: _one_ofs groups tests only
        if value is not None:
            return value in op.values
    return None


def meet(a: Facts, b: Facts) -> Facts:
    """What both paths know."""
    if a is b:
        return a
    ea, ka = a
    eb, kb = b
    eqs = ea if ea is eb else {v: c for v, c in ea.items() if eb.get(v) == c}
    return eqs, ka & kb


# ---- optimization -------------------------------------------------------------------

def _skippable(n: Node, keep_loads: bool = False) -> bool:
    """A test whose edges meet can go: it decides nothing and defines nothing.
    Its loads go with it, so ``keep_loads`` (libpcap's no_optimize) keeps it:
    a packet too short for them is still rejected there."""
    return not keep_loads and n.no is n.yes and isinstance(n.op, (ir.Cmp, ir.OneOf, ir.ProtoChain))


def _walk(n: Node, facts: Facts, keep_loads: bool = False,
          as_libpcap: bool = False) -> tuple[Node, int]:
    """Where an edge into ``n`` really leads, given what it knows, and past
    how many nodes."""
    steps = 0
    while not n.terminal:
        if _skippable(n, keep_loads):
            n, steps = n.yes, steps + 1
            continue
        if n.no is None:       # a definition: skipped only if made, the same, before
            if (n.op, True) not in facts[1]:
                break
            n, steps = n.yes, steps + 1
            continue
        outcome = decide(n.op, facts, as_libpcap)
        if outcome is None:
            if isinstance(n.op, ir.Transport6):
                n = _direct_transport(n, facts)
            break
        n, steps = (n.yes if outcome else n.no), steps + 1
    return n, steps


def _direct_transport(n: Node, facts: Facts) -> Node:
    """The IPv6 header walk where the path knows the next header is already
    the protocol sought: no walk, the transport header is right behind."""
    walk = n.op
    if facts[0].get(ir.load(walk.base + 6, 1)) != walk.proto:
        return n
    return Node(ir.Def(walk.var, ir.Imm(walk.base + 40)), n.yes, None)


def _follow(n: Node, facts: Facts, keep_loads: bool = False, as_libpcap: bool = False) -> Node:
    return _walk(n, facts, keep_loads, as_libpcap)[0]


def _split(n: Node, facts: Facts, keep_loads: bool = False) -> Node | None:
    """A copy of test ``n`` for one edge into it, whose own edges are threaded
    with what that edge knows, when that skips enough (None otherwise).

    Where paths meet, the facts they share are fewer than each brings: after
    ``tcp[13] & 2 != 0`` the IPv4 and the IPv6 ways to the TCP header meet,
    and a second ``tcp[...]`` would dispatch on the ethertype again.  A copy of
    the meeting node per way keeps each way's facts one node further, which
    is all it takes there; libpcap gets the same from never merging them."""
    if n.terminal or n.no is None or n.no is n.yes:
        return None
    yes, skipped_yes = _walk(n.yes, learn(facts, n.op, True), keep_loads)
    no, skipped_no = _walk(n.no, learn(facts, n.op, False), keep_loads)
    if skipped_yes + skipped_no < SPLIT_MIN_SKIP:
        return None         # the copy would cost about what it saves
    return Node(n.op, yes, no)


def thread(g: Graph, order: list[Node] | None = None, keep_loads: bool = False,
           as_libpcap: bool = False) -> bool:
    """One round of jump threading over ``g``; whether another round could
    find more.  Nodes are visited in topological order, so the facts at a
    node are final when its edges move; what one round cannot see is a node
    whose two edges came to meet after the edges into it were threaded, and
    the nodes it made itself."""
    again = False
    g.root = root = _follow(g.root, NO_FACTS, keep_loads, as_libpcap)
    facts_in: dict[int, Facts] = {id(root): NO_FACTS}
    order = g.order() if order is None else order
    known_nodes = {id(n) for n in order}
    copies = 0 if as_libpcap else max(0, SPLIT_BUDGET * g.size - len(order))
    for n in order:
        fin = facts_in.get(id(n))
        if fin is None:        # no longer reachable: an edge into it moved on
            continue
        if n.no is None:       # Def: one edge
            edges = (("yes", learn(fin, n.op, True)),)
        else:
            edges = (("yes", learn(fin, n.op, True)), ("no", learn(fin, n.op, False)))
        for attr, facts in edges:
            target = getattr(n, attr)
            moved = _follow(target, facts, keep_loads, as_libpcap)
            if copies > 0 and facts_in.get(id(moved)) is not None:
                split = _split(moved, facts, keep_loads)    # a second way into a node that
                if split is not None:           # has one already: maybe its own copy
                    moved, copies, again = split, copies - 1, True
            if moved is not target:
                setattr(n, attr, moved)
                # a node made on the way (a copy, a walk made a definition) is
                # not in this round's order: another round visits it
                again = again or not (moved.terminal or id(moved) in known_nodes)
            if not moved.terminal:
                seen = facts_in.get(id(moved))
                facts_in[id(moved)] = facts if seen is None else meet(seen, facts)
        again = again or _skippable(n, keep_loads)
    return again


def share(g: Graph, order: list[Node] | None = None) -> bool:
    """Merge nodes that threading made equal (same test, same successors).
    ``order``: a topological order of every node still reachable."""
    canon: dict[tuple, Node] = {}
    replace: dict[int, Node] = {}
    changed = False
    for n in reversed(g.order() if order is None else order):
        n.yes = replace.get(id(n.yes), n.yes)
        if n.no is not None:
            n.no = replace.get(id(n.no), n.no)
        key = (n.op, id(n.yes), id(n.no))
        first = canon.setdefault(key, n)
        if first is not n:
            replace[id(n)] = first
            changed = True
    g.root = replace.get(id(g.root), g.root)
    return changed


def optimize(g: Graph, keep_loads: bool = False, as_libpcap: bool = False) -> Graph:
    for _ in range(MAX_ROUNDS):
        order = g.order()
        again = thread(g, order, keep_loads, as_libpcap)
        # threading only moves edges down the same order, unless it made copies
        if not (share(g, None if again else order) or again):
            break
    if not keep_loads and not as_libpcap:
        pulled = 0
        while pulled < MAX_PULLS and pull_up(g):
            pulled += 1
        if pulled:
            share(g)
    return g


MAX_PULLS = 256      # pull_up rounds; each moves one test


def _accumulator(op):
    """The value libpcap's accumulator holds after test ``op``, or None."""
    return op.left if isinstance(op, (ir.Cmp, ir.OneOf)) else None


def pull_up(g: Graph) -> bool:
    """One step of libpcap's or_pullup or and_pullup; whether it moved a test.

    or_pullup: where every way into a test ``b`` leaves value V in the
    accumulator and ``b`` tests another value, a test of V further down
    ``b``'s chain of ``no`` edges, all of them ``yes`` to where ``b``'s goes,
    moves up in front of ``b``; and_pullup the same along ``yes`` edges that
    share ``b``'s ``no``.  libpcap takes loads as free of effects, so this
    decides a packet too short for ``b``'s load as tcpdump does: over IPv6,
    ``port 1 or host A or port 2`` tests source port 2 before destination
    port 1, and ``not ether[1500] = 0 or not sca`` tests the ethertype
    before ``ether[1500]``.  Nodes on the chain must be reached only through
    it (libpcap: dominated by ``b``) and define nothing, so nothing moves
    over the IPv6 walk or the IPv4 header length (``port 1 or tcp[100] = 5
    or port 2`` keeps its order, unlike tcpdump's)."""
    into: dict[int, list[tuple[Node, str]]] = {}
    acc: dict[int, int] = {}             # id(node) -> what its test leaves in the accumulator,
    numbered: dict = {}                  # numbered (-1: nothing a later test could share)
    held_by: list[int] = []              # how many tests hold each value
    order = g.order()
    for n in order:
        held = _accumulator(n.op)
        if held is None:
            acc[id(n)] = -1
        else:
            k = acc[id(n)] = numbered.setdefault(held, len(numbered))
            if k == len(held_by):
                held_by.append(0)
            held_by[k] += 1
        for attr in ("yes", "no"):
            succ = getattr(n, attr)
            if succ is not None and not succ.terminal:
                into.setdefault(id(succ), []).append((n, attr))
    if max(held_by, default=0) < 2:      # no value tested twice: nothing can move
        return False
    # a node a chain may pass: a test, reached one way, defining nothing
    passable = {id(n) for n in order if n.no is not None and len(into.get(id(n), ())) == 1
                and _defines(n.op) is None}

    def holds(n: Node, value: int) -> bool:
        return acc.get(id(n)) == value

    def on_chain(n: Node | None, exit_: str, target: Node) -> bool:
        return n is not None and id(n) in passable and getattr(n, exit_) is target

    for b in order:
        ins = into.get(id(b))
        if b.no is None or not ins:
            continue
        value = acc[id(ins[0][0])]
        if value < 0 or held_by[value] <= len({id(p) for p, _ in ins}) \
                or not all(holds(p, value) for p, _ in ins[1:]):
            continue                    # no test of the value but the ways in
        for along, exit_ in (("no", "yes"), ("yes", "no")):      # or_pullup, and_pullup
            target = getattr(b, exit_)
            # diff: the first node of b's chain not testing the value
            parent, diff = None, b
            while holds(diff, value) and on_chain(getattr(diff, along), exit_, target):
                parent, diff = diff, getattr(diff, along)
            if holds(diff, value):
                continue
            # same: further down the chain, a test of the value
            above, same = diff, getattr(diff, along)
            while on_chain(same, exit_, target) and not holds(same, value):
                above, same = same, getattr(same, along)
            if not on_chain(same, exit_, target):
                continue
            setattr(above, along, getattr(same, along))
            setattr(same, along, diff)
            if parent is None:                  # at the top: every way into b
                for p, attr in ins:         # (b has ways in: it is not the root)
                    setattr(p, attr, same)
            else:
                setattr(parent, along, same)
            return True
    return False


def graph(p: ir.Pred, optimized: bool = True) -> Graph:
    """``p`` as an optimized decision graph.  Where libpcap would not
    optimize it (pycap.ir.lower.Lowerer.unoptimized), tests whose edges meet
    stay, with their loads: what is left is what changes no packet's fate."""
    return optimize(from_predicate(p), keep_loads=not optimized)


def rejects_all_as_libpcap(p: ir.Pred) -> bool:
    """Whether libpcap's optimizer would find that ``p`` matches nothing
    ("expression rejects all packets"): the graph threaded with only the
    facts its fold_edge uses and no node copies."""
    return rejects_all(optimize(from_predicate(p), as_libpcap=True))


def _past_constants(n: Node) -> Node:
    """Where the root leads past comparisons of constants: libpcap folds them
    after its branch optimization and then skips, at the root only, tests
    whose edges meet (opt_root).  It folds a comparison only where its block
    computes the constant: a second test of the value just tested
    (``2 * 3 = 1 or 2 * 3 = 2``) keeps its comparison, so the skipping stops."""
    held = None
    while not n.terminal and is_constant_test(n.op) and n.op.left != held:
        held = n.op.left
        n = n.yes if ir.cmp_eval(n.op.op, n.op.left.value, n.op.right.value) else n.no
    return n


def is_constant_test(op) -> bool:
    """``2 * 3 = 7``: a comparison of constants, folded only by the code generator."""
    return isinstance(op, ir.Cmp) and isinstance(op.left, ir.Imm) and isinstance(op.right, ir.Imm)


def rejects_all(g: Graph) -> bool:
    """Whether ``g`` leads to reject past its root's constant comparisons.
    On pycap's optimized graph (which proves at least what libpcap's
    optimizer does) it is the cheap test before ``rejects_all_as_libpcap``."""
    return _past_constants(g.root) is g.reject
