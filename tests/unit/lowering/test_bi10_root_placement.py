"""Loop synthesis places a Func computed at the root around the whole
pipeline without walking the loops around its uses (`_Sites`), which
matter only to a Func placed among them; its schedule is still checked."""
import numpy as np
import pytest

import pipelang as hl
from pipelang.errors import ScheduleError
from pipelang.lowering import schedule_functions
from pipelang.lowering.lower import lower_to_loop_nest


def _pipeline():
    x, y = hl.Var("x"), hl.Var("y")
    a, b, out = hl.Func("bi10p_a"), hl.Func("bi10p_b"), hl.Func("bi10p_out")
    a[x, y] = x + y * 10
    b[x, y] = a[x - 1, y] + a[x + 1, y]
    out[x, y] = b[x, y] * 2
    a.compute_root()
    b.compute_at(out, y)
    return out, a, b


def test_sites_are_walked_only_for_funcs_placed_among_loops(monkeypatch):
    walked = []
    original = schedule_functions._Sites

    def sites(target, mentions=None):
        walked.append(target)
        return original(target, mentions)
    monkeypatch.setattr(schedule_functions, "_Sites", sites)
    out, a, b = _pipeline()
    lower_to_loop_nest([out.function])
    assert walked == [b.function.sym]


def test_root_and_inner_funcs_compute_right():
    out, _, _ = _pipeline()
    got = np.asarray(out.realize([7, 5]))
    xs, ys = np.meshgrid(np.arange(7), np.arange(5))
    want = ((xs - 1 + ys * 10) + (xs + 1 + ys * 10)) * 2
    np.testing.assert_array_equal(got, want)


def test_a_root_funcs_storage_is_still_checked():
    out, a, _ = _pipeline()
    a.ring_buffer(2)
    with pytest.raises(ScheduleError, match="ring_buffer"):
        lower_to_loop_nest([out.function])
