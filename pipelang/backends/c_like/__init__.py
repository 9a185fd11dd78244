"""A C-family printer of lowered scalar IR, shared by the CUDA emitter and `compile_to_c`.

`CPrinter` prints expressions and statements with Halide's semantics spelled
out in C: integer `/` and `%` round toward negative infinity (helpers), narrow
integer arithmetic wraps to its type, float `min`/`max` ignore NaNs (as
llvm.minnum), `x / 0` is 0 for ints. Helpers are emitted once, on first use,
with the dialect's function qualifier. Names come from the IR's symbols made
into C identifiers (`blur_y.s0.x.xi` -> `blur_y_s0_x_xi`), fresh per binding.
A dialect subclass sets `qualifier`, the type names, float specials and the
GPU hooks (`barrier`, thread/block ids).
"""
from pipelang.backends.c_like.printer import CPrinter, CodeGenError, c_identifier

__all__ = ["CPrinter", "CodeGenError", "c_identifier"]
