"""Readable text for IR trees (``pycap --explain``)."""

from __future__ import annotations

from pycap.ir import nodes as ir

_SIZE = {1: "u8", 2: "u16", 4: "u32"}
_ALU = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "and": "&", "or": "|",
        "xor": "^", "lsh": "<<", "rsh": ">>"}
_CMP = {"eq": "==", "gt": ">", "ge": ">=", "set": "&"}


def value(v: ir.Value) -> str:
    if isinstance(v, ir.Imm):
        return str(v.value) if v.value < 256 else hex(v.value)
    if isinstance(v, ir.Load):
        return f"pkt.{_SIZE[v.size]}[{value(v.offset)}]"
    if isinstance(v, ir.WireLen):
        return "len"
    if isinstance(v, ir.Ctx):
        return f"skb.{v.field}"
    if isinstance(v, ir.Var):
        return v.name
    if isinstance(v, ir.Alu):
        if v.op == "neg":
            return f"-({value(v.left)})"
        return f"({value(v.left)} {_ALU[v.op]} {value(v.right)})"
    raise AssertionError(v)


def pred(p: ir.Pred, indent: int = 0) -> str:
    """One test a line, nested ``all``/``any`` blocks indented."""
    pad = "  " * indent
    if isinstance(p, ir.Const):
        return pad + ("true" if p.value else "false")
    if isinstance(p, ir.Cmp):
        text = f"{value(p.left)} {_CMP[p.op]} {value(p.right)}"
        return pad + (text + " != 0" if p.op == "set" else text)
    if isinstance(p, ir.OneOf):
        return pad + f"{value(p.left)} in {{{', '.join(value(ir.Imm(v)) for v in p.values)}}}"
    if isinstance(p, ir.Negation):
        inner = pred(p.item, indent + 1)
        if "\n" not in inner:
            return pad + "not " + inner.strip()
        return pad + "not\n" + inner
    if isinstance(p, ir.Transport6):
        return pad + f"ipv6 chain at {p.base} reaches {p.proto}: let {p.var} = its offset"
    if isinstance(p, ir.Def):
        return pad + f"let {p.name} = {value(p.value)}"
    if isinstance(p, ir.ProtoChain):
        return pad + f"protochain(ipv{p.version} at {p.base}) reaches {p.proto}"
    word = "all" if isinstance(p, ir.All) else "any"
    return "\n".join([pad + word + ":"] + [pred(i, indent + 1) for i in p.items])


def graph(g) -> str:
    """A decision graph (``pycap.ir.cfg``), a node a line in layout order:
    ``n0: test ? yes : no``; a definition has one successor."""
    from pycap.ir.cfg import Graph
    assert isinstance(g, Graph)
    order = g.order()
    names = {id(g.accept): "accept", id(g.reject): "reject"}
    names.update((id(n), f"n{i}") for i, n in enumerate(order))
    if g.root.terminal:
        return names[id(g.root)]
    lines = []
    for n in order:
        test = pred(n.op).strip()
        if n.no is None:
            lines.append(f"{names[id(n)]}: {test}; then {names[id(n.yes)]}")
        else:
            lines.append(f"{names[id(n)]}: {test} ? {names[id(n.yes)]} : {names[id(n.no)]}")
    return "\n".join(lines)
