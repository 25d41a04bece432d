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
        for item in p.items:
            item = propagate_facts(item, facts)
            out.append(item)
            if item == ir.FALSE:
                break
            facts = _learn(facts, item, True)
        return ir.all_of(*out)
    if isinstance(p, ir.Any):
        out = []
        for item in p.items:
            item = propagate_facts(item, facts)
            out.append(item)
            if item == ir.TRUE:
                break
            facts = _learn(facts, item, False)
        return ir.any_of(*out)
    return p


def optimize(p: ir.Pred) -> ir.Pred:
    return propagate_facts(p)
