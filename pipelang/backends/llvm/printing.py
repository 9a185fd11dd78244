"""Code for `Op.PRINT`: printf from compiled code (hl.print, tracing).

`Intrinsic(t, PRINT, (value, condition, *pieces))` prints the pieces with no
separator and a newline when `condition` holds, then gives `value`. Strings
are printed as they are, ints in decimal, floats as `%f` (Halide's runtime
prints floats that way), vectors as `<a, b, c>`. Output is flushed at once,
so it interleaves correctly with Python's own.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile

from pipelang.backends.llvm import textir as ll

from pipelang.ir import StringImm

I8P = ll.IntType(8).as_pointer()
I64 = ll.IntType(64)
DOUBLE = ll.DoubleType()


def _scalar_format(builder, v, t):
    if t.is_float():
        if t.bits() != 64:
            v = builder.fpext(v, DOUBLE)
        return "%f", v
    if t.bits() < 64:
        v = builder.zext(v, I64) if (t.is_uint() or t.is_bool()) else builder.sext(v, I64)
    return ("%llu" if t.is_uint() else "%lld"), v


def emit_print(cg, pieces) -> None:
    """printf the pieces (IR Exprs) with the code generator `cg`, then fflush."""
    b = cg.st.builder
    fmt, values = [], []
    for p in pieces:
        if isinstance(p, StringImm):
            fmt.append(p.value.replace("%", "%%"))
            continue
        v, t = cg.expr(p), p.type
        if t.is_vector():
            parts = []
            for lane in range(t.lanes()):
                f, x = _scalar_format(b, b.extract_element(v, ll.Constant(ll.IntType(32), lane)),
                                      t.element_of())
                parts.append(f)
                values.append(x)
            fmt.append("<" + ", ".join(parts) + ">")
        else:
            f, x = _scalar_format(b, v, t)
            fmt.append(f)
            values.append(x)
    text = bytearray(("".join(fmt) + "\n").encode()) + b"\0"
    const = ll.Constant(ll.ArrayType(ll.IntType(8), len(text)), text)
    gv = ll.GlobalVariable(cg.module, const.type, cg.module.get_unique_name("fmt"))
    gv.global_constant = True
    gv.linkage = "internal"
    gv.initializer = const
    printf = cg._declare("printf", ll.FunctionType(ll.IntType(32), [I8P], var_arg=True))
    fflush = cg._declare("fflush", ll.FunctionType(ll.IntType(32), [I8P]))
    b.call(printf, [b.bitcast(gv, I8P)] + values)
    b.call(fflush, [ll.Constant(I8P, None)])


@contextlib.contextmanager
def c_stdout_to_python():
    """While compiled code runs, send what it prints to `sys.stdout` when
    Python's stdout has been replaced (`contextlib.redirect_stdout`, pytest's
    capsys): compiled code writes to file descriptor 1, which a replaced
    `sys.stdout` does not see. Halide's bindings route `halide_print` to
    `sys.stdout` the same way. Does nothing when stdout is the real one."""
    if sys.stdout is sys.__stdout__ or sys.__stdout__ is None:
        yield
        return
    sys.__stdout__.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            yield
        finally:
            _libc_fflush()
            os.dup2(saved, 1)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode(errors="replace")
            if text:
                sys.stdout.write(text)


def _libc_fflush() -> None:
    import ctypes
    ctypes.CDLL(None).fflush(None)
