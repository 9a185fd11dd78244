"""User errors of Func.in_ / clone_in, with Halide's texts."""
import pytest

import pipelang as hl


def _fg():
    x = hl.Var("x")
    f, g, h = hl.Func("ef"), hl.Func("eg"), hl.Func("eh")
    f[x] = x
    g[x] = f[x] + 1
    h[x] = g[x] * 2
    return f, g, h


def test_wrapper_of_itself():
    f, g, h = _fg()
    with pytest.raises(hl.HalideError, match=r'Cannot create wrapper of itself \("ef'):
        f.in_(f)


def test_empty_list():
    f, g, h = _fg()
    with pytest.raises(hl.HalideError, match="Could not create a in wrapper for an empty list"):
        f.in_([])
    with pytest.raises(hl.HalideError, match="Could not create a clone wrapper for an empty list"):
        f.clone_in([])


def test_wrapping_in_a_func_that_does_not_call_it():
    f, g, h = _fg()
    f.in_(h).compute_root()
    with pytest.raises(hl.HalideError, match=r'Cannot wrap "ef.*" in "eh.*" because "eh.*" does not '
                                             r'call "ef.*"\nDirect callees of "eh.*" are:\n  eg'):
        h.realize([4])


def test_shared_wrapper_redefined_for_a_subset():
    f, g, h = _fg()
    f.in_([g, h])
    with pytest.raises(hl.HalideError, match="Redefinition of shared wrapper"):
        f.in_(g)


def test_part_of_a_list_already_wrapped():
    f, g, h = _fg()
    f.in_(h)
    with pytest.raises(hl.HalideError, match="Cannot define the wrapper since eh.* already has a "
                                             "wrapper while eg.* doesn't"):
        f.in_([g, h])


def test_undefined_func():
    x = hl.Var("x")
    u, g = hl.Func("eu"), hl.Func("eg2")
    g[x] = x
    with pytest.raises(hl.HalideError, match="undefined"):
        u.in_(g)
