"""The optimized LLVM IR and assembly of compiled code are made on request,
not printed on every compile, and are those of the code that runs."""
import ctypes

import llvmlite.binding as llvm
import numpy as np

from pipelang.backends.llvm import compile_lowered
from pipelang.backends.llvm import jit as J
from pipelang.ir import Int, type_of_dtype
from pipelang.ir.nodes import (
    Add, ArgKind, Argument, For, ForKind, Load, LoweredFunc, Store, Symbol, Variable,
    buffer_extent, i32, var,
)

TEXT = "define i32 @f(i32 %a) {\n  %b = add i32 %a, 1\n  %c = add i32 %b, 1\n  ret i32 %c\n}\n"


def _optimized_directly(text: str, name: str) -> str:
    context = llvm.create_context()
    with J.llvm_lock:
        mod = J.optimize(text, name, loop_opt=False, context=context)
        try:
            return str(mod)
        finally:
            mod.close()
            context.close()


def test_compile_module_gives_the_source_and_the_same_optimized_ir():
    code, source, key = J.compile_module(TEXT, "m", loop_opt=False)
    assert key is None and source.text == TEXT
    f = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int32)(code.engine.get_function_address("f"))
    assert f(40) == 42
    optimized = source.optimized_text()
    assert "add i32 %a, 2" in optimized                  # O3 ran
    assert optimized == _optimized_directly(TEXT, "m")   # deterministic
    assert "f:" in source.assembly()
    code.close()


def _add_one():
    inp, out, x = Symbol("in"), Symbol("out"), Symbol("x")
    n = Variable(Int(32), buffer_extent(out, 0))
    body = For(x, i32(0), n, ForKind.SERIAL,
               Store(out, Add(Load(Int(32), inp, var(x)), i32(1)), var(x)))
    args = tuple(Argument(s, ArgKind.BUFFER, type_of_dtype(np.int32), 1) for s in (inp, out))
    return compile_lowered(LoweredFunc("add_one", args, body), loop_opt=False)


def test_jit_function_prints_its_optimized_ir_only_when_asked():
    jf = _add_one()
    assert jf._llvm_ir is None                    # nothing printed while compiling
    a, o = np.arange(6, dtype=np.int32), np.zeros(6, np.int32)
    jf(jf.make_argv(a, o))
    np.testing.assert_array_equal(o, a + 1)
    ir = jf.llvm_ir
    assert ir == _optimized_directly(jf._source.text, jf.name)
    assert "define " in ir and "@add_one(" in ir
    assert jf.llvm_ir is ir                       # made once
    assert "add_one" in jf.assembly()
