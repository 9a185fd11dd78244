"""Buffer constraints and input-bounds inference (Halide's `dim(i).set_bounds`,
`Func.output_buffer()`, `infer_input_bounds`).

A constraint says what a buffer's min, extent or stride must be, as an Expr
of Params and other buffers' fields. Compiled code checks each one on entry
(`Constraint violated: input.min.0 (3) == 0 (0)`); a bounds query
(`infer_input_bounds`) instead makes the shapes satisfy them, iterating to a
fixed point as Halide does (constraints may refer to each other), and then
allocates every unbound ImageParam at its inferred shape.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.buffer import Buffer, Dimension
from pipelang.errors import BufferError_, CompileError
from pipelang.expr import Expr, to_ir
from pipelang.function import touch

_FIELDS = {"min": ir.buffer_min, "extent": ir.buffer_extent, "stride": ir.buffer_stride}
_MAX_ITERATIONS = 16          # Halide's limit
UNCONSTRAINED = None          # a table entry that lifts a default constraint (`set_stride(Expr())`)


def dense_dim0(table) -> bool:
    """Whether a buffer with this constraint table has stride 1 in dimension 0:
    Halide's default for ImageParams and output buffers, unless `dim(0).set_stride`
    gave another stride (or none, with an undefined Expr)."""
    e = (table or {}).get((0, "stride"), ir.i32(1))
    return e is not None and ir.is_const(e, 1)


def constraint_table(owner, sym):
    """The constraint table of buffer `sym`: an ImageParam's own, an output
    Function's for that Tuple element, None for an embedded Buffer."""
    tables = getattr(owner, "output_constraints", None)
    if tables is not None:
        from pipelang.lowering.names import buffer
        return next((tables.get(i) for i in range(len(owner.output_types))
                     if buffer(owner, i) is sym), None)
    return getattr(owner, "_constraints", None)


class ConstrainedDimension(Dimension):
    """`param.dim(d)` of an ImageParam or an output buffer: its fields as
    Exprs, and setters that constrain them."""

    def __init__(self, sym: ir.Symbol, d: int, constraints: dict, estimate=None, owner=None):
        super().__init__(*(Expr(ir.Variable(ir.Int(32), f(sym, d))) for f in _FIELDS.values()),
                         estimate)
        self._d = d
        self._constraints = constraints
        self._owner = owner          # what `dim(j)` chains to (an ImageParam, an output buffer)

    def dim(self, d: int) -> "ConstrainedDimension":
        """Another dimension of the same buffer, so calls chain as in Halide:
        `p.dim(0).set_estimate(0, 64).dim(1).set_estimate(0, 32)`."""
        if self._owner is None:
            raise CompileError("This dimension does not belong to a buffer that can be indexed")
        return self._owner.dim(d)

    def _set(self, field: str, value) -> "ConstrainedDimension":
        if value is None or (isinstance(value, Expr) and not value.defined()):
            if (self._d, field) == (0, "stride"):
                # Halide's default constraint (stride 1 in dimension 0) removed:
                # the stride is whatever the caller passes.
                self._constraints[(0, "stride")] = UNCONSTRAINED
            else:
                self._constraints.pop((self._d, field), None)
        else:
            e = to_ir(value)
            if not (e.type.is_int() or e.type.is_uint()):
                raise CompileError(f"dim({self._d}).set_{field} takes an integer Expr, "
                                   f"not {ir.to_string(e)} of type {e.type}")
            self._constraints[(self._d, field)] = e if e.type == ir.Int(32) else ir.Cast(ir.Int(32), e)
        touch()
        return self

    def set_min(self, min) -> "ConstrainedDimension":    # noqa: A002 (Halide's keyword)
        return self._set("min", min)

    def set_extent(self, extent) -> "ConstrainedDimension":
        return self._set("extent", extent)

    def set_stride(self, stride) -> "ConstrainedDimension":
        return self._set("stride", stride)

    def set_bounds(self, min, extent) -> "ConstrainedDimension":    # noqa: A002
        return self.set_min(min).set_extent(extent)


