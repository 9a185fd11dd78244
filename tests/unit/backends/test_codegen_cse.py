"""The LLVM backend generates equal expressions once (value numbering): it
must not reuse a value once a variable it reads is bound again, a load once
a store may have changed memory, or a value outside the block that computed
it. Hand-built lowered IR, checked against numpy."""
import numpy as np

from pipelang.backends.llvm import compile_lowered
from pipelang.backends.llvm.codegen import generate_module
from pipelang.ir import Int, type_of_dtype
from pipelang.ir.nodes import (Add, ArgKind, Argument, Block, For, ForKind, IfThenElse, LetStmt,
                               Load, LoweredFunc, LT, Mul, Store, Symbol, Variable,
                               buffer_extent, i32, var)


def _buffer(sym, dtype=np.int32):
    return Argument(sym, ArgKind.BUFFER, type_of_dtype(dtype), 1)


def _run(body, args, arrays):
    jf = compile_lowered(LoweredFunc("cse", args, body))
    jf(jf.make_argv(*arrays))
    return jf


def _count(body, args, opcode):
    text = str(generate_module(LoweredFunc("cse", args, body)).module)
    return sum(1 for line in text.splitlines() if f"= {opcode} " in line)


def test_equal_subexpressions_are_generated_once():
    out, x, y = Symbol("out"), Symbol("x"), Symbol("y")
    # Two structurally equal (not identical) products in one store.
    term = lambda: Mul(Add(var(x), var(y)), Add(var(x), i32(7)))
    store = Store(out, Add(term(), term()), var(x))
    body = LetStmt(y, i32(5), For(x, i32(0), Variable(Int(32), buffer_extent(out, 0)),
                                  ForKind.SERIAL, store))
    assert _count(body, (_buffer(out),), "mul") == 1
    result = np.zeros(16, np.int32)
    _run(body, (_buffer(out),), [result])
    xs = np.arange(16)
    np.testing.assert_array_equal(result, 2 * (xs + 5) * (xs + 7))


def test_a_variable_bound_again_gets_a_new_value():
    # Unrolled copies bind the same symbol again in one block: the shared
    # expression `k * 3 + 1` must be computed for each binding.
    out, k = Symbol("out"), Symbol("k")
    value = Add(Mul(var(k), i32(3)), i32(1))
    copies = [LetStmt(k, i32(i), Store(out, value, var(k))) for i in range(4)]
    _run(Block(tuple(copies)), (_buffer(out),), [result := np.zeros(4, np.int32)])
    np.testing.assert_array_equal(result, [1, 4, 7, 10])


def test_a_load_after_a_store_reads_memory_again():
    # buf[0] = buf[0] * 2 + 1, three times in one block, each statement the
    # same expression object: a load reused across a store would read stale data.
    buf = Symbol("buf")
    value = Add(Mul(Load(Int(32), buf, i32(0)), i32(2)), i32(1))
    body = Block(tuple(Store(buf, value, i32(0)) for _ in range(3)))
    result = np.array([5], np.int32)
    _run(body, (_buffer(buf),), [result])
    assert result[0] == ((5 * 2 + 1) * 2 + 1) * 2 + 1


def test_values_of_one_branch_are_not_used_in_another_block():
    out, x = Symbol("out"), Symbol("x")
    shared = Mul(Add(var(x), i32(3)), var(x))
    branch = IfThenElse(LT(var(x), i32(4)), Store(out, shared, var(x)),
                        Store(out, Add(shared, i32(1)), var(x)))
    after = Store(out, Add(Load(Int(32), out, var(x)), shared), var(x))
    body = For(x, i32(0), Variable(Int(32), buffer_extent(out, 0)), ForKind.SERIAL,
               Block((branch, after)))
    result = np.zeros(8, np.int32)
    _run(body, (_buffer(out),), [result])
    xs = np.arange(8)
    s = (xs + 3) * xs
    np.testing.assert_array_equal(result, np.where(xs < 4, s, s + 1) + s)


def test_a_loop_body_reuses_what_its_preheader_computed():
    # `n * 3` is computed before the loop (for the first store) and again in
    # the loop body, which the block before the loop dominates: one multiply.
    out, x = Symbol("out"), Symbol("x")
    n = Variable(Int(32), buffer_extent(out, 0))
    scaled = lambda: Mul(n, i32(3))
    body = Block((Store(out, scaled(), i32(0)),
                  For(x, i32(1), Add(n, i32(-1)), ForKind.SERIAL,
                      Store(out, Add(scaled(), var(x)), var(x)))))
    assert _count(body, (_buffer(out),), "mul") == 1
    result = np.zeros(6, np.int32)
    _run(body, (_buffer(out),), [result])
    np.testing.assert_array_equal(result, [18, 19, 20, 21, 22, 23])


def test_values_of_a_loop_body_are_not_used_after_the_loop():
    # `x * 5` is computed in the body; after the loop (whose body may not
    # run) it is computed again, with x bound again to another value.
    out, x = Symbol("out"), Symbol("x")
    n = Variable(Int(32), buffer_extent(out, 0))
    body = Block((For(x, i32(0), Add(n, i32(-1)), ForKind.SERIAL,
                      Store(out, Mul(var(x), i32(5)), var(x))),
                  LetStmt(x, Add(n, i32(-1)), Store(out, Mul(var(x), i32(5)), var(x)))))
    result = np.zeros(5, np.int32)
    _run(body, (_buffer(out),), [result])
    np.testing.assert_array_equal(result, np.arange(5) * 5)
