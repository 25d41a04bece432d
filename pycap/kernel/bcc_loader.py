"""The BCC backend's loader: C from :mod:`pycap.bpf.c_backend`, compiled by
BCC (clang in-process), loaded as socket filters.

BCC is optional and imported lazily, only here.  Debian's ``python3-bpfcc``
installs the ``bcc`` package for the system interpreter only
(``/usr/lib/python3/dist-packages``); it is pure Python over ``libbcc.so``
through ctypes, so when a virtual environment (or another interpreter) cannot
import it, pycap imports that one package from there, without putting the
rest of the system's dist-packages on ``sys.path``.  (The PyPI package called
``bcc`` is something else.)

What comes back is a :class:`pycap.kernel.bpf.Program` owning its own
duplicate of the program's fd, so it attaches (``SO_ATTACH_BPF``) and test-runs
exactly like a program of the default backend, and outlives BCC's ``BPF``
object, which is cleaned up at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from pycap.bpf.c_backend import CFunction, c_program
from pycap.errors import KernelError, PycapError
from pycap.kernel.bpf import (BPF_PROG_TYPE_SOCKET_FILTER, INSN_SIZE, Map, Program,
                              last_log_line, map_info)

DEBIAN_BCC = Path("/usr/lib/python3/dist-packages/bcc")
INSTALL_HINT = ("install it with 'apt-get install python3-bpfcc linux-headers-amd64' and link "
                "/lib/modules/$(uname -r)/build to the headers, or run "
                "'bash scripts/setup.sh --bcc', which does both")
_MAP_REFUSED = re.compile(r"could not open bpf map: (\S+), error: (.*)")
# Deeply nested and/or chains become deeply parenthesized C; clang's default is 256.
CFLAGS = ["-fbracket-depth=4096"]


class BccProgram(Program):
    """A program compiled by BCC (a socket filter unless ``prog_type`` says
    otherwise); ``bytecode`` is clang's eBPF (before the verifier's rewrites),
    ``source`` the C it was compiled from."""

    def __init__(self, fd: int, bytecode: bytes, source: str,
                 prog_type: int = BPF_PROG_TYPE_SOCKET_FILTER):
        super().__init__(fd, len(bytecode) // INSN_SIZE, prog_type)
        self.bytecode = bytecode
        self.source = source


_bcc: ModuleType | None = None


def import_bcc() -> ModuleType:
    """The ``bcc`` module, or a PycapError saying how to install it."""
    global _bcc
    if _bcc is not None:
        return _bcc
    try:
        import bcc as module
    except ImportError:
        module = _import_debian_bcc()
    except OSError as err:   # bcc found, libbcc.so not
        raise PycapError(f"BCC is not usable ({err}): {INSTALL_HINT}") from None
    _bcc = module
    return module


def _import_debian_bcc() -> ModuleType:
    init = DEBIAN_BCC / "__init__.py"
    if not init.is_file():
        raise PycapError(f"--backend bcc needs BCC (Debian's python3-bpfcc): {INSTALL_HINT}")
    spec = importlib.util.spec_from_file_location("bcc", init,
                                                  submodule_search_locations=[str(DEBIAN_BCC)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bcc"] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - any failure: BCC is not usable here
        del sys.modules["bcc"]
        raise PycapError(f"BCC is not usable ({err}): {INSTALL_HINT}") from None
    return module


def kernel_headers_problem() -> str | None:
    """Why BCC will not find kernel headers for the running kernel, or None."""
    release = os.uname().release
    build = Path("/lib/modules") / release / "build"
    if (build / "include").is_dir() or os.environ.get("BCC_KERNEL_SOURCE") \
            or Path("/sys/kernel/kheaders.tar.xz").exists():
        return None
    return f"BCC needs kernel headers at {build}: {INSTALL_HINT}"


def unavailable() -> str | None:
    """Why the BCC backend cannot compile here, or None if it can."""
    try:
        import_bcc()
    except PycapError as err:
        return str(err)
    return kernel_headers_problem()


@contextlib.contextmanager
def _stderr_to(buffer: list[str]) -> Iterator[None]:
    """libbcc writes clang's diagnostics and the verifier log straight to fd 2;
    catch them, so pycap can put them into one error instead."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            buffer.append(tmp.read().decode(errors="replace"))


def compile_functions(source: str, names: Sequence[str]) -> dict[str, BccProgram]:
    """Compile ``source`` once with BCC and load each function in ``names`` as
    a socket filter.  Batching many filters into one source pays clang's
    start-up (most of BCC's ~0.2-0.5 s) once."""
    bcc = import_bcc()
    module = _compile(bcc, source)
    programs: dict[str, BccProgram] = {}
    try:
        for name in names:
            programs[name] = _load(bcc, module, name, source)
    except BaseException:
        for program in programs.values():
            program.close()
        raise
    finally:
        module.cleanup()
    return programs


