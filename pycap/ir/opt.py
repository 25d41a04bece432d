"""Optimizer passes over the IR.  Each is a pure function Pred -> Pred.

``propagate_facts`` is the one libpcap's results depend on: along every path
it remembers which packet fields are known to equal (or differ from) a
constant, and folds later tests of the same field.  That proves
``not ip or not ip6`` true and ``ip and ip6`` false, as libpcap's optimizer
does, and removes the loads those tests would have made.
"""

from __future__ import annotations

from pycap.ir import nodes as ir

Facts = tuple[frozenset, frozenset]   # (known (value, const) equalities, known inequalities)
NO_FACTS: Facts = (frozenset(), frozenset())
# How many following tests the proofs look at: libpcap's optimizer sees whole
# flow graphs, but what matters in practice is short; this keeps long ``or``
# chains linear.
LOOKAHEAD = 8


def _learn(facts: Facts, p: ir.Pred, holds: bool) -> Facts:
    """What we know after ``p`` evaluated to ``holds``."""
    if isinstance(p, ir.Negation):
        return _learn(facts, p.item, not holds)
    if isinstance(p, ir.Cmp) and p.op == "eq" and isinstance(p.right, ir.Imm):
        fact = (p.left, p.right.value)
        eqs, nes = facts
        return (eqs | {fact}, nes) if holds else (eqs, nes | {fact})
    if isinstance(p, ir.All) and holds:
        for item in p.items:
            facts = _learn(facts, item, True)
    if isinstance(p, ir.Any) and not holds:
        for item in p.items:
            facts = _learn(facts, item, False)
    return facts


def _fold_cmp(p: ir.Cmp, facts: Facts) -> ir.Pred:
    if p.op != "eq" or not isinstance(p.right, ir.Imm):
        return p
    eqs, nes = facts
    if (p.left, p.right.value) in eqs:
        return ir.TRUE
    if (p.left, p.right.value) in nes:
        return ir.FALSE
    if any(v == p.left for v, _ in eqs):
        return ir.FALSE      # the field is known to hold another constant
    return p


def propagate_facts(p: ir.Pred, facts: Facts = NO_FACTS) -> ir.Pred:
    if isinstance(p, ir.Cmp):
        return _fold_cmp(p, facts)
    if isinstance(p, ir.Negation):
        return ir.negate(propagate_facts(p.item, facts))
    if isinstance(p, ir.All):
        out = []
        for i, item in enumerate(p.items):
            item = propagate_facts(item, facts)
            out.append(item)
            if item == ir.FALSE:
                break
            rest = p.items[i + 1:]
            if isinstance(item, ir.Any) and 0 < len(rest) <= LOOKAHEAD and \
                    _each_case_false(item, rest, facts):
                return ir.FALSE
            facts = _learn(facts, item, True)
        return ir.all_of(*out)
    if isinstance(p, ir.Any):
        out = []
        for i, item in enumerate(p.items):
            item = propagate_facts(item, facts)
            rest = p.items[i + 1:]
            if isinstance(item, ir.All) and 0 < len(rest) <= LOOKAHEAD and \
                    _rest_true_after(item.items[0], rest, facts):
                item = item.items[0]   # (a and b) or r, where a makes r true: just a
            out.append(item)
            if item == ir.TRUE:
                break
            facts = _learn(facts, item, False)
        return ir.any_of(*out)
    return p


def _rest_true_after(first: ir.Pred, rest: tuple, facts: Facts) -> bool:
    remainder = ir.Any(rest) if len(rest) > 1 else rest[0]
    return propagate_facts(remainder, _learn(facts, first, True)) == ir.TRUE


def _each_case_false(cases: ir.Any, rest: tuple, facts: Facts) -> bool:
    """Whether ``rest`` is false whichever alternative of ``cases`` held
    (``tcp and udp``: each protocol test contradicts the other's)."""
    remainder = ir.All(rest) if len(rest) > 1 else rest[0]
    worlds = _worlds(cases, facts, limit=32)
    return worlds is not None and all(propagate_facts(remainder, w) == ir.FALSE for w in worlds)


