"""Expression codegen: one method per Expr node, mixed into `CodeGen`.

Semantics are Halide's: Euclidean integer division and modulo with x/0 == 0
(the divisor is guarded, so no LLVM UB), float->int casts through i64 (or
i32 where the value is known, or checked, to be within its range),
bools are i1 in registers and i8 in memory. Float Min/Max are Halide's
`a < b ? a : b` and `a > b ? a : b`: the second operand when either is NaN.

Float arithmetic carries Halide's relaxations as LLVM fast-math flags
(`FAST_MATH`): LLVM may contract a*b + c into one fused multiply-add and
reassociate sums (so it can vectorize horizontal reductions), as Halide
lets it. Unlike Halide, pipelang does not promise LLVM that no value is NaN
or infinite (nnan/ninf), so `is_nan` and `is_inf` stay meaningful
everywhere. A division by a float constant is a multiplication by its
reciprocal (rounded to the type), as Halide's simplifier makes it. Inside
`strict_float(e)` no flag is set and no division is rewritten: IEEE
operations in source order, rounded after every step.
"""
from __future__ import annotations

import math
import struct
from enum import Enum

from pipelang.backends.llvm import textir as ll

from pipelang.ir import nodes as N
from pipelang.ir.nodes import Op
from pipelang.ir.types import Int, Type, TypeCode
from pipelang.ir.visitor import IRVisitor
from pipelang.lowering.analysis.const_bounds import constant_bounds, float_bounds
from pipelang.lowering.analysis.linear import _field_names

I1, I32, I64 = ll.IntType(1), ll.IntType(32), ll.IntType(64)
PTR = ll.PointerType()

# Float math ops that are LLVM intrinsics (llvm.<name>.<type>); the others call libm.
_LLVM_MATH = {Op.SQRT: "sqrt", Op.EXP: "exp", Op.LOG: "log", Op.POW: "pow", Op.SIN: "sin",
              Op.COS: "cos", Op.TAN: "tan", Op.ASIN: "asin", Op.ACOS: "acos", Op.ATAN: "atan",
              Op.ATAN2: "atan2", Op.SINH: "sinh", Op.COSH: "cosh", Op.TANH: "tanh",
              Op.FLOOR: "floor", Op.CEIL: "ceil", Op.ROUND: "roundeven", Op.TRUNC: "trunc"}
_LIBM = {Op.ASINH: "asinh", Op.ACOSH: "acosh", Op.ATANH: "atanh"}
_INT_BITS = {Op.POPCOUNT: "ctpop", Op.COUNT_LEADING_ZEROS: "ctlz",
             Op.COUNT_TRAILING_ZEROS: "cttz"}
_CMP = {N.EQ: "==", N.NE: "!=", N.LT: "<", N.LE: "<=", N.GT: ">", N.GE: ">="}
_INT32 = Int(32)
# Gathers whose index depends on loaded data (a lookup table, a histogram
# bin) and of at most this many lanes are loaded lane by lane, as Halide
# does: a 32-bit index extracted per lane and a scaled-index address. x86
# targets prefer no hardware gathers (jit.X86_TUNING), so an
# `llvm.masked.gather` is scalarized by LLVM through a vector of 64-bit
# pointers instead (about 6-9% slower in apps/hist, whose cdf lookup is a
# 32-lane gather). Every other gather is one `llvm.masked.gather`, which
# LLVM scalarizes after its optimizer: wider ones (lane by lane,
# camera_pipe's 64-lane demosaic made megabytes of IR) and those whose index
# is arithmetic of loop variables and parameters alone -- mostly clamped
# ramps of boundary conditions in the partitioned edges of a loop. Lane by
# lane, those were half of the LLVM IR of lens_blur and interpolate and a
# third of nl_means's, and most of the optimizer's work on it (LLVM time of
# lens_blur 3.3 -> 2.2 s, interpolate 0.64 -> 0.40, nl_means 0.85 -> 0.63),
# for the same outputs and run times.
LANE_GATHER_MAX = 64
BUILD_CHUNK = 16
# Floats within this of zero convert to int32 exactly, with room for rounding
# that float_bounds does not model.
_FITS_INT32 = float(1 << 30)
_FLOAT_TYPES = {16: ll.HalfType(), 32: ll.FloatType(), 64: ll.DoubleType()}
# Halide's relaxations of IEEE float semantics (its set_fast_fp_math), less
# nnan/ninf/afn: fused multiply-add, reassociation, and the sign of zero.
FAST_MATH = ("reassoc", "contract", "nsz")


def llvm_type(t: Type):
    """The register type of `t`: bool is i1, vectors are <N x T>."""
    if t.is_handle():
        return PTR
    elem = _FLOAT_TYPES[t.bits()] if t.is_float() else ll.IntType(t.bits())
    return elem if t.is_scalar() else ll.VectorType(elem, t.lanes())


def mem_type(t: Type):
    """The in-memory type of `t`: as `llvm_type`, but a bool is a byte."""
    return llvm_type(t.with_bits(8) if t.is_bool() else t)


def type_suffix(typ) -> str:
    """LLVM's overloaded-intrinsic suffix: i32, f32, v8f32, ..."""
    if isinstance(typ, ll.VectorType):
        return f"v{typ.count}{type_suffix(typ.element)}"
    if isinstance(typ, ll.IntType):
        return f"i{typ.width}"
    return {ll.HalfType: "f16", ll.FloatType: "f32", ll.DoubleType: "f64"}[type(typ)]


def SplatConstant(vt, value):
    """Every lane of vector type `vt` the scalar ll.Constant `value`, as one
    term (`splat (T v)`): LLVM parses it once, not once per lane."""
    return ll.Constant.text(vt, f"splat ({value})")


def poison(vt):
    """A vector whose lanes are never used (a shuffle's unused operand)."""
    return ll.Constant.text(vt, "poison")


def splat(builder, value, lanes: int):
    if lanes == 1:
        return value
    vt = ll.VectorType(value.type, lanes)
    if isinstance(value, ll.Constant):
        return SplatConstant(vt, value)
    v = builder.insert_element(poison(vt), value, ll.Constant(I32, 0))
    return builder.shuffle_vector(v, poison(vt),
                                  SplatConstant(ll.VectorType(I32, lanes), ll.Constant(I32, 0)))


class _StridedLanes:
    """The lane pointers of a constant-stride access, each made when asked
    for: a load with a small stride reads one or two dense vectors from lane
    0's pointer and never uses the others (interpolate's stride-2 loads
    made 15 dead getelementptrs each, a third of its IR)."""
    __slots__ = ("builder", "first", "step", "lanes", "elem")

    def __init__(self, builder, first, step, lanes, elem):
        self.builder, self.first, self.step, self.lanes, self.elem = builder, first, step, lanes, elem

    def __len__(self):
        return self.lanes

    def __getitem__(self, k):
        if not 0 <= k < self.lanes:
            raise IndexError(k)
        if k == 0:
            return self.first
        return self.builder.gep(self.first, [ll.Constant(I64, self.step * k)], inbounds=True,
                                source_etype=self.elem)

    def __iter__(self):
        return (self[k] for k in range(self.lanes))