@dataclass
class BccObjects:
    """Programs and maps of one BCC compile, each owning a duplicate of its fd
    (BCC's module is cleaned up at once); ``map_fds`` maps the fds clang's
    bytecode refers to (BCC's, now closed) to the maps' names, for ``-d``."""

    programs: dict[str, BccProgram]
    maps: dict[str, Map]
    map_fds: dict[int, str]

    def close(self) -> None:
        for obj in (*self.programs.values(), *self.maps.values()):
            obj.close()


def compile_with_maps(source: str, names: Sequence[str], maps: Sequence[str], *,
                      prog_type: int, attach_type: int = -1) -> BccObjects:
    """Compile ``source`` once with BCC, which creates the maps its C declares;
    hand over the maps named in ``maps`` (e.g. a SOCKMAP for pycap to fill)
    and load each function in ``names`` as a ``prog_type`` program with
    ``attach_type`` as its expected attach type.  ``BPF_PROG_TYPE_SK_LOOKUP``
    (30) has no name in BCC's ``BPFProgType``: it is passed as a number."""
    bcc = import_bcc()
    module = _compile(bcc, source)
    objects = BccObjects({}, {}, {})
    try:
        for name in maps:
            fd = bcc.lib.bpf_table_fd(module.module, name.encode())  # type: ignore[attr-defined]
            if fd < 0:
                raise PycapError(f"BCC created no map '{name}'")
            info = map_info(fd)
            objects.maps[name] = Map(os.dup(fd), info.key_size, info.value_size)
            objects.map_fds[fd] = name
        for name in names:
            objects.programs[name] = _load(bcc, module, name, source, prog_type, attach_type)
    except BaseException:
        objects.close()
        raise
    finally:
        module.cleanup()
    return objects


def _compile(bcc: ModuleType, source: str) -> object:
    problem = kernel_headers_problem()
    if problem:
        raise PycapError(problem)
    log: list[str] = []
    try:
        with _stderr_to(log):
            return bcc.BPF(text=source.encode(), cflags=CFLAGS)
    except Exception as err:  # noqa: BLE001 - BCC raises bare Exception
        refused = _MAP_REFUSED.search("".join(log))
        if refused:   # BCC creates the maps the C declares while it compiles
            name, reason = refused.groups()
            code = next((c for c in errno.errorcode if os.strerror(c) == reason.strip()), 0)
            raise KernelError(f"cannot create BPF map {name}: {reason.strip()}", code) from None
        raise PycapError(f"BCC cannot compile the generated C: {_first_error(log, err)}") from None


def _load(bcc: ModuleType, module: object, name: str, source: str,
          prog_type: int = BPF_PROG_TYPE_SOCKET_FILTER, attach_type: int = -1) -> BccProgram:
    log: list[str] = []
    try:
        with _stderr_to(log):
            fn = module.load_func(name.encode(), prog_type,  # type: ignore[attr-defined]
                                  attach_type=attach_type)
    except Exception as err:  # noqa: BLE001 - BCC raises bare Exception
        code = ctypes.get_errno() or _errno_in(str(err))
        verifier_log = "" if code == errno.EPERM else "".join(log)
        message = f"cannot load BPF program: {os.strerror(code) if code else err}"
        verdict = last_log_line(verifier_log)
        if verdict:
            message += f" (verifier: {verdict})"
        raise KernelError(message, code, verifier_log) from None
    bytecode = bytes(module.dump_func(name.encode()))  # type: ignore[attr-defined]
    return BccProgram(os.dup(fn.fd), bytecode, source, prog_type)


def _errno_in(text: str) -> int:
    for code in errno.errorcode:
        if text.endswith(os.strerror(code)):
            return code
    return 0


def _first_error(log: list[str], err: Exception) -> str:
    for line in "".join(log).splitlines():
        if "error:" in line:
            return line.strip()
    return str(err)


def _filter_source(compiled, offline: bool, name: str) -> str:
    from pycap.linktype import link_info
    return c_program([CFunction(name, compiled.predicate, compiled.snaplen,
                                "cb0" if offline else "len", compiled.expression,
                                link_info(compiled.linktype).name)])


def load_filter(compiled, *, offline: bool = False, name: str = "pycap_filter") -> BccProgram:
    """A :class:`pycap.compiler.CompiledFilter` through the BCC backend:
    ``offline`` programs read a record's wire length from ``cb[0]``, as the
    default backend's offline programs do."""
    return compile_functions(_filter_source(compiled, offline, name), [name])[name]


def compile_insns(compiled, *, offline: bool = False, name: str = "pycap_filter") -> tuple:
    """clang's eBPF for a compiled filter, compiled but not loaded (no
    privileges needed): what ``pycap --backend bcc -d`` shows."""
    from pycap.bpf.asm import decode
    return tuple(decode(compile_bytecode(_filter_source(compiled, offline, name), name)))


def compile_bytecode(source: str, name: str) -> bytes:
    """The instructions BCC compiles function ``name`` of ``source`` to."""
    bcc = import_bcc()
    module = _compile(bcc, source)
    try:
        return bytes(module.dump_func(name.encode()))
    finally:
        module.cleanup()
