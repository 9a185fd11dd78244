"""Halide's own apps (apps/*_generator.cpp) and its matrix multiply
performance test, each with its own hand-written CPU schedule, as benchmarks
that run the same Python source under ``halide`` and ``pipelang``."""

from .camera import CAMERA_APPS
from .dnn import DNN_APPS
from .grids import GRID_APPS
from .lens_blur import LENS_APPS
from .pyramids import PYRAMID_APPS
from .stencils import STENCIL_APPS

APPS = {b.name: b for b in STENCIL_APPS + PYRAMID_APPS + GRID_APPS + CAMERA_APPS + LENS_APPS + DNN_APPS}

__all__ = ["APPS"]