class OutputImageParam:
    """`f.output_buffer()`: the buffer an output Func is realized into, to
    read or constrain its shape (Halide's `OutputImageParam`)."""

    def __init__(self, function, index: int):
        from pipelang.lowering.names import buffer
        self._function = function
        self._index = index
        self._sym = buffer(function, index)

    def name(self) -> str:
        return self._sym.name

    def type(self) -> ir.Type:
        return self._function.output_types[self._index]

    def dimensions(self) -> int:
        return len(self._function.args)

    def dim(self, d: int) -> ConstrainedDimension:
        if not 0 <= d < self.dimensions():
            raise CompileError(f"Output buffer {self.name()} has {self.dimensions()} dimensions; "
                               f"dimension {d} does not exist")
        table = self._function.output_constraints.setdefault(self._index, {})

        def estimate(lo, extent):
            # An output buffer's estimate is its Func's, as in Halide.
            from pipelang.func import Func
            Func._of(self._function).set_estimate(self._function.args[d], lo, extent)
        return ConstrainedDimension(self._sym, d, table, estimate=estimate, owner=self)

    def width(self) -> Expr:
        return self.dim(0).extent()

    def height(self) -> Expr:
        return self.dim(1).extent()

    def channels(self) -> Expr:
        return self.dim(2).extent()

    def left(self) -> Expr:
        return self.dim(0).min()

    def top(self) -> Expr:
        return self.dim(1).min()

    def __repr__(self) -> str:
        return f"<pipelang.OutputImageParam '{self.name()}'>"


def output_buffers(function) -> list:
    if not function.defined():
        raise CompileError(f'Can\'t get the output buffer of undefined Func "{function.name}"')
    return [OutputImageParam(function, i) for i in range(len(function.output_types))]


# ---------------------------------------------------------------- the checks in compiled code

def _tables(inputs: dict, outputs: list) -> list:
    from pipelang.lowering.names import buffer
    tables = [(sym, getattr(owner, "_constraints", None)) for sym, owner in inputs.items()]
    return tables + [(buffer(fn, i), t) for fn in outputs for i, t in fn.output_constraints.items()]


def constrained_values(inputs: dict, outputs: list) -> dict:
    """{buffer field symbol: its constrained value}: what the pipeline's body
    may use in place of the field once the checks have passed (Halide does
    the same), so that `set_stride(3)` or `set_bounds(0, 3)` are constants to
    the rest of lowering (dense vector loads, unrolled channels)."""
    values = {}
    for sym, table in _tables(inputs, outputs):
        for (d, field), e in (table or {}).items():
            if e is not UNCONSTRAINED:
                values[_FIELDS[field](sym, d)] = e
    return values


def constraint_checks(inputs: dict, outputs: list) -> list:
    """AssertStmts checking every constraint on the inputs (`{symbol: owner}`)
    and outputs, with Halide's message."""
    checks = []
    for sym, table in _tables(inputs, outputs):
        for (d, field), e in sorted((table or {}).items()):
            if e is UNCONSTRAINED:
                continue
            var = ir.Variable(ir.Int(32), _FIELDS[field](sym, d))
            text = ir.to_string(e).replace("{", "{{").replace("}", "}}")
            checks.append(ir.AssertStmt(ir.EQ(var, e),
                                        f"Constraint violated: {sym.name}.{field}.{d} ({{0}}) == "
                                        f"{text} ({{1}})", (var, e)))
    return checks


# ---------------------------------------------------------------- infer_input_bounds

def _shape(buf: Buffer) -> list:
    return [[buf.dim(d).min(), buf.dim(d).extent(), buf.dim(d).stride()]
            for d in range(buf.dimensions())]


def _bind(env: dict, sym, shape) -> None:
    for d, (mn, ext, stride) in enumerate(shape):
        env[ir.buffer_min(sym, d)] = mn
        env[ir.buffer_extent(sym, d)] = ext
        env[ir.buffer_stride(sym, d)] = stride


def _constrain(env: dict, sym, shape, table) -> None:
    from pipelang.lowering.analysis.evaluate import evaluate_expr
    for (d, field), e in sorted((table or {}).items()):
        if e is UNCONSTRAINED:
            continue
        value = int(evaluate_expr(e, env))
        shape[d][("min", "extent", "stride").index(field)] = value
        _bind(env, sym, shape)


def _dense(shape) -> None:
    stride = 1
    for dim in shape:
        dim[2] = stride
        stride *= max(dim[1], 1)


