"""pipelang's exception family.

Every user error is a `HalideError` (the name Halide's Python bindings use, so
`except hl.HalideError` keeps working); the subclasses say which phase found it.
Internal bugs are assertions, never these.
"""


class HalideError(RuntimeError):
    """Base of all pipelang user errors."""


class CompileError(HalideError):
    """The algorithm is malformed: an undefined Func, wrong arity, a bad literal."""


class ScheduleError(CompileError):
    """A scheduling directive is illegal for this Func."""


class BufferError_(HalideError):
    """A buffer passed to a pipeline has the wrong type, dimensions or size."""


class PipelineRuntimeError(HalideError):
    """A check inside compiled code failed (for example an input too small)."""


# A readable public name (the trailing underscore avoids shadowing Python's BufferError).
InputBufferError = BufferError_


class ArgumentTypeError(BufferError_, TypeError):
    """A call got an argument of the wrong kind (where Halide's bindings raise TypeError)."""
