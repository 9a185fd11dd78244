"""Value numbering gives each variable its own bit, however many there are:
a variable bound again forgets the values computed from it and no others.
(Compiled, a C shift `1 << n` wrapped past 31 variables, so variables shared
bits and code generation recomputed values it could have reused.)"""
from pipelang.backends.llvm.codegen import CodeGen
from pipelang.ir import Int
from pipelang.ir.nodes import Add, LoweredFunc, Symbol, Variable, i32, var
from pipelang.ir.nodes import Evaluate


def _codegen():
    return CodeGen(LoweredFunc("bits", [], Evaluate(i32(0))))


def test_each_of_many_variables_has_its_own_bit():
    cg = _codegen()
    syms = [Symbol(f"v{k}") for k in range(200)]
    for s in syms:
        cg._value_number(var(s))
    assert [cg._sym_bits[s] for s in syms] == [1 << k for k in range(200)]


def test_a_sum_carries_the_bits_of_its_variables_only():
    cg = _codegen()
    syms = [Symbol(f"v{k}") for k in range(100)]
    for s in syms:
        cg._value_number(var(s))
    number, _ = cg._value_number(Add(var(syms[3]), var(syms[97])))
    assert cg._masks[number] == (1 << 3) | (1 << 97)
    number, _ = cg._value_number(Add(Variable(Int(32), syms[35]), i32(1)))
    assert cg._masks[number] == 1 << 35
