"""The benchmark harness: pipelang against real Halide, numpy, OpenCV, scipy and PyTorch.

    python -m pipelang.bench                      # the whole suite, full sizes
    python -m pipelang.bench --size tiny --only box_blur,matmul --backends pipelang,halide

``suite`` holds the algorithms and hand schedules (one source for pipelang and
Halide), ``peers`` the library implementations, ``runner`` the timing,
agreement checks and machine limits, ``report`` the table, JSON and chart,
``png`` a small PNG writer for the examples.
"""
