"""``pycap steer``: the filter language on ``BPF_PROG_TYPE_SK_LOOKUP``.

New TCP connections and UDP datagrams whose socket lookup matches a rule's
expression go to the socket the rule names, whatever address that socket is
bound to.  Layers: :mod:`pycap.steer.lower` (expression -> IR over the
lookup context, pure), :mod:`pycap.bpf.sklookup` (IR -> eBPF, pure),
:mod:`pycap.steer.lookup` (``--lookup`` descriptions and test contexts, pure),
:mod:`pycap.steer.sockets` (finding and borrowing the target socket),
:mod:`pycap.steer.steering` (maps, program, link, pins) and
:mod:`pycap.steer.command` (the ``pycap steer`` command line).
"""

from pycap.steer.lower import lower_expression

__all__ = ["lower_expression"]
