"""Run a pipeline lowered for a cuda target: host code interpreted, kernels launched.

After `offload_gpu_loops`, host code is only lets, entry checks, loops, device
allocations and `KernelLaunch`es, so it is interpreted here rather than
JIT-compiled. It reads no memory, so it is a pure function of the buffer
shapes and scalar parameters: the first run with given shapes and parameters
records its allocations and launches, and later runs replay them (a launch
per kernel, no Python evaluation). Intermediate device buffers are pooled. Buffers follow Halide's dirty bits:
an input is copied to the device only if its host side is dirty; an output
is left dirty on the device (`realize(sizes)` then copies it back,
`realize(buffer)` leaves that to `copy_to_host()`). Intermediate Funcs
computed at root live only on the device.

Kernels are compiled on the first run, with NVRTC, to CUBIN for the device's
architecture (or the target's `cuda_capability_NN`), one module per pipeline.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.backends.cuda.codegen import cuda_source
from pipelang.buffer import Buffer
from pipelang.errors import PipelineRuntimeError
from pipelang.lowering.analysis.evaluate import evaluate_expr
from pipelang.lowering.gpu_offload import KernelLaunch, kernels_of


class DevicePipeline:
    def __init__(self, lowered: ir.LoweredFunc, name: str, target, device=None):
        self.lowered = lowered
        self.name = name
        self.target = target
        self.kernels = kernels_of(lowered.body)
        self.source = cuda_source(self.kernels, name)
        self._device = device
        self.module = None
        self.launches = 0
        # Set to a list to time each launch with CUDA events (it then waits for
        # each kernel): (kernel name, milliseconds) are appended.
        self.kernel_times = None
        self._replays: dict = {}     # shapes and params -> recorded allocations and launches
        self._pool: dict = {}        # bytes -> free device pointers of intermediate buffers

    @property
    def device(self):
        if self._device is None:
            from pipelang.backends.cuda.runtime import get_device
            self._device = get_device()
        return self._device

    def _load(self):
        if self.module is None:
            from pipelang.backends.cuda.nvrtc import compile_cuda
            cap = self.target.cuda_capability() if self.target is not None else None
            arch = self.device.arch
            if cap is not None and cap > self.device.capability:
                raise PipelineRuntimeError(f"Target {self.target} needs CUDA capability {cap}, but "
                                           f"device {self.device.name} has {self.device.capability}")
            self.module = self.device.load_module(compile_cuda(self.source, arch))
        return self.module

    # ---------------------------------------------------------------- running

    def run(self, compiled, outputs: list) -> None:
        """Run with the output Buffers `outputs`; inputs and params from `compiled.plan`."""
        env, bufs, written = {}, {}, []
        for kind, _, what, a in compiled.plan:
            if kind == "param":
                env[a.sym] = what.get()
                continue
            if kind == "input":
                buf = what if isinstance(what, Buffer) else what.get()
                if buf is None:
                    raise PipelineRuntimeError(f"ImageParam {what.name()} is not bound to a buffer")
                buf.copy_to_device(self.device)
            else:
                buf = outputs[what]
                buf.device_malloc(self.device)
                written.append(buf)
            bufs[a.sym] = buf.device_pointer()
            # The device copy is dense: its strides are those of the shape.
            stride = 1
            for d in range(buf.dimensions()):
                env[ir.buffer_min(a.sym, d)] = buf.dim(d).min()
                env[ir.buffer_extent(a.sym, d)] = buf.dim(d).extent()
                env[ir.buffer_stride(a.sym, d)] = stride
                stride *= buf.dim(d).extent()
        key = tuple(env.values())
        ops = self._replays.get(key)
        if ops is None:
            ops = []
            self._exec(self.lowered.body, env, bufs, ops)
            if len(self._replays) > 64:
                self._replays.clear()
            self._replays[key] = ops
        else:
            self._replay(ops, bufs)
        for buf in written:
            buf.set_host_dirty(False)
            buf.set_device_dirty(True)

    def _alloc(self, nbytes: int) -> int:
        free = self._pool.get(nbytes)
        return free.pop() if free else self.device.alloc(nbytes)

    def _release(self, ptr: int, nbytes: int) -> None:
        self._pool.setdefault(nbytes, []).append(ptr)

    def free_pool(self) -> None:
        for ptrs in self._pool.values():
            for ptr in ptrs:
                self.device.free(ptr)
        self._pool.clear()

    def __del__(self):
        try:
            if self._pool and self._device is not None:
                self.free_pool()
        except Exception:  # noqa: BLE001 - at interpreter exit the driver may be gone
            pass

    def _replay(self, ops, bufs) -> None:
        for op in ops:
            if op[0] == "launch":
                _, s, grid, values = op
                self._launch_values(s.kernel, grid, values, bufs)
            elif op[0] == "alloc":
                bufs[op[1]] = self._alloc(op[2])
            else:
                self._release(bufs.pop(op[1]), op[2])

    def _exec(self, s, env, bufs, ops) -> None:
        cls = type(s)
        if cls is ir.Block:
            for sub in s.stmts:
                self._exec(sub, env, bufs, ops)
        elif cls is ir.LetStmt:
            env[s.sym] = evaluate_expr(s.value, env)
            self._exec(s.body, env, bufs, ops)
        elif cls is ir.AssertStmt:
            if not evaluate_expr(s.condition, env):
                raise PipelineRuntimeError(s.message.format(*[evaluate_expr(a, env) for a in s.args]))
        elif cls is ir.IfThenElse:
            if evaluate_expr(s.condition, env):
                self._exec(s.then_case, env, bufs, ops)
            elif s.else_case is not None:
                self._exec(s.else_case, env, bufs, ops)
        elif cls is ir.For:
            lo = evaluate_expr(s.min, env)
            for i in range(lo, lo + evaluate_expr(s.extent, env)):
                env[s.sym] = i
                self._exec(s.body, env, bufs, ops)
        elif cls is ir.Allocate:
            nbytes = max(int(evaluate_expr(s.size, env)), 1) * s.type.bytes()
            bufs[s.buf] = self._alloc(nbytes)
            ops.append(("alloc", s.buf, nbytes))
            try:
                self._exec(s.body, env, bufs, ops)
            finally:
                self._release(bufs.pop(s.buf), nbytes)
                ops.append(("free", s.buf, nbytes))
        elif cls is KernelLaunch:
            self._launch(s, env, bufs, ops)
        elif cls is ir.Evaluate:
            evaluate_expr(s.value, env)
        else:
            raise PipelineRuntimeError(f"Internal error: {cls.__name__} in host code of a cuda pipeline")

    def _launch(self, s: KernelLaunch, env, bufs, ops) -> None:
        k = s.kernel
        grid = [int(evaluate_expr(g, env)) for g in s.grid]
        if min(grid) <= 0:
            return
        if grid[0] >= 1 << 31 or max(grid[1:]) > 65535:
            raise PipelineRuntimeError(
                f"Kernel {k.name} needs a grid of {grid[0]}x{grid[1]}x{grid[2]} blocks; CUDA allows at "
                f"most 65535 in y and z (the second and third gpu_blocks loops): make those tiles larger")
        values = [evaluate_expr(a, env) for a in s.args]
        ops.append(("launch", s, grid, values))
        self._launch_values(k, grid, values, bufs)

    def _launch_values(self, k, grid, values, bufs) -> None:
        import ctypes

        from pipelang.backends.cuda.runtime import ctype_of
        fn = self._load().function(k.name, k.shared_bytes)
        args = []
        scalars = iter(values)
        for p in k.params:
            if p.is_buffer:
                args.append(ctypes.c_void_p(bufs[p.sym]))
            else:
                args.append(ctype_of(p.type)(next(scalars)))
        if self.kernel_times is None:
            self.device.launch(fn, grid, k.block, k.shared_bytes, args)
        else:
            self.kernel_times.append((k.name, self.device.timed_launch(fn, grid, k.block,
                                                                       k.shared_bytes, args)))
        self.launches += 1
