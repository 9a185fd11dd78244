"""Run a pipeline lowered for a cuda target: host code interpreted, kernels launched.

After `offload_gpu_loops`, host code is lets, entry checks, loops,
allocations, `KernelLaunch`es and `HostStage`s (CPU stages, each JIT-compiled
by the LLVM backend), so it is interpreted here. Its control flow reads no
memory, so it is a pure function of the buffer shapes and scalar parameters:
the first run with given shapes and parameters records its allocations,
launches and host stages, and later runs replay them (no Python evaluation).
Intermediate device buffers are pooled.

Buffers follow Halide's dirty bits, checked before each launch and host
stage: a buffer is copied to the device before a kernel uses it only if its
host side is dirty, and back before a host stage uses it only if the device
side is; a kernel that writes a buffer leaves it dirty on the device (so
`realize(sizes)` copies the outputs back, and `realize(buffer)` leaves that to
`copy_to_host()`). Intermediate Funcs only kernels touch live only on the
device; one a host stage touches gets host memory too.

Kernels are compiled on the first run, with NVRTC, to CUBIN for the device's
architecture (or the target's `cuda_capability_NN`), one module per pipeline.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.backends.cuda.codegen import cuda_source
from pipelang.buffer import Buffer
from pipelang.errors import PipelineRuntimeError
from pipelang.lowering.analysis.evaluate import evaluate_expr
from pipelang.lowering.gpu_offload import HostStage, KernelLaunch, kernels_of


class _Intermediate:
    """A Func's storage allocated by host code: device memory from the pool,
    host memory when a host stage first needs it, and Halide's dirty bits."""

    def __init__(self, pipeline, nbytes: int, dtype):
        self.pipeline, self.nbytes, self.dtype = pipeline, nbytes, dtype
        self.ptr = None
        self.host = None
        self._host_dirty = self._device_dirty = False

    def copy_to_device(self, device=None):
        if self.ptr is None:
            self.ptr = self.pipeline._alloc(self.nbytes)
        if self._host_dirty:
            self.pipeline.device.copy_to_device(self.ptr, self.host)
            self._host_dirty = False

    def copy_to_host(self):
        if self.host is None:
            import numpy as np
            self.host = np.zeros(max(self.nbytes // self.dtype.itemsize, 1), self.dtype)
        if self._device_dirty:
            self.pipeline.device.copy_to_host(self.host, self.ptr)
            self._device_dirty = False

    def device_pointer(self):
        return self.ptr

    def set_host_dirty(self, value=True):
        self._host_dirty = value

    def set_device_dirty(self, value=True):
        self._device_dirty = value

    def release(self):
        if self.ptr is not None:
            self.pipeline._release(self.ptr, self.nbytes)


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
        self._stages: dict = {}      # id(HostStage) -> _CompiledHostStage

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
        env, bufs = {}, {}
        for kind, _, what, a in compiled.plan:
            if kind == "param":
                env[a.sym] = what.get()
                continue
            if kind == "input":
                buf = what if isinstance(what, Buffer) else what.get()
                if buf is None:
                    raise PipelineRuntimeError(f"ImageParam {what.name()} is not bound to a buffer")
            else:
                buf = outputs[what]
            bufs[a.sym] = buf
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
            elif op[0] == "host":
                self._host_stage_values(op[1], op[2], bufs)
            elif op[0] == "alloc":
                bufs[op[1]] = _Intermediate(self, op[2], op[3])
            else:
                bufs.pop(op[1]).release()

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
            dtype = s.type.numpy_dtype()
            bufs[s.buf] = _Intermediate(self, nbytes, dtype)
            ops.append(("alloc", s.buf, nbytes, dtype))
            try:
                self._exec(s.body, env, bufs, ops)
            finally:
                bufs.pop(s.buf).release()
                ops.append(("free", s.buf))
        elif cls is KernelLaunch:
            self._launch(s, env, bufs, ops)
        elif cls is HostStage:
            stage = self._host_stage(s)
            values = [evaluate_expr(ir.Variable(a.type, a.sym), env) for a in stage.scalars]
            ops.append(("host", stage, values))
            self._host_stage_values(stage, values, bufs)
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
                buf = bufs[p.sym]
                buf.copy_to_device(self.device)         # allocates; copies only a dirty host
                args.append(ctypes.c_void_p(buf.device_pointer()))
            else:
                args.append(ctype_of(p.type)(next(scalars)))
        for p in k.params:
            if p.is_buffer and p.written:
                bufs[p.sym].set_host_dirty(False)
                bufs[p.sym].set_device_dirty(True)
        if self.kernel_times is None:
            self.device.launch(fn, grid, k.block, k.shared_bytes, args)
        else:
            self.kernel_times.append((k.name, self.device.timed_launch(fn, grid, k.block,
                                                                       k.shared_bytes, args)))
        self.launches += 1

    # ---------------------------------------------------------------- host stages

    def _host_stage(self, s: HostStage):
        stage = self._stages.get(id(s))
        if stage is None:
            stage = self._stages[id(s)] = _CompiledHostStage(s, self.lowered, len(self._stages))
        return stage

    def _host_stage_values(self, stage, values, bufs) -> None:
        for sym, _ in stage.buffers:
            bufs[sym].copy_to_host()
        stage.call([bufs[sym] for sym, _ in stage.buffers], values)
        for sym, written in stage.buffers:
            if written:
                bufs[sym].set_host_dirty(True)


class _CompiledHostStage:
    """A HostStage as a JIT-compiled CPU function of the buffers it touches
    and the scalars it reads (pipeline buffers with their descriptors,
    intermediates as flat pointers)."""

    def __init__(self, s: HostStage, lowered, index: int):
        from pipelang.backends.llvm import compile_lowered
        from pipelang.lowering.gpu_offload import _Closure
        self.stage = s
        arg_bufs = {a.sym: a for a in lowered.args if a.kind is ir.ArgKind.BUFFER}
        c = _Closure()
        c.visit(s.body)
        descriptor = set()
        for a in arg_bufs.values():
            descriptor.add(ir.buffer_host(a.sym))
            for d in range(a.dimensions):
                descriptor |= {ir.buffer_min(a.sym, d), ir.buffer_extent(a.sym, d),
                               ir.buffer_stride(a.sym, d)}
        self.buffers = [(sym, w) for sym, (_, w) in sorted(c.buffers.items(), key=lambda kv: kv[0].name)]
        args = []
        for sym, _ in self.buffers:
            t = c.buffers[sym][0]
            if sym in arg_bufs:
                args.append(arg_bufs[sym])
            else:
                args.append(ir.Argument(sym, ir.ArgKind.BUFFER, t, 0))
        self.scalars = [ir.Argument(sym, ir.ArgKind.SCALAR, t)
                        for sym, t in sorted(c.scalars.items(), key=lambda kv: kv[0].name)
                        if sym not in descriptor]
        self.args = args + self.scalars
        self.jit = compile_lowered(ir.LoweredFunc(f"{lowered.name}_host_stage_{index}",
                                                  tuple(self.args), s.body))

    def call(self, buffers, values) -> None:
        import numpy as np

        from pipelang.backends.llvm import pack_scalar
        argv = np.zeros(max(self.jit.argv_size, 1), np.int64)
        for a, off, buf in zip(self.args, self.jit.arg_offsets, buffers):
            if isinstance(buf, Buffer):
                arr = buf._array
                argv[off] = arr.ctypes.data
                for d in range(a.dimensions):
                    axis = arr.ndim - 1 - d
                    argv[off + 1 + 3 * d] = buf.dim(d).min()
                    argv[off + 2 + 3 * d] = arr.shape[axis]
                    argv[off + 3 + 3 * d] = arr.strides[axis] // arr.itemsize
            else:
                argv[off] = buf.host.ctypes.data
        for a, off, v in zip(self.scalars, self.jit.arg_offsets[len(buffers):], values):
            argv[off] = pack_scalar(v, a.type)
        self.jit(argv)
