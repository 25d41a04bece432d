"""Render corpus captures the way ``pycap -r FILE -t`` prints them, and write
the texts as JSON ({capture: [packet text, ...]}) on stdout.

For tests that must run pycap's renderer under another name service (inside
``ip netns exec``, whose /etc/netns/NAME files replace /etc/hosts and
/etc/nsswitch.conf), in one process for the whole corpus:

    python -m tests.render_corpus '["-e", "-v"]' NAME.pcap ...

The flags are tcpdump's printing flags: -n, -N, -e, -q and -v…; the names
come from the system's resolver and files, as the command's would.
"""

from __future__ import annotations

import json
import sys

from pycap.render import Renderer, RenderOptions
from pycap.savefile import open_savefile
from tests import corpus


def options(flags: list[str]) -> RenderOptions:
    return RenderOptions(timestamp="none", numeric="-n" in flags, strip_domain="-N" in flags,
                         link_header="-e" in flags, quiet="-q" in flags,
                         verbose=sum(f.count("v") for f in flags if f.startswith("-v")))


def render(flags: list[str], names: list[str]) -> dict[str, list[str]]:
    opts = options(flags)
    out = {}
    for name in names:
        renderer = Renderer(opts)
        texts = []
        try:
            with open_savefile(str(corpus.CORPUS / "pcaps" / name)) as reader:
                for rec in reader:
                    texts.append(renderer.render(rec.data, rec.wire_len, rec.linktype,
                                                 rec.timestamp_ns))
        except Exception:  # noqa: BLE001 - a damaged file: what was read before, as tcpdump
            pass
        out[name] = texts
    return out


if __name__ == "__main__":
    json.dump(render(json.loads(sys.argv[1]), sys.argv[2:]), sys.stdout)
