"""The protocol every backend implements.

A backend consumes only final lowered IR (`pipelang.ir.LoweredFunc`) and
returns a callable taking the packed argument vector (see
`pipelang.backends.llvm.jit` for the layout).
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from pipelang.ir import LoweredFunc


@runtime_checkable
class CompiledFunction(Protocol):
    argv_size: int
    arg_offsets: list

    def __call__(self, argv: np.ndarray) -> None:
        """Run the pipeline; raises `PipelineRuntimeError` on a failed assertion."""


@runtime_checkable
class Backend(Protocol):
    def compile(self, lowered: LoweredFunc) -> CompiledFunction:
        ...
