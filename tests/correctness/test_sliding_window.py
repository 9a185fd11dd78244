"""Sliding window and storage folding, checked by their effect at run time:
with tracing on, each producer point is computed exactly once, and the
folded allocation is the window, not the image."""
import collections
import re

import numpy as np

import pipelang as hl
from pipelang import ir
from pipelang.lowering.lower import lower


def _blur(store_root_compute_y: bool):
    x, y = hl.Var("x"), hl.Var("y")
    img = np.random.default_rng(5).integers(0, 1000, (14, 11)).astype(np.int32)
    bx, by = hl.Func("sw_bx"), hl.Func("sw_by")
    bx[x, y] = hl.Buffer(img)[x, y] + hl.Buffer(img)[x + 1, y]
    by[x, y] = bx[x, y] + bx[x, y + 1] + bx[x, y + 2]
    if store_root_compute_y:
        bx.store_root().compute_at(by, y)
    return img, bx, by


def test_each_producer_row_is_computed_once(capfd):
    img, bx, by = _blur(True)
    bx.trace_stores()
    out = np.asarray(by.realize([10, 12]))
    stores = re.findall(r"Store sw_bx[^.]*\.0\((-?\d+), (-?\d+)\)", capfd.readouterr().out)
    counts = collections.Counter(stores)
    assert len(counts) == 10 * 14                  # every point of rows 0..13 ...
    assert set(counts.values()) == {1}             # ... exactly once
    b = img[:, :-1] + img[:, 1:]
    np.testing.assert_array_equal(out, b[:-2, :10] + b[1:-1, :10] + b[2:, :10])


def test_recomputing_schedule_computes_rows_three_times(capfd):
    img, bx, by = _blur(False)
    bx.compute_at(by, hl.Var("y"))                 # no store_root: no sliding
    bx.trace_stores()
    by.realize([10, 12])
    stores = re.findall(r"Store sw_bx[^.]*\.0\((-?\d+), (-?\d+)\)", capfd.readouterr().out)
    assert len(stores) == 10 * 12 * 3


def test_folded_storage_is_the_window():
    img, bx, by = _blur(True)
    lowered, *_ = lower([by.function])
    sizes = []

    class _Find(ir.IRVisitor):
        def visit_Allocate(self, node):
            if node.buf is bx.function.sym:
                sizes.append(node.size)
            self.generic_visit(node)
    _Find().visit(lowered.body)
    assert len(sizes) == 1
    # 3 rows are live at a time, folded to 4: the allocation is 4 rows, not 14.
    assert "*4" in ir.to_string(sizes[0]).replace(" ", "") or ir.const_value(sizes[0]) == 40