def _worlds(p: ir.Pred, facts: Facts, limit: int) -> list[Facts] | None:
    """The fact sets under which ``p`` holds, one per way it can hold (its
    disjunctive normal form); None when there would be more than ``limit``."""
    if isinstance(p, ir.Any):
        out: list[Facts] = []
        for item in p.items:
            sub = _worlds(item, facts, limit)
            if sub is None or len(out) + len(sub) > limit:
                return None
            out.extend(sub)
        return out
    if isinstance(p, ir.All):
        worlds = [facts]
        for item in p.items:
            grown: list[Facts] = []
            for w in worlds:
                sub = _worlds(item, w, limit)
                if sub is None or len(grown) + len(sub) > limit:
                    return None
                grown.extend(sub)
            worlds = grown
        return worlds
    return [_learn(facts, p, True)]


def _conjuncts(p: ir.Pred) -> tuple[ir.Pred, ...]:
    return p.items if isinstance(p, ir.All) else (p,)


def _common_prefix(a: tuple, b: tuple) -> int:
    n = 0
    while n < min(len(a), len(b)) - 1 and a[n] == b[n]:
        n += 1
    return n


def _common_suffix(a: tuple, b: tuple) -> int:
    n = 0
    while n < min(len(a), len(b)) - 1 and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _first_eq(p: ir.Pred) -> tuple[ir.Value, int] | None:
    first = _conjuncts(p)[0]
    if isinstance(first, ir.Cmp) and first.op == "eq" and isinstance(first.right, ir.Imm):
        return first.left, first.right.value
    return None


def _group_exclusive(items: tuple) -> list:
    """Within a run of alternatives that each start by testing the same field
    for a different constant, bring equal constants together (a stable sort).
    At most one constant can match, and every alternative of the run loads
    that field first, so the order among different constants cannot change
    which packet is accepted or which load happens."""
    out: list = []
    i = 0
    while i < len(items):
        key = _first_eq(items[i])
        j = i + 1
        while key is not None and j < len(items) and (k := _first_eq(items[j])) is not None \
                and k[0] == key[0]:
            j += 1
        run = list(items[i:j])
        if len(run) > 2:
            order = {}
            for item in run:
                order.setdefault(_first_eq(item)[1], len(order))  # type: ignore[index]
            run.sort(key=lambda item: order[_first_eq(item)[1]])  # type: ignore[index]
        out.extend(run)
        i = j
    return out


def factor(p: ir.Pred) -> ir.Pred:
    """Share tests between neighbouring alternatives, as libpcap's flow graph does:
    ``(a and x) or (a and y)`` -> ``a and (x or y)`` and
    ``(a and r) or (b and r)`` -> ``(a or b) and r``.  Only neighbours are
    merged, so tests still run in the same order and touch the same bytes."""
    if isinstance(p, ir.Negation):
        return ir.negate(factor(p.item))
    if isinstance(p, ir.All):
        return ir.all_of(*(factor(i) for i in p.items))
    if not isinstance(p, ir.Any):
        return p
    out: list[ir.Pred] = []
    for item in _group_exclusive(tuple(factor(i) for i in p.items)):
        merged = _merge(out[-1], item) if out else None
        if merged is None:
            out.append(item)
        else:
            out[-1] = merged
    return ir.any_of(*out)


def _merge(left: ir.Pred, right: ir.Pred) -> ir.Pred | None:
    a, b = _conjuncts(left), _conjuncts(right)
    n = _common_prefix(a, b)
    if n:
        rest = _merge_alternatives(ir.all_of(*a[n:]), ir.all_of(*b[n:]))
        return ir.all_of(*a[:n], rest)
    n = _common_suffix(a, b)
    if n:
        head = _merge_alternatives(ir.all_of(*a[:-n]), ir.all_of(*b[:-n]))
        return ir.all_of(head, *a[-n:])
    return None


def _merge_alternatives(x: ir.Pred, y: ir.Pred) -> ir.Pred:
    """``x or y`` where x may already be a merged ``or``: merge y into its tail."""
    if isinstance(x, ir.Any):
        tail = _merge(x.items[-1], y)
        if tail is not None:
            return ir.any_of(*x.items[:-1], tail)
    return ir.any_of(x, y)


def optimize(p: ir.Pred) -> ir.Pred:
    return factor(propagate_facts(p))