def infer_input_bounds(pipeline, outs: list) -> None:
    """Give every unbound ImageParam of `pipeline` a buffer of the shape the
    outputs `outs` need (satisfying all constraints), and set each output
    buffer's shape to what the pipeline writes."""
    from pipelang.lowering.analysis.evaluate import evaluate_expr
    from pipelang.lowering.names import buffer
    c = pipeline._compile()
    out_syms = [(fn, buffer(fn, i)) for fn in c.outputs for i in range(len(fn.output_types))]
    out_shapes = [_shape(b) for b in outs]
    unbound = {sym: owner for sym, owner in c.arguments.inputs.items()
               if not isinstance(owner, Buffer) and owner.get() is None}
    if not unbound:
        return
    in_shapes = {sym: [[0, 0, 0] for _ in range(owner.dimensions())] for sym, owner in unbound.items()}
    env = {sym: p.get() for sym, p in c.arguments.params.items()}
    for sym, owner in c.arguments.inputs.items():
        if sym not in unbound:
            _bind(env, sym, _shape(owner if isinstance(owner, Buffer) else owner.get()))
    for iteration in range(_MAX_ITERATIONS):
        before = repr((out_shapes, in_shapes))
        for (fn, sym), shape in zip(out_syms, out_shapes):
            _bind(env, sym, shape)
        for sym, shape in in_shapes.items():
            _bind(env, sym, shape)
        for k, (fn, sym) in enumerate(out_syms):
            shape = out_shapes[k]
            _constrain(env, sym, shape, fn.output_constraints.get(sym_index(fn, sym)))
        for k, (fn, sym) in enumerate(out_syms):
            box = c.regions.get(fn.sym)
            shape = out_shapes[k]
            if box is not None:
                for d, iv in enumerate(box):
                    lo, hi = int(evaluate_expr(iv.min, env)), int(evaluate_expr(iv.max, env))
                    lo, hi = min(lo, shape[d][0]), max(hi, shape[d][0] + shape[d][1] - 1)
                    shape[d][0], shape[d][1] = lo, hi - lo + 1
        for sym, owner in unbound.items():
            shape = in_shapes[sym]
            box = c.regions.get(sym)
            if box is not None:
                for d, iv in enumerate(box):
                    lo, hi = int(evaluate_expr(iv.min, env)), int(evaluate_expr(iv.max, env))
                    shape[d][0], shape[d][1] = lo, max(hi - lo + 1, 0)
            _dense(shape)
            _bind(env, sym, shape)
            _constrain(env, sym, shape, getattr(owner, "_constraints", None))
        if repr((out_shapes, in_shapes)) == before:
            break
    else:
        raise BufferError_(f"Inferring input bounds on Pipeline didn't converge after "
                           f"{_MAX_ITERATIONS} iterations. There may be unsatisfiable constraints")
    for sym, owner in unbound.items():
        shape = in_shapes[sym]
        buf = Buffer(owner.type(), [ext for _, ext, _ in shape])
        buf.set_min([mn for mn, _, _ in shape])
        owner.set(buf)
    for buf, shape in zip(outs, out_shapes):
        if [d[:2] for d in shape] != [d[:2] for d in _shape(buf)]:
            buf._reshape([mn for mn, _, _ in shape], [ext for _, ext, _ in shape])


def bounds_query(c, slots, values) -> None:
    """A Callable's bounds query (Halide's semantics for buffers with a null
    host): every `Buffer.make_bounds_query` output gets the region the
    pipeline writes for its requested one, then every such input the region
    the pipeline reads, both dense and satisfying their constraints. `slots`
    and `values` are the compiled code's arguments (`calling.Slot`s)."""
    from pipelang.calling import Role
    from pipelang.lowering.analysis.evaluate import evaluate_expr
    env, outputs, inputs = {}, [], []
    for slot, v in zip(slots, values):
        if slot.role is Role.SCALAR:
            env[slot.sym] = v
            continue
        buf = v if isinstance(v, Buffer) else Buffer(v)
        _bind(env, slot.sym, _shape(buf))
        if buf.__dict__.get("_bounds_query"):
            (outputs if slot.role is Role.OUTPUT else inputs).append((slot, buf))
    for slot, buf in outputs:
        fn = slot.owner
        shape = _shape(buf)
        _constrain(env, slot.sym, shape, constraint_table(fn, slot.sym))
        for d, iv in enumerate(c.regions.get(fn.sym) or ()):
            lo, hi = int(evaluate_expr(iv.min, env)), int(evaluate_expr(iv.max, env))
            lo, hi = min(lo, shape[d][0]), max(hi, shape[d][0] + shape[d][1] - 1)
            shape[d][0], shape[d][1] = lo, hi - lo + 1
        _dense(shape)
        _bind(env, slot.sym, shape)
        buf._reshape([mn for mn, _, _ in shape], [ext for _, ext, _ in shape])
    for slot, buf in inputs:
        shape = _shape(buf)
        for d, iv in enumerate(c.regions.get(slot.sym) or ()):
            if iv.min is None or iv.max is None:
                raise BufferError_(f"Input buffer {slot.name} is read at an unbounded location in "
                                   f"dimension {d}: a bounds query can't size it")
            lo, hi = int(evaluate_expr(iv.min, env)), int(evaluate_expr(iv.max, env))
            shape[d][0], shape[d][1] = lo, max(hi - lo + 1, 0)
        _dense(shape)
        _constrain(env, slot.sym, shape, constraint_table(slot.owner, slot.sym))
        buf._reshape([mn for mn, _, _ in shape], [ext for _, ext, _ in shape])


