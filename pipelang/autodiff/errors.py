"""The error autodiff raises for a pipeline it can't differentiate."""
from pipelang.errors import CompileError


class NotDifferentiableError(CompileError):
    """A Func, update or expression whose gradient can't be formed (named in the message)."""