def _wrap(t: Type, value):
    """`value` wrapped to the signed range of an int type of `t`'s width."""
    if t.is_float():
        return value
    bits = t.bits()
    value &= (1 << bits) - 1
    return value - (1 << bits) if bits > 1 and value >> (bits - 1) else value


def _const(t: Type, value):
    return ll.Constant(llvm_type(t), value)


def _reciprocal(c, bits: int):
    """1/c rounded to a float of `bits` bits, or None where that is not a
    finite, nonzero number (c is None, zero, infinite, NaN or too small)."""
    if c is None or c == 0 or not math.isfinite(c):
        return None
    inverse = 1.0 / c
    if bits < 64:
        fmt = "e" if bits == 16 else "f"
        try:
            inverse = struct.unpack(fmt, struct.pack(fmt, inverse))[0]
        except OverflowError:
            return None
    return inverse if inverse != 0 and math.isfinite(inverse) else None


class _ReadsData(IRVisitor):
    found = False

    def visit_Load(self, node):
        self.found = True

    def visit_Call(self, node):
        self.found = True

    def visit_Variable(self, node):
        # A vector let's value is not seen here: it may hold loaded values.
        if not node.type.is_scalar():
            self.found = True


def _reads_data(index) -> bool:
    """Whether gather index `index` may depend on values read from memory
    (see LANE_GATHER_MAX)."""
    v = _ReadsData()
    v.visit(index)
    return v.found


