"""The module under test: `pipelang` (the target) and real `halide` when it is
installed.  pipelang is skipped until it can build and realize a pipeline."""
import importlib
import os
import sys

import pytest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

MODULES = ["pipelang", "halide"]


def load_module(name):
    try:
        mod = importlib.import_module(name)
    except Exception as e:  # pipelang is mid-construction; halide may be absent
        pytest.skip(f"{name} does not import: {type(e).__name__}: {e}")
    if not all(hasattr(mod, a) for a in ("Func", "Var", "Buffer", "RDom", "BoundaryConditions")):
        pytest.skip(f"{name} does not provide Halide's pipeline API yet")
    return mod


@pytest.fixture(params=MODULES)
def hl_module(request):
    return load_module(request.param)


@pytest.fixture
def halide_oracle():
    """Real Halide, used to keep minimized programs legal; None without it."""
    try:
        return importlib.import_module("halide")
    except ImportError:
        return None
