"""The -w hot path's C half, pycap.capture._ringcodec; everything else is in
pyproject.toml.  Declared here because setuptools still calls the
pyproject.toml form of ext-modules experimental.

optional: a machine without a C compiler or Python's headers still installs
pycap (pycap.capture.encode falls back to its Python loops).  ``pip install
-e .`` builds it in place, next to the source."""

from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "pycap.capture._ringcodec", ["pycap/capture/_ringcodec.c"],
    extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    optional=True)])