class ExprCodeGen:
    """Needs `self.st` (builder, env, buffers) and `self.module`."""

    strict_float = False  # inside strict_float(): no fast-math flags
    # The widest x86 register (bits) with 8- and 16-bit integer instructions
    # (pavgb/pavgw, pmaddwd) on the target: 512 with AVX-512BW, 256 with
    # AVX2, 128 on any other x86; 0 off x86.
    x86_vector_bits = 0

    def fp_flags(self):
        return () if self.strict_float else FAST_MATH

    def expr(self, e):
        """The LLVM value of `e`. Expressions equal in structure are generated
        once (Halide's common subexpression elimination, done here):
        lowering writes the same index arithmetic into every load and store,
        and generating each copy cost codegen time and then LLVM's time to
        fold them again (three times the instructions on the pyramids). A
        value is reused in the blocks that the block computing it dominates
        (a loop's body uses what its preheader computed), while the
        variables it uses keep their binding; one that reads memory only
        within its statement (a store may follow)."""
        cls = type(e)
        method = _EXPR_METHODS.get(cls)
        if method is None:
            return getattr(self, "_" + cls.__name__)(e)
        number, kind = self._value_number(e)
        if kind == _IMPURE:
            return method(self, e)
        values = self._values if kind == _PURE else self._stmt_values
        hit = values.get(number)
        block = self.st.builder.block
        if hit is not None and hit[2] is self.strict_float and (
                hit[1] is block or block.dominated_by(hit[1])):
            return hit[0]
        v = method(self, e)
        values[number] = (v, self.st.builder.block, self.strict_float)
        if kind == _PURE:
            self._remember(number, number)
        return v

    def _remember(self, key, number) -> None:
        """File `_values[key]` under the variables its expression (`number`)
        uses, so that binding one of them again forgets only what used it."""
        mask = self._masks[number]
        if mask:
            keys = self._keys_by_mask.get(mask)
            if keys is None:
                self._keys_by_mask[mask] = [key]
            else:
                keys.append(key)

    def _reuse(self, e):
        """(table, key, value or None) for the 64-bit index of `e` (see
        `index64`), reused under `expr`'s rules; table None: not reusable."""
        number, kind = self._value_number(e)
        if kind == _IMPURE:
            return None, None, None
        values = self._values if kind == _PURE else self._stmt_values
        key = -1 - number           # apart from the numbers of 32-bit values
        hit = values.get(key)
        block = self.st.builder.block
        if hit is not None and (hit[1] is block or block.dominated_by(hit[1])):
            return values, key, hit[0]
        return values, key, None

    def forget_values(self, statement_only: bool = False) -> None:
        """Forget the values `expr` computed: those that read memory at each
        statement, all of them when a buffer is bound again."""
        self._stmt_values = {}
        if not statement_only:
            self._values = {}
            self._keys_by_mask = {}

    def forget_uses(self, sym) -> None:
        """Forget the values computed from variable `sym` (it is bound
        again), and those that read memory; the rest stay valid."""
        self._stmt_values = {}
        bit = self._sym_bits.get(sym)
        if bit is None:
            return                      # no expression numbered so far uses it
        values = self._values
        by_mask = self._keys_by_mask
        for mask in [m for m in by_mask if m & bit]:
            for key in by_mask.pop(mask):
                values.pop(key, None)

    def _value_number(self, e) -> tuple:
        """(number, kind): the number is equal for expressions equal in
        structure (hash-consing by the children's numbers, once per node);
        the kind says whether `e` is pure arithmetic, reads memory, or must
        be generated every time (a print, a call, a let)."""
        by_id = self._numbers_by_id
        hit = by_id.get(id(e))
        if hit is not None:
            return hit
        cls = type(e)
        kind = _PURE
        masks = self._masks
        # Keys hold types as plain ints (a Type's and an enum's hashes are
        # Python calls); an operator's type follows from its operands'.
        # `mask`: a bit for each variable the expression uses.
        if cls in _OPERATORS or cls is N.Ramp:
            # Two operands (the lookups inline: most are numbered already).
            ramp = cls is N.Ramp
            a = e.base if ramp else e.a
            hit = by_id.get(id(a))
            na, kind = hit if hit is not None else self._value_number(a)
            b = e.stride if ramp else e.b
            hit = by_id.get(id(b))
            nb, kb = hit if hit is not None else self._value_number(b)
            if kb > kind:
                kind = kb
            mask = masks[na] | masks[nb]
            if ramp:
                t = e.type
                key = (cls, na, nb, e.lanes, t._code._value_, t.nbits, t.nlanes)
            else:
                key = (cls, na, nb)
        elif cls is N.Broadcast or cls is N.Cast or cls is N.Load:
            # One operand: the keys the general case below makes, without
            # its walk of the fields (a third of the nodes numbered on
            # local_laplacian that are not operators).
            v = e.index if cls is N.Load else e.value
            hit = by_id.get(id(v))
            nv, kind = hit if hit is not None else self._value_number(v)
            mask = masks[nv]
            t = e.type
            if cls is N.Broadcast:
                key = (cls, nv, e.lanes, t._code._value_, t.nbits, t.nlanes)
            elif cls is N.Cast:
                key = (cls, t._code._value_, t.nbits, t.nlanes, nv)
            else:
                key = (cls, t._code._value_, t.nbits, t.nlanes, e.buf, nv)
                if kind < _READS:
                    kind = _READS
        elif cls is N.Variable:
            t = e.type
            key = (cls, t._code._value_, t.nbits, t.nlanes, e.sym)
            mask = self._sym_bits.get(e.sym)
            if mask is None:
                # Shifted as a Python int: compiled, `1 << len(..)` is a C
                # shift of an int, which wraps past 31 variables (bits shared:
                # a variable bound again then forgot others' values too).
                mask = self._sym_bits[e.sym] = self._next_bit
                self._next_bit = mask << 1
        elif cls is N.IntImm or cls is N.UIntImm:
            t = e.type
            key = (cls, t._code._value_, t.nbits, t.nlanes, e.value)
            mask = 0
        elif cls is N.FloatImm:
            t = e.type
            key = (cls, t.nbits, t.nlanes, e.value.hex())   # tells -0.0 from 0.0; one NaN
            mask = 0
        else:
            mask = 0
            if cls is N.Load:
                kind = _READS
            elif cls not in _EXPR_METHODS or (cls is N.Intrinsic and e.op in _IMPURE_OPS):
                kind = _IMPURE
            parts = [cls]
            for name in _field_names(cls):
                v = getattr(e, name)
                if isinstance(v, N.Expr):
                    number, k = self._value_number(v)
                    if k > kind:
                        kind = k
                    mask |= masks[number]
                    parts.append(number)
                elif type(v) is tuple:
                    items = []
                    for x in v:
                        if isinstance(x, N.Expr):
                            number, k = self._value_number(x)
                            if k > kind:
                                kind = k
                            mask |= masks[number]
                            items.append(number)
                        else:
                            items.append(x)
                    parts.append(tuple(items))
                elif type(v) is Type:
                    parts += (v._code._value_, v.nbits, v.nlanes)
                else:
                    parts.append(v._value_ if isinstance(v, Enum) else v)
            key = tuple(parts)
        table = self._numbers
        number = table.get(key)
        if number is None:
            number = table[key] = len(table)
            masks.append(mask)
        numbered = by_id[id(e)] = (number, kind)
        # Kept alive for as long as `by_id` is used, so that no other node
        # (codegen makes some of its own) can take its `id`.
        self._numbered.append(e)
        return numbered

    def _declare(self, name, fnty):
        fn = self.module.globals.get(name)
        if fn is None:
            fn = ll.Function(self.module, fnty, name)
        return fn

    def _intrinsic(self, name, args, ret=None):
        """Call llvm.<name>.<suffix of the first argument's type>."""
        ret = ret or args[0].type
        fnty = ll.FunctionType(ret, [a.type for a in args])
        fn = self._declare(f"llvm.{name}.{type_suffix(args[0].type)}", fnty)
        return self.st.builder.call(fn, args)

    # ------------------------------------------------------------ leaves

    def _print(self, e):
        from pipelang.backends.llvm.printing import emit_print
        value = self.expr(e.args[0])
        cond = e.args[1]
        if isinstance(cond, N.UIntImm) and cond.value == 1:
            emit_print(self, e.args[2:])
        else:
            with self.st.builder.if_then(self.expr(cond)):
                emit_print(self, e.args[2:])
        return value

    def _IntImm(self, e):
        return _const(e.type, e.value)

    def _UIntImm(self, e):
        # LLVM constants print signed: a uint64 above INT64_MAX becomes negative.
        return _const(e.type, _wrap(e.type, e.value))

    def _FloatImm(self, e):
        return _const(e.type, e.value)

    def _Variable(self, e):
        v = self.st.env.get(e.sym)
        assert v is not None, f"variable {e.sym.name} is not defined at this point"
        return v

    def _Let(self, e):
        with self.bind(e.sym, self.expr(e.value)), self.bound(e.sym, e.value):
            return self.expr(e.body)

    # ------------------------------------------------------------ arithmetic

    def _Add(self, e):
        if self.x86_vector_bits and e.type.is_int() and e.type.bits() == 32 and e.type.is_vector():
            pairs = _widening_products(e)
            if pairs is not None:
                return self._x86_pmaddwd_sum(*pairs, e.type.lanes())
        return self._arith(e, "add", "fadd")

    def _x86_pmaddwd_sum(self, pairs, rest, lanes):
        """The int32 sum of products of 16-bit values, two at a time with
        x86's pmaddwd (a1*b1 + a2*b2 per lane from the interleaved 16-bit
        operands, as Halide's widening_mul pairs), plus the other terms.
        `pairs`: ((a1, b1), (a2, b2)) with each operand an Int(16) expression."""
        b = self.st.builder
        total = None
        for (a1, b1), (a2, b2) in pairs:
            xs = [self._i16_vector(v, lanes) for v in (a1, a2, b1, b2)]
            r = self._x86_pmaddwd(*xs)
            total = r if total is None else b.add(total, r)
        for t in rest:
            total = b.add(total, self.expr(t))
        return total

    def _i16_vector(self, e, lanes):
        v = self.expr(e)
        return splat(self.st.builder, v, lanes) if e.type.is_scalar() else v

    def _x86_pmaddwd(self, a1, a2, b1, b2):
        """a1*b1 + a2*b2 in int32, lane by lane, for <n x i16> operands."""
        b = self.st.builder
        n = a1.type.count
        names = {128: ("llvm.x86.sse2.pmadd.wd", 4), 256: ("llvm.x86.avx2.pmadd.wd", 8),
                 512: ("llvm.x86.avx512.pmaddw.d.512", 16)}
        i16, i32 = ll.IntType(16), ll.IntType(32)
        pieces, at = [], 0
        while at < n:
            width = next((w for w in (512, 256, 128) if w <= self.x86_vector_bits and names[w][1] <= n - at),
                         128)
            name, out = names[width]
            take = min(out, n - at)
            # Lanes at..at+take of both operands, interleaved: (x1[k], x2[k]) pairs.
            mask = ll.Constant(ll.VectorType(I32, 2 * out), [
                (at + k // 2 if k % 2 == 0 else n + at + k // 2) if k // 2 < take else at
                for k in range(2 * out)])
            xa = b.shuffle_vector(a1, a2, mask)
            xb = b.shuffle_vector(b1, b2, mask)
            vt = ll.VectorType(i16, 2 * out)
            fn = self._declare(name, ll.FunctionType(ll.VectorType(i32, out), [vt, vt]))
            r = b.call(fn, [xa, xb])
            if take < out:
                r = b.shuffle_vector(r, poison(r.type), ll.Constant(ll.VectorType(I32, take), list(range(take))))
            pieces.append(r)
            at += take
        return self._concat(pieces)

    def _Sub(self, e):
        return self._arith(e, "sub", "fsub")

    def _Mul(self, e):
        return self._arith(e, "mul", "fmul")

    def _arith(self, e, int_op, float_op):
        a, b = self.expr(e.a), self.expr(e.b)
        if e.type.is_float():
            return getattr(self.st.builder, float_op)(a, b, flags=self.fp_flags())
        # As Halide: signed overflow of 32 bits or more is undefined, which lets
        # LLVM widen loop indices; narrower ints wrap.
        flags = ("nsw",) if e.type.is_int() and e.type.bits() >= 32 else ()
        return getattr(self.st.builder, int_op)(a, b, flags=flags)

    def _Div(self, e):
        return self._div_mod(e, is_div=True)

    def _Mod(self, e):
        return self._div_mod(e, is_div=False)

    def _div_mod(self, e, is_div):
        b = self.st.builder
        t = e.type
        x, y = self.expr(e.a), self.expr(e.b)
        if t.is_float():
            fl = self.fp_flags()
            if is_div:
                inverse = None if self.strict_float else _reciprocal(N.const_value(e.b), t.bits())
                if inverse is not None:
                    # x / c is x * (1/c), rounded to the type, as Halide's
                    # simplifier rewrites it: a multiply, not a divide of 10-20
                    # cycles' throughput (fast_exp's x / ln 2 in apps/nl_means'
                    # innermost loop). Without `arcp` LLVM keeps the divide.
                    return b.fmul(x, splat(b, _const(t.element_of(), inverse), t.lanes()), flags=fl)
                return b.fdiv(x, y, flags=fl)
            quotient = self._intrinsic("floor", [b.fdiv(x, y, flags=fl)])
            return b.fsub(x, b.fmul(y, quotient, flags=fl), flags=fl)
        divisor = N.const_value(e.b)
        zero, one = _const(t.element_of(), 0), _const(t.element_of(), 1)
        zero, one = splat(b, zero, t.lanes()), splat(b, one, t.lanes())
        if divisor is not None and divisor > 0 and divisor & (divisor - 1) == 0:
            shift = splat(b, _const(t.element_of(), divisor.bit_length() - 1), t.lanes())
            if is_div:
                return b.ashr(x, shift) if t.is_int() else b.lshr(x, shift)
            return b.and_(x, splat(b, _const(t.element_of(), divisor - 1), t.lanes()))
        guard_zero = divisor is None or divisor == 0
        if t.is_uint():
            if not guard_zero:
                return b.udiv(x, y) if is_div else b.urem(x, y)
            is_zero = b.icmp_unsigned("==", y, zero)
            safe = b.select(is_zero, one, y)
            if not is_div:
                return b.urem(x, safe)
            return b.select(is_zero, zero, b.udiv(x, safe))
        ylo = divisor if divisor is not None else constant_bounds(e.b, self.bounds)[0]
        if ylo is not None and ylo >= 1:
            # A divisor known positive (a constant, a task count `max(n, 1)`)
            # needs no guards and rounds one way; with a numerator known
            # non-negative, truncation is the Euclidean result. Known means
            # both bounds: bounds assume no overflow, and one whose upper
            # bound passes the type's may wrap negative (`(x*x + 3*x) % 7`
            # at x = 2e5 took a negative remainder: a histogram stored out
            # of bounds).
            q_or_r = b.sdiv(x, y) if is_div else b.srem(x, y)
            alo, ahi = constant_bounds(e.a, self.bounds)
            if alo is not None and alo >= 0 and ahi is not None and ahi <= t.element_of().max_value():
                return q_or_r
            r = b.srem(x, y) if is_div else q_or_r
            r_neg = b.icmp_signed("<", r, zero)
            if is_div:
                return b.select(r_neg, b.sub(q_or_r, one), q_or_r)
            return b.select(r_neg, b.add(r, y), r)
        minus_one = splat(b, _const(t.element_of(), -1), t.lanes())
        guard_m1 = divisor is None or divisor == -1
        is_zero = b.icmp_signed("==", y, zero) if guard_zero else None
        is_m1 = b.icmp_signed("==", y, minus_one) if guard_m1 else None
        safe = y
        if guard_zero or guard_m1:
            if guard_zero and guard_m1:
                bad = b.or_(is_zero, is_m1)
            else:
                bad = is_zero if guard_zero else is_m1
            safe = b.select(bad, one, y)
        # Truncating division, then the Euclidean fix-up for a negative remainder.
        q, r = b.sdiv(x, safe), b.srem(x, safe)
        if guard_m1:
            q = b.select(is_m1, b.sub(zero, x), q)
        r_neg = b.icmp_signed("<", r, zero)
        if is_div:
            step = b.select(b.icmp_signed(">", y, zero), one, minus_one)
            q = b.select(r_neg, b.sub(q, step), q)
            return b.select(is_zero, zero, q) if guard_zero else q
        abs_y = b.select(b.icmp_signed("<", y, zero), b.sub(zero, y), y)
        return b.select(r_neg, b.add(r, abs_y), r)

    def _Min(self, e):
        return self._min_max(e, "min")

    def _Max(self, e):
        return self._min_max(e, "max")

    def _min_max(self, e, which):
        a, b = self.expr(e.a), self.expr(e.b)
        t = e.type
        if t.is_float():
            # Halide's definition, select(a < b, a, b) for min: b when either is
            # NaN, and b of two equal zeros. It is one x86 minps/maxps, whose
            # operand rule it is; llvm.minnum's NaN rule needs a compare and a
            # blend more, on the critical path of a running min or max.
            b_ = self.st.builder
            cmp = b_.fcmp_ordered("<" if which == "min" else ">", a, b, flags=self.fp_flags())
            return b_.select(cmp, a, b)
        name = ("s" if t.is_int() else "u") + which
        return self._intrinsic(name, [a, b])

    def _compare(self, e):
        a, b = self.expr(e.a), self.expr(e.b)
        op = _CMP[type(e)]
        t = e.a.type
        if t.is_float():
            # C semantics: != is true on NaN, every other comparison false.
            if op == "!=":
                return self.st.builder.fcmp_unordered(op, a, b)
            return self.st.builder.fcmp_ordered(op, a, b)
        if t.is_int():
            return self.st.builder.icmp_signed(op, a, b)
        return self.st.builder.icmp_unsigned(op, a, b)

    _EQ = _NE = _LT = _LE = _GT = _GE = _compare

    def _And(self, e):
        return self.st.builder.and_(self.expr(e.a), self.expr(e.b))

    def _Or(self, e):
        return self.st.builder.or_(self.expr(e.a), self.expr(e.b))

    def _Not(self, e):
        return self.st.builder.not_(self.expr(e.a))

    def _Select(self, e):
        return self.st.builder.select(self.expr(e.condition), self.expr(e.true_value),
                                      self.expr(e.false_value))

    # ------------------------------------------------------------ casts

    def _Cast(self, e):
        src, dst = e.value.type, e.type
        avg = _halving_add_operands(e)
        if avg is not None:
            return self._halving_add(*avg)
        if src.is_float() and not dst.is_float() and not dst.is_bool() and dst.bits() < 64:
            lo, hi = float_bounds(e.value, self.bounds)
            if lo is not None and hi is not None and -_FITS_INT32 <= lo and hi <= _FITS_INT32:
                # In int32's range (a clamp before a narrowing cast, say), truncating
                # through i32 gives the bits the i64 route gives, and x86 has
                # vector float->int32 conversions but none to i64 before AVX-512DQ
                # (and there they take twice the instructions).
                b = self.st.builder
                wide = llvm_type(Type(TypeCode.INT, 32, dst.lanes()))
                v = b.fptosi(self.expr(e.value), wide)
                return v if dst.bits() == 32 else b.trunc(v, llvm_type(dst))
            if dst.is_vector() and src.bits() == 32:
                return self._float_to_int_checked(self.expr(e.value), dst)
        return self.cast(self.expr(e.value), src, dst)

    def _float_to_int_checked(self, x, dst: Type):
        """A float32 vector cast to a narrower-than-64-bit int where bounds
        say nothing of its range: through int32 (one vcvttps2dq) when every
        lane is within int32's range, else through int64 as `cast` does (the
        bits wrap: uint8(300.0f) == 44). The test and a branch never taken in
        practice cost less than the int64 route's conversions of half vectors
        and repacking, most of them on the port that also inserts gathered
        lanes (local_laplacian's LUT index `clamp(int(gray * 1792.0f), 0,
        1792)`, lane by lane: 1.3x Halide's time on one thread, now 1.0x)."""
        b = self.st.builder
        lanes = dst.lanes()
        narrow = llvm_type(Type(TypeCode.INT, 32, lanes))
        fast = b.fptosi(x, narrow)      # poison in lanes out of range: used only if none is
        limit = splat(b, ll.Constant(ll.FloatType(), float(1 << 31)), lanes)
        in_range = b.fcmp_ordered("<", self._intrinsic("fabs", [x]), limit)
        every = self._intrinsic("vector.reduce.and", [in_range], ret=I1)
        entry = b.block
        wide = self.st.fn.append_basic_block("cvt_wide")
        done = self.st.fn.append_basic_block("cvt_done")
        b._weights(b.cbranch(every, done, wide), likely=True)
        b.position_at_end(wide)
        slow = b.trunc(b.fptosi(x, llvm_type(Type(TypeCode.INT, 64, lanes))), narrow)
        wide_end = b.block
        b.branch(done)
        b.position_at_end(done)
        v = b.phi(narrow)
        v.add_incoming(fast, entry)
        v.add_incoming(slow, wide_end)
        return v if dst.bits() == 32 else b.trunc(v, llvm_type(dst))

    def _halving_add(self, a, b, rounding: bool):
        """floor((a + b + rounding) / 2) in the type of `a` and `b`, without
        widening: (a | b) - ((a ^ b) >> 1) rounding up, (a & b) + ((a ^ b) >> 1)
        down, the shift arithmetic for signed types. LLVM turns the first into
        one x86 `pavgb`/`pavgw` for unsigned bytes and shorts (Halide's
        rounding_halving_add); the widened form it often cannot, once
        instcombine has moved a select between two averages into their sums."""
        b_ = self.st.builder
        x, y = self.expr(a), self.expr(b)
        t = a.type
        if rounding and t.is_uint() and t.bits() in (8, 16) and t.is_vector() and self.x86_vector_bits:
            return self._x86_pavg(x, y, t)
        one = splat(b_, _const(t.element_of(), 1), t.lanes())
        diff = b_.xor(x, y)
        half = b_.ashr(diff, one) if t.is_int() else b_.lshr(diff, one)
        if rounding:
            return b_.sub(b_.or_(x, y), half)
        return b_.add(b_.and_(x, y), half)

    def _x86_pavg(self, x, y, t: Type):
        """x86's pavgb/pavgw on `x` and `y` (vectors of `t`), in pieces of
        the widest registers the target has; a piece narrower than 128 bits
        is padded. (The generic form of `_halving_add` becomes pavg too, but
        not once instcombine has reassociated it into a surrounding sum.)"""
        b = self.st.builder
        bits, n = t.bits(), t.lanes()
        suffix = "b" if bits == 8 else "w"
        names = {128: f"llvm.x86.sse2.pavg.{suffix}", 256: f"llvm.x86.avx2.pavg.{suffix}",
                 512: f"llvm.x86.avx512.pavg.{suffix}.512"}
        elem = ll.IntType(bits)
        pieces, at = [], 0
        while at < n:
            width = next((w for w in (512, 256, 128) if w <= self.x86_vector_bits and w // bits <= n - at),
                         128)
            lanes = width // bits
            take = min(lanes, n - at)
            vt = ll.VectorType(elem, lanes)
            mask = ll.Constant(ll.VectorType(I32, lanes), [at + k if k < take else at for k in range(lanes)])
            if at == 0 and take == n == lanes:
                px, py = x, y
            else:
                px, py = (b.shuffle_vector(v, poison(v.type), mask) for v in (x, y))
            fn = self._declare(names[width], ll.FunctionType(vt, [vt, vt]))
            r = b.call(fn, [px, py])
            if take < lanes:
                r = b.shuffle_vector(r, poison(vt), ll.Constant(ll.VectorType(I32, take), list(range(take))))
            pieces.append(r)
            at += take
        return self._concat(pieces)

    def _concat(self, parts):
        """The lanes of vectors `parts`, in order, as one vector (joined pairwise)."""
        b = self.st.builder
        while len(parts) > 1:
            joined = []
            for i in range(0, len(parts) - 1, 2):
                x, y = parts[i], parts[i + 1]
                nx, ny = x.type.count, y.type.count
                if nx != ny:  # widen the shorter (last) part to the other's lanes
                    y = b.shuffle_vector(y, poison(y.type), ll.Constant(
                        ll.VectorType(I32, nx), list(range(ny)) + [ny - 1] * (nx - ny)))
                mask = list(range(nx)) + [nx + k for k in range(ny)]
                joined.append(b.shuffle_vector(x, y, ll.Constant(ll.VectorType(I32, nx + ny), mask)))
            if len(parts) % 2:
                joined.append(parts[-1])
            parts = joined
        return parts[0]

    def cast(self, v, src: Type, dst: Type):
        b = self.st.builder
        dt = llvm_type(dst)
        if src.element_of() == dst.element_of():
            return v
        if dst.is_bool():
            # Halide keeps the low bit (a cast to uint1): bool(2) and bool(2.0f)
            # are false; floats go through an integer first.
            if src.is_float():
                v = b.fptosi(v, llvm_type(Type(TypeCode.INT, 64, dst.lanes())))
            return b.trunc(v, dt)
        if src.is_handle() or dst.is_handle():
            return b.ptrtoint(v, dt) if src.is_handle() else b.inttoptr(v, dt)
        if src.is_float():
            if dst.is_float():
                return b.fpext(v, dt) if dst.bits() > src.bits() else b.fptrunc(v, dt)
            if dst.bits() == 64:
                return b.fptosi(v, dt) if dst.is_int() else b.fptoui(v, dt)
            # Through i64 then wrap, so uint8(300.0f) == 44 on every target.
            wide = llvm_type(Type(dst.code(), 64, dst.lanes()))
            return b.trunc(b.fptosi(v, wide), dt)
        if dst.is_float():
            return b.sitofp(v, dt) if src.is_int() else b.uitofp(v, dt)
        if dst.bits() == src.bits():
            return v
        if dst.bits() < src.bits():
            return b.trunc(v, dt)
        return b.sext(v, dt) if src.is_int() else b.zext(v, dt)

    # ------------------------------------------------------------ vectors

    def _Broadcast(self, e):
        return splat(self.st.builder, self.expr(e.value), e.lanes)

    def _Ramp(self, e):
        b = self.st.builder
        t = e.type
        base = splat(b, self.expr(e.base), e.lanes)
        stride = N.const_value(e.stride)
        if stride is not None:
            steps = ll.Constant(llvm_type(t), [_wrap(t, stride * i) for i in range(e.lanes)])
        else:
            step = float if t.is_float() else int
            lanes = ll.Constant(llvm_type(t), [step(i) for i in range(e.lanes)])
            s = splat(b, self.expr(e.stride), e.lanes)
            steps = b.fmul(s, lanes) if t.is_float() else b.mul(s, lanes)
        return b.fadd(base, steps) if t.is_float() else b.add(base, steps)

    def _Shuffle(self, e):
        b = self.st.builder
        vs = [self.expr(v) for v in e.vectors]
        lanes = [v.type.lanes() for v in e.vectors]
        if len(e.indices) == 1 and lanes == [1] * len(vs):
            return vs[e.indices[0]]
        mask = ll.Constant(ll.VectorType(I32, len(e.indices)), list(e.indices))
        if len(vs) == 1 and lanes[0] > 1:
            out = b.shuffle_vector(vs[0], ll.Constant(vs[0].type, None), mask)
        elif len(vs) == 2 and lanes[0] == lanes[1] > 1:
            out = b.shuffle_vector(vs[0], vs[1], mask)
        else:
            out = ll.Constant(llvm_type(e.type.with_lanes(max(2, len(e.indices)))), None)
            for k, idx in enumerate(e.indices):
                for v, n in zip(vs, lanes):
                    if idx < n:
                        lane = v if n == 1 else b.extract_element(v, ll.Constant(I32, idx))
                        break
                    idx -= n
                out = b.insert_element(out, lane, ll.Constant(I32, k))
        if len(e.indices) == 1:
            return b.extract_element(out, ll.Constant(I32, 0))
        return out

    # ------------------------------------------------------------ memory

    def _address(self, buf, t: Type, index, gather: bool = False):
        """How to reach the lanes of `t` at `index` in `buf`: (how, pointer or pointers).

        "dense": a pointer to lane 0 (a unit-stride Ramp: one vector access);
        "reversed": a pointer to the last lane (stride -1: one access and a shuffle);
        "same": one pointer for every lane (a Broadcast index);
        "lanes": a pointer per lane (a gather or scatter, done lane by lane);
        "vector": a vector of pointers (with `gather`, for an index vector
        with no constant stride: one `llvm.masked.gather`).
        """
        b = self.st.builder
        base = self.st.buffers.get(buf)
        assert base is not None, f"buffer {buf.name} is not defined at this point"
        elem = mem_type(t.element_of())

        def at(i):
            if i.type != I64:
                i = b.sext(i, I64)
            # One address for a load and the store after it (an update's
            # `f[x] = f[x] + ..`), wherever the first one's block dominates.
            key = (base, i.ref if type(i) is ll.Constant else i, elem)     # (types are interned)
            geps = self._geps
            hit = geps.get(key)
            block = b.block
            if hit is not None and (hit[1] is block or block.dominated_by(hit[1])):
                return hit[0]
            ptr = b.gep(base, [i], inbounds=True, source_etype=elem)
            geps[key] = (ptr, block)
            return ptr
        if t.is_scalar():
            return "dense", at(self.index64(index))
        if isinstance(index, N.Ramp) and N.const_value(index.stride) in (1, -1):
            first = self.index64(index.base)
            if N.const_value(index.stride) == 1:
                return "dense", at(first)
            return "reversed", at(b.sub(first, ll.Constant(I64, t.lanes() - 1)))
        if isinstance(index, N.Broadcast):
            return "same", at(self.index64(index.value))
        if isinstance(index, N.Ramp) and N.const_value(index.stride) is not None:
            # A constant stride (an interleaved image): each lane at a constant
            # offset from lane 0, which LLVM can combine, rather than an index
            # vector taken apart lane by lane.
            first, step = at(self.index64(index.base)), N.const_value(index.stride)
            return "lanes", _StridedLanes(b, first, step, t.lanes(), elem)
        v = self.expr(index)
        if gather:
            ptrs = b.gep(base, [v], inbounds=True, source_etype=elem)
            ptrs.type = ll.VectorType(PTR, t.lanes())    # (llvmlite types it as one pointer)
            return "vector", ptrs
        return "lanes", [at(b.extract_element(v, ll.Constant(I32, k))) for k in range(t.lanes())]

    def index64(self, e):
        """A scalar Int(32) index computed in 64 bits, as Halide promotes
        indices: lowering guarantees index arithmetic does not overflow, so
        sums and products are the same in either width, and in 64 bits LLVM
        sees `base + constant` addresses instead of 32-bit sums behind a
        sign extension. (Without this, the SLP vectorizer packs the row
        offsets of unrolled broadcast loads into a vector and extracts them
        lane by lane.)

        The price: an index that multiplies a sum by a non-constant reaches
        SCEV as a polynomial of many unknowns, and Loop Strength Reduction
        was local_laplacian's costliest LLVM pass (~25%; it is now off, see
        `jit.LLVM_OPTIONS`). Computing such
        indices in 32 bits with one sign extension (constant offsets still
        added in 64 bits) was measured and not kept: for scalar accesses
        only, local_laplacian's LSR fell ~25% (385-409 -> 243-375 ms) but
        InstCombine, SLP, GVN, IndVarSimplify and instruction selection
        grew by as much (LLVM total 0.94-1.00x), while conv_layer (its
        unrolled rows of scalar loads: +107 lines of assembly), lens_blur
        and bilateral_grid compiled 4-16% slower; for every access, its LSR
        fell ~65% and its LLVM time 12%, but 16 other apps took 3-35% more."""
        b = self.st.builder
        cls = type(e)
        if cls is N.IntImm:
            return ll.Constant(I64, e.value)
        if e.type != _INT32:
            v = self.expr(e)
            return v if v.type == I64 else b.sext(v, I64)
        table, key, v = self._reuse(e)
        if v is not None:
            return v
        if cls is N.Add or cls is N.Sub or cls is N.Mul:
            x, y = self.index64(e.a), self.index64(e.b)
            op = b.add if cls is N.Add else b.sub if cls is N.Sub else b.mul
            v = op(x, y, flags=("nsw",))
        else:
            v = b.sext(self.expr(e), I64)
        if table is not None:
            table[key] = (v, b.block, None)
            if table is self._values:
                self._remember(key, -1 - key)
        return v

    def _tag(self, inst, buf):
        """Give each buffer its own TBAA type, as Halide does, so LLVM knows
        that accesses to different buffers never alias (buffers passed to one
        call must not overlap). Other memory (argv, closures) stays untagged."""
        tags = self.__dict__.setdefault("_tbaa", {})
        tag = tags.get(buf)
        if tag is None:
            if not tags:
                self._tbaa_root = self.module.add_metadata(["pipelang buffers"])
            node = self.module.add_metadata([f"{buf.name}#{len(tags)}", self._tbaa_root,
                                             ll.Constant(I64, 0)])
            tag = tags[buf] = self.module.add_metadata([node, node, ll.Constant(I64, 0)])
        inst.set_metadata("tbaa", tag)
        return inst

    def _reverse(self, v):
        n = v.type.count
        mask = ll.Constant(ll.VectorType(I32, n), list(range(n - 1, -1, -1)))
        return self.st.builder.shuffle_vector(v, poison(v.type), mask)

    def _Load(self, e):
        b = self.st.builder
        t = e.type
        gather = t.lanes() > LANE_GATHER_MAX or (
            t.is_vector() and not isinstance(e.index, (N.Ramp, N.Broadcast)) and not _reads_data(e.index))
        how, ptr = self._address(e.buf, t, e.index, gather=gather)
        align = t.element_of().bytes()
        elem = mem_type(t.element_of())
        load = lambda p, typ: self._tag(b.load(p, typ=typ, align=align), e.buf)
        stride = N.const_value(e.index.stride) if isinstance(e.index, N.Ramp) else None
        if how == "lanes" and stride is not None and 2 <= stride <= 4:
            # A small constant stride (interleaved channels): one dense load that
            # ends at the last lane (never past it) and a shuffle, as Halide does.
            n = t.lanes()
            span = (n - 1) * stride + 1
            half = n * stride // 2
            if n * stride % 2 == 0 and half > 1:
                # Two loads of half of n * stride lanes, the second ending at the
                # last lane: LLVM legalizes a power-of-two width well (one
                # two-source permute) and an odd width such as 127 lane by lane.
                lo = load(ptr[0], ll.VectorType(elem, half))
                hi_ptr = b.gep(ptr[0], [ll.Constant(I64, span - half)], inbounds=True, source_etype=elem)
                hi = load(hi_ptr, ll.VectorType(elem, half))
                mask = ll.Constant(ll.VectorType(I32, n), [
                    k * stride if k * stride < half else half + k * stride - (span - half)
                    for k in range(n)])
                v = b.shuffle_vector(lo, hi, mask)
            else:
                wide = load(ptr[0], ll.VectorType(elem, span))
                mask = ll.Constant(ll.VectorType(I32, n), [k * stride for k in range(n)])
                v = b.shuffle_vector(wide, poison(wide.type), mask)
        elif how in ("dense", "reversed"):
            v = load(ptr, mem_type(t))
            v = self._reverse(v) if how == "reversed" else v
        elif how == "same":
            v = splat(b, load(ptr, elem), t.lanes())
        elif how == "vector":
            # One gather for LLVM to lower: as a hardware gather where the
            # target has a fast one, else lane by lane after the optimizer,
            # which then sees one call instead of five instructions a lane
            # (camera_pipe's 64-lane demosaic: the IR was 3 MB).
            vt = mem_type(t)
            n = t.lanes()
            mask_t = ll.VectorType(ll.IntType(1), n)
            fn = self._declare(f"llvm.masked.gather.{type_suffix(vt)}.v{n}p0",
                               ll.FunctionType(vt, [ptr.type, I32, mask_t, vt]))
            v = self._tag(b.call(fn, [ptr, ll.Constant(I32, align),
                                      SplatConstant(mask_t, ll.Constant(ll.IntType(1), 1)),
                                      poison(vt)]), e.buf)
        else:
            v = self._build_vector([load(p, elem) for p in list(ptr)])
        return b.trunc(v, llvm_type(t)) if t.is_bool() else v

    def _build_vector(self, scalars):
        """A vector of `scalars`: insertelement chains of at most
        BUILD_CHUNK lanes, joined by shuffles. (The SLP vectorizer's work on
        one chain grows faster than its length: on camera_pipe's 64-lane
        lookups, one chain each took most of LLVM's time.)"""
        b = self.st.builder
        parts = []
        for at in range(0, len(scalars), BUILD_CHUNK):
            chunk = scalars[at:at + BUILD_CHUNK]
            v = ll.Constant(ll.VectorType(chunk[0].type, len(chunk)), None)
            for k, x in enumerate(chunk):
                v = b.insert_element(v, x, ll.Constant(I32, k))
            parts.append(v)
        return self._concat(parts)

    def _Store(self, s):
        b = self.st.builder
        t = s.value.type
        value = self.expr(s.value)
        if t.is_bool():
            value = b.zext(value, mem_type(t))
        how, ptr = self._address(s.buf, t, s.index)
        align = t.element_of().bytes()
        store = lambda v, p: self._tag(b.store(v, p, align=align), s.buf)
        if how == "dense":
            store(value, ptr)
        elif how == "reversed":
            store(self._reverse(value), ptr)
        elif how == "same":  # lanes are stored in order, so the last one wins
            store(b.extract_element(value, ll.Constant(I32, t.lanes() - 1)), ptr)
        else:
            for k, p in enumerate(list(ptr)):
                store(b.extract_element(value, ll.Constant(I32, k)), p)

    # ------------------------------------------------------------ intrinsics

    def _Intrinsic(self, e):
        b = self.st.builder
        op, t = e.op, e.type
        if op is Op.PRINT:
            return self._print(e)
        if op is Op.STRICT_FLOAT:
            return self._strict(e.args[0])
        args = [self.expr(a) for a in e.args]
        if op is Op.LIKELY:
            return args[0]
        if op in _LLVM_MATH:
            return self._intrinsic(_LLVM_MATH[op], args)
        if op in _LIBM:
            return self._libm(_LIBM[op], args, t)
        if op is Op.BITWISE_AND:
            return b.and_(*args)
        if op is Op.BITWISE_OR:
            return b.or_(*args)
        if op is Op.BITWISE_XOR:
            return b.xor(*args)
        if op is Op.BITWISE_NOT:
            return b.not_(args[0])
        if op in (Op.SHIFT_LEFT, Op.SHIFT_RIGHT):
            return self._shift(op, e.args, args)
        src = e.args[0].type
        if op is Op.ABS:
            if src.is_float():
                return self._intrinsic("fabs", args)
            if src.is_uint():
                return args[0]
            return self._intrinsic("abs", [args[0], ll.Constant(I1, 0)])
        if op is Op.ABSD:
            x, y = args
            if src.is_float():
                return self._intrinsic("fabs", [b.fsub(x, y)])
            less = b.icmp_signed("<", x, y) if src.is_int() else b.icmp_unsigned("<", x, y)
            return b.select(less, b.sub(y, x), b.sub(x, y))
        if op is Op.IS_NAN:
            return b.fcmp_unordered("uno", args[0], args[0])
        if op in (Op.IS_INF, Op.IS_FINITE):
            inf = splat(b, ll.Constant(llvm_type(src.element_of()), float("inf")), src.lanes())
            mag = self._intrinsic("fabs", args)
            return b.fcmp_ordered("==" if op is Op.IS_INF else "<", mag, inf)
        if op is Op.REINTERPRET:
            return self._reinterpret(args[0], src, t)
        if op in _INT_BITS:
            extra = [] if op is Op.POPCOUNT else [ll.Constant(I1, 0)]
            r = self._intrinsic(_INT_BITS[op], [args[0]] + extra)
            return self.cast(r, src, t) if t.bits() != src.bits() else r
        raise AssertionError(f"intrinsic {op} has no codegen")

    def _strict(self, e):
        """`e` with IEEE semantics: no contraction or reassociation inside.
        Variables bound outside keep the values computed there."""
        outer, self.strict_float = self.strict_float, True
        try:
            return self.expr(e)
        finally:
            self.strict_float = outer

    def _shift(self, op, exprs, args):
        """Shifts as Halide: right shifts of signed values are arithmetic; a
        negative (signed) amount shifts the other way. The value and the amount
        have the same width; each keeps its own signedness."""
        b = self.st.builder
        x, s = args
        left = lambda n: b.shl(x, n)
        right = (lambda n: b.ashr(x, n)) if exprs[0].type.is_int() else (lambda n: b.lshr(x, n))
        fwd, back = (left, right) if op is Op.SHIFT_LEFT else (right, left)
        amount = N.const_value(exprs[1])
        if not exprs[1].type.is_int() or (amount is not None and amount >= 0):
            return fwd(s)
        if amount is not None:
            return back(b.sub(ll.Constant(s.type, None), s))
        negative = b.icmp_signed("<", s, ll.Constant(s.type, None))
        # The arm not chosen may shift by >= bits (poison), which select discards.
        return b.select(negative, back(b.sub(ll.Constant(s.type, None), s)), fwd(s))

    def _reinterpret(self, v, src: Type, dst: Type):
        b = self.st.builder
        if src.is_handle():
            return b.ptrtoint(v, llvm_type(dst))
        if dst.is_handle():
            return b.inttoptr(v, PTR)
        return b.bitcast(v, llvm_type(dst))

    def _libm(self, name, args, t: Type):
        """A libm call per lane (single precision gets the `f` suffix)."""
        b = self.st.builder
        scalar = llvm_type(t.element_of())
        fn = self._declare(name + ("f" if t.bits() == 32 else ""),
                           ll.FunctionType(scalar, [scalar] * len(args)))
        if t.is_scalar():
            return b.call(fn, args)
        out = ll.Constant(llvm_type(t), None)
        for lane in range(t.lanes()):
            idx = ll.Constant(I32, lane)
            out = b.insert_element(out, b.call(fn, [b.extract_element(a, idx) for a in args]), idx)
        return out


def x86_vector_bits(triple: str, features: str) -> int:
    """`ExprCodeGen.x86_vector_bits` for an LLVM target triple and feature string."""
    if not triple.startswith(("x86_64", "i386", "i686")):
        return 0
    enabled = {f[1:] for f in features.split(",") if f.startswith("+")}
    return 512 if "avx512bw" in enabled else 256 if "avx2" in enabled else 128


def _as_i16(e):
    """`e` (an Int(32) expression, scalar or vector) as an Int(16) expression
    of the same value when that is evident: a cast of an 8- or 16-bit
    integer (not uint16), a broadcast of one, or a constant in range; else None."""
    from pipelang.ir.types import Int as _Int
    if isinstance(e, N.Broadcast):
        return _as_i16(e.value)     # a scalar operand: splat where used
    if isinstance(e, (N.IntImm, N.UIntImm)):
        return N.IntImm(_Int(16), e.value) if -32768 <= e.value <= 32767 else None
    if isinstance(e, N.Cast):
        v = e.value
        t = v.type
        if t.is_int() and t.bits() == 16:
            return v
        if not t.is_float() and not t.is_bool() and t.bits() == 8:
            return N.Cast(_Int(16, t.lanes()), v)
    return None


# Products in an int32 sum below this many lanes stay as multiplies.
_PMADDWD_MIN_LANES = 8


def _widening_products(e: N.Add):
    """For an Int(32) vector sum with at least two products of 16-bit values
    (`_as_i16` operands): (pairs of (a, b) operand pairs, the other terms),
    else None. An odd product pairs with a constant term (times 1)."""
    from pipelang.ir.types import Int as _Int
    if e.type.lanes() < _PMADDWD_MIN_LANES:
        return None
    terms, pending = [], [e]
    while pending:
        t = pending.pop()
        if isinstance(t, N.Add) and t.type == e.type:
            pending += [t.b, t.a]
        else:
            terms.append(t)
    products, rest = [], []
    for t in terms:
        if isinstance(t, N.Mul):
            a, b = _as_i16(t.a), _as_i16(t.b)
            if a is not None and b is not None:
                products.append((a, b))
                continue
        rest.append(t)
    if len(products) < 2:
        return None
    if len(products) % 2:
        for i, t in enumerate(rest):
            c = _as_i16(t)
            if c is not None:
                products.append((c, N.IntImm(_Int(16), 1)))
                del rest[i]
                break
        else:
            rest.append(_product_term(e, products.pop()))
    pairs = [(products[i], products[i + 1]) for i in range(0, len(products), 2)]
    return pairs, rest


def _product_term(e, operands):
    """The int32 product of two `_as_i16` operands, as an expression of e's type."""
    t = e.type
    def wide(x):
        c = N.Cast(t.with_lanes(x.type.lanes()), x)
        return c if x.type.lanes() == t.lanes() else N.Broadcast(c, t.lanes())
    return N.Mul(wide(operands[0]), wide(operands[1]))


def _halving_add_operands(e: N.Cast):
    """(a, b, rounding) when `e` is a narrowing cast of the average of `a`
    and `b` computed in a wider type, T(floor((W(a) + W(b) + r) / 2)) with a
    and b of type T and r 0 or 1 (rounding), else None.

    The average of two values of T is in T's range, so the narrow result is
    exact; in the wide type only bits 1 to T.bits of the sum are kept, which
    wrapping in W (at least one bit wider than T) leaves intact."""
    dst, wide = e.type, e.value.type
    if dst.is_bool() or dst.is_float() or wide.is_float() or wide.bits() <= dst.bits():
        return None
    v = e.value
    if isinstance(v, N.Div) and N.const_value(v.b) == 2:
        total = v.a
    elif (isinstance(v, N.Intrinsic) and v.op is Op.SHIFT_RIGHT and len(v.args) == 2
          and N.const_value(v.args[1]) == 1):
        total = v.args[0]
    else:
        return None
    terms, pending = [], [total]
    while pending and len(terms) <= 3:
        t = pending.pop()
        if isinstance(t, N.Add):
            pending += [t.a, t.b]
        else:
            terms.append(t)
    if pending:
        return None
    casts = [t for t in terms if isinstance(t, N.Cast)]
    consts = [N.const_value(t) for t in terms if not isinstance(t, N.Cast)]
    if len(casts) != 2 or len(consts) > 1 or any(c not in (0, 1) for c in consts):
        return None
    a, b = casts[0].value, casts[1].value
    if a.type != dst or b.type != dst:
        return None
    return a, b, bool(consts and consts[0])


# The expression nodes `ExprCodeGen.expr` may generate once for several
# uses (constants and variables cost nothing; calls and lets are generated
# each time they appear, as is anything holding them or an impure intrinsic).
_EXPR_METHODS = {getattr(N, name): getattr(ExprCodeGen, "_" + name)
                 for name in ("Add", "Sub", "Mul", "Div", "Mod", "Min", "Max", "EQ", "NE", "LT",
                              "LE", "GT", "GE", "And", "Or", "Not", "Select", "Cast", "Ramp",
                              "Broadcast", "Shuffle", "Load", "Intrinsic")}
_IMPURE_OPS = frozenset((Op.PRINT, Op.GPU_BARRIER, Op.UNDEF))
# Two-operand nodes whose type follows from their operands' (`_value_number`).
_OPERATORS = frozenset((N.Add, N.Sub, N.Mul, N.Div, N.Mod, N.Min, N.Max, N.EQ, N.NE, N.LT, N.LE,
                        N.GT, N.GE, N.And, N.Or))
_PURE, _READS, _IMPURE = 0, 1, 2
