"""pipelang's LLVM options for machine code (LSR off) hold only while it makes code."""
import ctypes

import llvmlite.binding as llvm
import pytest

from pipelang.backends.llvm import jit as J

TEXT = "define i32 @f(i32 %a) {\n  %b = add i32 %a, 1\n  ret i32 %b\n}\n"


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


def test_jit_sets_the_options_for_its_code_and_restores_llvm_defaults(set_options):
    context = llvm.create_context()
    mod = J.optimize(TEXT, "m", loop_opt=False, context=context)
    code = J.Code(J.jit(mod), context)
    assert set_options == ["-disable-lsr=true", "-disable-lsr=false"]
    f = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int32)(code.engine.get_function_address("f"))
    assert f(41) == 42
    code.close()


def test_options_are_restored_when_making_code_fails(set_options):
    with pytest.raises(RuntimeError, match="boom"):
        with J.machine_code_options():
            raise RuntimeError("boom")
    assert set_options == ["-disable-lsr=true", "-disable-lsr=false"]

