"""The 3x3 box blur on a GPU: gpu_tile, a producer in shared memory, CUDA.

    python examples/gpu_blur.py             (add --halide to run the same code on real Halide)

With a CUDA device (and `pip install 'pipelang[cuda]'`) the kernels run on it.
Without one, pipelang runs the very same GPU-lowered loop nest on the CPU
(`PIPELANG_CUDA_EMULATE=1`, a debugging aid: blocks in parallel, threads one
after another, shared memory per block), and prints the CUDA C it would run.
Real Halide cannot emulate a GPU, so there it falls back to the CPU schedule.
"""

import os
import time

import numpy as np
from common import hl, save_png, scene

width, height = 1024, 768
input_np = (scene(width + 2, height + 2) * 4095).astype(np.uint16)
input = hl.Buffer(input_np)

x, y, xo, yo, xi, yi = hl.vars("x y xo yo xi yi")
blur_x, blur_y = hl.Func("blur_x"), hl.Func("blur_y")
blur_x[x, y] = (input[x, y] + input[x + 1, y] + input[x + 2, y]) // 3
blur_y[x, y] = (blur_x[x, y] + blur_x[x, y + 1] + blur_x[x, y + 2]) // 3

target = hl.get_host_target().with_feature(hl.TargetFeature.CUDA)
is_pipelang = hl.__name__ == "pipelang"
on_device = hl.host_supports_target_device(target)
if not on_device and is_pipelang:
    os.environ["PIPELANG_CUDA_EMULATE"] = "1"      # run the GPU schedule on the CPU

if on_device or is_pipelang:
    # One GPU block per 32x8 tile of the output, one thread per pixel; each
    # block first computes the 32x10 rows of blur_x it needs into shared
    # memory (a barrier between the two stages), then blur_y from them.
    blur_y.gpu_tile(x, y, xo, yo, xi, yi, 32, 8)
    blur_x.compute_at(blur_y, xo).gpu_threads(x, y)
    print("running on", "the GPU" if on_device else "the CPU, emulating the GPU schedule")
    if is_pipelang:
        source = hl.Pipeline(blur_y).cuda_source(target)
        print(source[source.index('extern "C"'):][:400] + "\n...")
else:
    print("No GPU here, and real Halide cannot emulate one: using the CPU schedule")
    blur_y.split(y, y, yi, 32).parallel(y).vectorize(x, 8)
    blur_x.store_at(blur_y, y).compute_at(blur_y, yi).vectorize(x, 8)
    target = hl.get_host_target()

blur_y.compile_jit(target)
start = time.perf_counter()
output = np.asarray(blur_y.realize([width, height]))
print(f"ran in {(time.perf_counter() - start) * 1e3:.1f} ms (copies and first-run compilation included)")

a = input_np
expected_x = (a[:, :-2] + a[:, 1:-1] + a[:, 2:]) // 3
expected = (expected_x[:-2] + expected_x[1:-1] + expected_x[2:]) // 3
assert np.array_equal(output, expected), "GPU blur differs from numpy"
print("matches numpy")
save_png("gpu_blur_output.png", output * 16)
