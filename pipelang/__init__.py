"""pipelang: a Halide-style DSL and schedule compiler for image and tensor
pipelines, JIT-compiled for the CPU with LLVM.

The public API follows Halide's Python bindings: a program written for
`import halide as hl` runs with `import pipelang as hl`.
"""
import builtins

from pipelang import _compiled  # noqa: F401  (first: which build of the compiler core loads)

from pipelang import boundary_conditions as BoundaryConditions
from pipelang.autodiff import Derivative, propagate_adjoints
from pipelang.buffer import Buffer
from pipelang.calling import Argument, ArgumentKind, Callable
from pipelang.errors import CompileError, HalideError, PipelineRuntimeError, ScheduleError
from pipelang.expr import Expr
from pipelang.func import Func, FuncRef, FuncTupleElementRef
from pipelang.ir.types import Bool, Float, Handle, Int, Type, TypeCode, UInt
from pipelang.operators import *  # noqa: F401,F403  (the math and cast functions)
from pipelang.fixed_point import *  # noqa: F401,F403  (widening, saturating, rounding arithmetic)
from pipelang.param import ImageParam, OutputImageParam, Param, Parameter
from pipelang.serialization import deserialize_parameters, deserialize_pipeline, serialize_pipeline
from pipelang.pipeline import AutoSchedulerResults, AutoschedulerParams, Pipeline, StmtOutputFormat
from pipelang.rdom import RDom, Range, RVar
from pipelang.reductions import argmax, argmin, maximum, minimum, product, sum
from pipelang.backends.cuda import get_gpu_device, host_supports_target_device
from pipelang.schedule import (DeviceAPI, LoopAlignStrategy, LoopLevel, MemoryType, Partition,
                               PrefetchBoundStrategy, TailStrategy)
from pipelang.stage import Stage
from pipelang.target import (Target, TargetArch, TargetFeature, TargetOS, TargetProcessorTune,
                             get_host_target, get_jit_target_from_environment, get_target_from_environment,
                             target_feature_for_device_api)
from pipelang.aot import OutputFileType, compile_standalone_runtime, install_dir, load_library
from pipelang.aot.generator_cli import main
from pipelang.generator import (Generator, GeneratorContext, GeneratorParam, InputBuffer,
                                InputScalar, OutputBuffer, OutputScalar, alias,
                                create_callable_from_generator, funcs, generator)
from pipelang.tuple import Tuple
from pipelang.var import Var, _, _0, _1, _2, _3, _4, _5, _6, _7, _8, _9, vars
from pipelang.lowering.simplify import _allow_deep_ir

# Definitions nest as deep as users write them (a sum of thousands of terms),
# and the front end recurses once per level, as lowering does: the same
# recursion limit from the start, not only after a first compile.
_allow_deep_ir()


def evaluate(e):
    """The value of an Expr that depends on no Var (compiled and run once)."""
    f = Func()
    f[()] = e
    out = f.realize([])
    if isinstance(out, (list, builtins.tuple)):
        # (`tuple` here is the pipelang.tuple submodule, hence builtins.)
        return builtins.tuple(b._array.item() for b in out)
    return out._array.item()


def lambda_func(*args):
    """Halide's `lambda_func(x, y, e)`: a new Func defined as `f[x, y] = e`
    (`lambda_func(e)` uses the implicit vars `e` calls for)."""
    *vars_, e = args
    f = Func("lambda")
    f[builtins.tuple(vars_) if vars_ else _] = e
    return f


def evaluate_may_gpu(e):
    """`evaluate(e)`, run on the GPU when the JIT target has a GPU feature
    (as Halide's: one GPU thread computes the value)."""
    target = get_jit_target_from_environment()
    if not target.has_gpu_feature():
        return evaluate(e)
    f = Func()
    f[()] = e
    f.gpu_single_thread()
    out = f.realize([], target)
    if isinstance(out, (list, builtins.tuple)):
        return builtins.tuple(b._array.item() for b in out)
    return out._array.item()


def set_num_threads(n: int) -> None:
    """How many threads parallel loops use (also `HL_NUM_THREADS` in the environment)."""
    from pipelang.backends.llvm import set_num_threads as _set
    _set(n)


def get_num_threads() -> int:
    from pipelang.backends.llvm import get_num_threads as _get
    return _get()


def load_plugin(lib_name: str) -> None:
    """Halide loads autoscheduler plugins from shared libraries; pipelang's
    autoscheduler is built in, so this accepts Halide's plugin names
    ("autoschedule_adams2019", "libautoschedule_mullapudi2016.so", ...) and
    rejects unknown ones."""
    from autoscheduler.params import check_plugin_name
    check_plugin_name(lib_name)


__version__ = "0.1.0"
