"""The part of lowering that every target shares: combining primitives with
and/or/not, and lowering each primitive as soon as the parser reduces it (so
errors come out in libpcap's order).  Socket filters (pycap.ir.lower) and
sk_lookup programs (pycap.steer.lower) differ only in the primitives."""

from __future__ import annotations

from pycap.filter import ast
from pycap.ir.nodes import TRUE, Pred, all_of, any_of, negate


class PrimitiveLowering:
    """Subclasses implement primitive(), proto_abbrev(), relation() and special()."""

    def __init__(self) -> None:
        self._cache: dict[int, Pred] = {}

    def on_primitive(self, node: ast.Expr) -> None:
        """Hand this to the parser: each primitive is lowered when reduced."""
        self._cache[id(node)] = self._primitive(node)

    def lower(self, node: ast.Expr) -> Pred:
        if isinstance(node, ast.And):
            return all_of(self.lower(node.left), self.lower(node.right))
        if isinstance(node, ast.Or):
            return any_of(self.lower(node.left), self.lower(node.right))
        if isinstance(node, ast.Not):
            return negate(self.lower(node.operand))
        if isinstance(node, ast.Empty):
            return TRUE
        cached = self._cache.get(id(node))
        return cached if cached is not None else self._primitive(node)

    def _primitive(self, node: ast.Expr) -> Pred:
        if isinstance(node, ast.Primitive):
            return self.primitive(node)
        if isinstance(node, ast.ProtoAbbrev):
            return self.proto_abbrev(node.proto, node.span)
        if isinstance(node, ast.Relation):
            return self.relation(node)
        if isinstance(node, ast.Special):
            return self.special(node)
        raise AssertionError(node)

    def primitive(self, node: ast.Primitive) -> Pred:
        raise NotImplementedError

    def proto_abbrev(self, proto: str, span) -> Pred:
        raise NotImplementedError

    def relation(self, node: ast.Relation) -> Pred:
        raise NotImplementedError

    def special(self, node: ast.Special) -> Pred:
        raise NotImplementedError