def constrained_outputs(c, outs: list) -> list:
    """Halide's realize(sizes) with output constraints: one bounds query gives
    the output shape (constrained, then grown to what is written); buffers of
    that shape are computed and `outs` become views of the requested region."""
    from pipelang.lowering.analysis.evaluate import evaluate_expr
    from pipelang.lowering.names import buffer
    env = {sym: p.get() for sym, p in c.arguments.params.items()}
    for sym, owner in c.arguments.inputs.items():
        b = owner if isinstance(owner, Buffer) else owner.get()
        if b is not None:
            _bind(env, sym, _shape(b))
    out_syms = [(fn, buffer(fn, i), i) for fn in c.outputs for i in range(len(fn.output_types))]
    shapes = [_shape(b) for b in outs]
    for (fn, sym, i), shape in zip(out_syms, shapes):
        _bind(env, sym, shape)
    for (fn, sym, i), shape in zip(out_syms, shapes):
        _constrain(env, sym, shape, fn.output_constraints.get(i))
    result = []
    for (fn, sym, i), shape, out in zip(out_syms, shapes, outs):
        box = c.regions.get(fn.sym) or []
        for d, iv in enumerate(box):
            lo, hi = int(evaluate_expr(iv.min, env)), int(evaluate_expr(iv.max, env))
            lo, hi = min(lo, shape[d][0]), max(hi, shape[d][0] + shape[d][1] - 1)
            shape[d][0], shape[d][1] = lo, hi - lo + 1
        big = Buffer(out.type(), [ext for _, ext, _ in shape])
        big.set_min([mn for mn, _, _ in shape])
        view = []
        for d in reversed(range(out.dimensions())):
            lo = out.dim(d).min() - shape[d][0]
            if lo < 0 or lo + out.dim(d).extent() > shape[d][1]:
                raise BufferError_(f"Output buffer {sym.name}: the requested region does not fit "
                                   f"the shape its constraints give (dimension {d})")
            view.append(slice(lo, lo + out.dim(d).extent()))
        out._array = big._array[tuple(view)]
        result.append(big)
    return result


def sym_index(fn, sym) -> int:
    from pipelang.lowering.names import buffer
    return next(i for i in range(len(fn.output_types)) if buffer(fn, i) is sym)


# ---------------------------------------------------------------- add_requirement

def requirement(condition, args) -> tuple:
    cond = to_ir(condition)
    if not cond.type.is_bool():
        raise CompileError(f"add_requirement needs a boolean condition, not "
                           f"{ir.to_string(cond)} of type {cond.type}")
    return cond, tuple(a if isinstance(a, str) else to_ir(a) for a in args)


def check_requirements(requirements: list) -> None:
    """Halide's Pipeline.add_requirement: fail before running unless every
    condition holds, with Halide's message (`Error: Requirement Failed: (false) args`)."""
    from pipelang.buffer import field_owner
    from pipelang.errors import PipelineRuntimeError
    from pipelang.lowering.analysis.evaluate import evaluate_expr
    from pipelang.param import param_owner
    for cond, args in requirements:
        exprs = [cond] + [a for a in args if not isinstance(a, str)]
        env = {}
        for e in exprs:
            for sym in ir.free_symbols(e):
                if sym in param_owner:
                    env[sym] = param_owner[sym].get()
                elif sym in field_owner:
                    owner = field_owner[sym]
                    b = owner if isinstance(owner, Buffer) else owner.get()
                    if b is None:
                        raise BufferError_(f"add_requirement reads buffer {owner.name()}, "
                                           f"which is not bound")
                    _bind(env, owner._sym, _shape(b))
                else:
                    raise CompileError(f"add_requirement: {sym.name} is not a Param or a "
                                       f"buffer field")
        if evaluate_expr(cond, env):
            continue
        words = [a if isinstance(a, str) else _requirement_word(a, evaluate_expr(a, env)) for a in args]
        # Halide's text: its check knows the condition is false where it fails,
        # so the condition always prints as "(false)".
        raise PipelineRuntimeError("Error: Requirement Failed: (false) " + " ".join(words))


def _requirement_word(e, value) -> str:
    """A value as Halide's runtime prints it in an error: floats with %f."""
    if e.type.is_float():
        return f"{float(value):f}"
    return str(int(value))
