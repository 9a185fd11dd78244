"""backends/llvm/textir.py writes LLVM IR text as llvmlite.ir would: its
constants are checked against llvmlite.ir's, and a function with a loop, a
branch and a phi against LLVM (parsed, verified, run)."""
import ctypes
import gc
import math

import llvmlite.binding as llvm
import llvmlite.ir as lir
import pytest

from pipelang.backends.llvm import textir as ll
from pipelang.backends.llvm.jit import new_target_machine, target_machine


@pytest.mark.parametrize("kind", ["half", "float", "double"])
@pytest.mark.parametrize("value", [0.0, -0.0, 0.1, 1.5, -3.25e-5, 1e30, math.inf, -math.inf, math.nan,
                                   65504.0, 2.0 ** -24])
def test_float_constants_are_written_as_llvmlite_writes_them(kind, value):
    mine = {"half": ll.HalfType, "float": ll.FloatType, "double": ll.DoubleType}[kind]()
    theirs = {"half": lir.HalfType, "float": lir.FloatType, "double": lir.DoubleType}[kind]()
    if kind == "half" and abs(value) == 1e30:
        return          # (not a half: neither packs it)
    expected = lir.Constant(theirs, value).get_reference().strip()
    assert int(ll.Constant(mine, value).ref, 16) == int(expected, 16)


def test_integer_vector_and_string_constants():
    i1, i8, i32 = ll.IntType(1), ll.IntType(8), ll.IntType(32)
    assert str(ll.Constant(i32, -7)) == "i32 -7"
    assert str(ll.Constant(i1, True)) == "i1 true"
    assert str(ll.Constant(ll.VectorType(i32, 3), [1, 2, 3])) == "<3 x i32> <i32 1, i32 2, i32 3>"
    assert ll.Constant(ll.VectorType(i32, 3), None).ref == "zeroinitializer"
    assert ll.Constant(ll.PointerType(), None).ref == "null"
    text = bytearray(b'a"\\%\n\0')
    expected = lir.Constant(lir.ArrayType(lir.IntType(8), len(text)), text).get_reference()
    assert ll.Constant(ll.ArrayType(i8, len(text)), text).ref == expected
    assert ll.VectorType(i32, 4) is ll.VectorType(ll.IntType(32), 4)


def _sum_to(module):
    """i32 sum_to(i32 n): 0 + 1 + ... + (n - 1), or -1 when n < 0."""
    i32 = ll.IntType(32)
    fn = ll.Function(module, ll.FunctionType(i32, [i32]), "sum_to")
    n = fn.args[0]
    n.name = "n"
    b = ll.IRBuilder(fn.append_basic_block("entry"))
    negative = b.icmp_signed("<", n, ll.Constant(i32, 0))
    with b.if_then(negative, likely=False):
        b.ret(ll.Constant(i32, -1))
    pre = b.block
    loop = fn.append_basic_block("loop")
    done = fn.append_basic_block("done")
    b.cbranch(b.icmp_signed("<", ll.Constant(i32, 0), n), loop, done)
    b.position_at_end(loop)
    i = b.phi(i32, "i")
    total = b.phi(i32, "total")
    i.add_incoming(ll.Constant(i32, 0), pre)
    total.add_incoming(ll.Constant(i32, 0), pre)
    new_total = b.add(total, i)
    nxt = b.add(i, ll.Constant(i32, 1), flags=("nsw",))
    i.add_incoming(nxt, b.block)
    total.add_incoming(new_total, b.block)
    b.cbranch(b.icmp_signed("<", nxt, n), loop, done)
    b.position_at_end(done)
    result = b.phi(i32, "result")
    result.add_incoming(ll.Constant(i32, 0), pre)
    result.add_incoming(new_total, loop)
    b.ret(result)
    return fn, (pre, loop, done)


def test_a_function_with_a_loop_parses_verifies_and_runs():
    module = ll.Module("textir_test")
    _, (pre, loop, done) = _sum_to(module)
    # The dominator tree the builder recorded as it went.
    assert loop.dominated_by(pre) and done.dominated_by(pre) and not done.dominated_by(loop)
    tm = target_machine()
    mod = llvm.parse_assembly(str(module))
    mod.triple, mod.data_layout = tm.triple, str(tm.target_data)
    mod.verify()
    engine = llvm.create_mcjit_compiler(mod, new_target_machine())
    engine.finalize_object()
    sum_to = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int32)(engine.get_function_address("sum_to"))
    assert [sum_to(n) for n in (-3, 0, 1, 5, 100)] == [-1, 0, 0, 10, 4950]


def test_integer_operations_on_constants_fold_as_llvm_wraps():
    # Folded while building (no instruction written), wrapping at the width.
    i1, i8, i32, i64 = ll.IntType(1), ll.IntType(8), ll.IntType(32), ll.IntType(64)
    fn = ll.Function(ll.Module("m"), ll.FunctionType(i32, []), "f")
    b = ll.IRBuilder(fn.append_basic_block("entry"))
    c = ll.Constant
    assert b.add(c(i32, 2**31 - 1), c(i32, 1), flags=("nsw",)).ref == str(-2**31)
    assert b.sub(c(i32, 4), c(i32, 1)).ref == "3"
    assert b.mul(c(i8, 16), c(i8, 17)).ref == "16"
    assert b.sext(c(i32, -1), i64).ref == "-1"
    assert b.zext(c(i8, -1), i32).ref == "255"
    assert b.trunc(c(i32, 257), i8).ref == "1"
    assert b.trunc(c(i32, 3), i1).ref == "true"
    assert b.zext(c(i1, True), i32).ref == "%.1"      # true/false are not folded
    assert fn.blocks[0].lines == ["%.1 = zext i1 true to i32"]


def _textir_objects() -> int:
    return sum(type(o).__module__ == ll.__name__ for o in gc.get_objects())


def test_a_released_module_is_freed_by_reference_counting():
    # Functions, blocks, phis and allocas refer to each other while a module
    # is built; release() breaks those cycles once it has been printed.
    gc.collect()
    gc.disable()
    try:
        before = _textir_objects()
        module = ll.Module("released")
        fn = _sum_to(module)[0]
        b = ll.IRBuilder(fn.blocks[0])
        b.alloca(ll.IntType(32), name="slot")
        text = str(module)
        assert "phi i32" in text and "alloca i32" in text
        assert _textir_objects() > before
        module.release()
        del module, fn, b
        assert _textir_objects() == before      # no collection needed
    finally:
        gc.enable()
