"""pipelang's LLVM options (jit.LLVM_OPTIONS) hold only while pipelang compiles."""
import ctypes

import llvmlite.binding as llvm
import pytest

from pipelang.backends.llvm import jit as J

TEXT = "define i32 @f(i32 %a) {\n  %b = add i32 %a, 1\n  %c = add i32 %b, 1\n  ret i32 %c\n}\n"
SET = [f"{o}={v}" for o, (v, _) in J.LLVM_OPTIONS.items()]
RESTORED = [f"{o}={d}" for o, (_, d) in J.LLVM_OPTIONS.items()]
NO_LOOP_OPT = {**J.LLVM_OPTIONS, **J.NO_LOOP_OPT_OPTIONS}
SET_NO_LOOP_OPT = [f"{o}={v}" for o, (v, _) in NO_LOOP_OPT.items()]
RESTORED_NO_LOOP_OPT = [f"{o}={d}" for o, (_, d) in NO_LOOP_OPT.items()]


@pytest.fixture
def set_options(monkeypatch):
    """The options given to LLVM, in order (and given to it)."""
    calls = []
    real = llvm.set_option

    def record(name, option):
        calls.append(option)
        real(name, option)
    monkeypatch.setattr(llvm, "set_option", record)
    return calls


def test_optimizer_and_machine_code_run_with_the_options_then_llvm_defaults(set_options):
    context = llvm.create_context()
    mod = J.optimize(TEXT, "m", loop_opt=False, context=context)
    assert "add i32 %a, 2" in str(mod)          # O3 still ran
    assert set_options == SET_NO_LOOP_OPT + RESTORED_NO_LOOP_OPT
    del set_options[:]
    data = J.emit_object(mod)                   # (machine code: no loop analyses)
    assert set_options == SET + RESTORED
    del mod
    context.close()
    code = J.load_object(data)
    f = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int32)(code.engine.get_function_address("f"))
    assert f(40) == 42
    code.close()


def test_options_are_restored_when_compiling_fails(set_options):
    with pytest.raises(RuntimeError, match="boom"):
        with J.llvm_options():
            raise RuntimeError("boom")
    assert set_options == SET + RESTORED


def test_loop_vectorizer_keeps_symbolic_stride_versioning(set_options):
    # The options for compiles without LLVM's loop optimizations stay off
    # when the loop vectorizer (their user) runs.
    assert J.NO_LOOP_OPT_OPTIONS and not set(J.NO_LOOP_OPT_OPTIONS) & set(J.LLVM_OPTIONS)
    context = llvm.create_context()
    mod = J.optimize(TEXT, "m", loop_opt=True, context=context)
    assert set_options == SET + RESTORED
    del mod
    context.close()
