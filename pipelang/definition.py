"""Checking and recording `f[args] = value`: a pure definition or an update."""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import CompileError
from pipelang.expr import to_ir
from pipelang.rdom import rvar_info
from pipelang.var import Var, var_symbol


def definition_values(fn, value) -> tuple:
    """The IR values of `f[...] = value` (one per Tuple element)."""
    return _values(fn, value)


def _values(fn, value) -> tuple:
    from pipelang.func import _UpdateValue
    if isinstance(value, _UpdateValue):
        value = value.value
    is_sequence = (isinstance(value, (tuple, list)) or (
        not hasattr(value, "_to_ir") and hasattr(value, "__len__") and hasattr(value, "__getitem__")
        and not isinstance(value, (str, bytes))))
    items = tuple(value[i] for i in range(len(value))) if is_sequence else (value,)
    if not items:
        raise CompileError(f'Func "{fn.name}" can\'t be defined as an empty Tuple')
    like = fn.output_types if fn.defined() else (fn.required_types or ())
    out = []
    for i, v in enumerate(items):
        t = like[i] if i < len(like) else None
        if t is not None and isinstance(v, (int, float)) and not isinstance(v, bool):
            e = to_ir(v, t)
        else:
            e = to_ir(v)
        out.append(e)
    return tuple(out)


class _FreeVars(ir.IRVisitor):
    def __init__(self):
        self.pure = {}
        self.rvars = {}

    def visit_Variable(self, node):
        info = rvar_info(node.sym)
        if info is not None:
            self.rvars[node.sym] = info
        elif node.sym is var_symbol(node.sym.name):
            self.pure[node.sym.name] = node.sym


def _describe(i: int) -> str:
    return "pure definition" if i == 0 else f"update definition {i - 1}"


def define(func, args: tuple, value) -> None:
    from pipelang.operators import lower_random
    fn = func.function
    values = lower_random(_values(fn, value), [to_ir(a) for a in args])
    if fn.frozen_by is not None:
        what = "update" if fn.defined() else "pure"
        raise CompileError(f'Func {fn.name} cannot be given a new {what} definition, because it '
                           f'has already been realized or used in the definition of another Func '
                           f'({fn.frozen_by}): a Func may not depend on itself through another')
    all_vars = all(isinstance(a, Var) for a in args)
    names = [a.name() for a in args] if all_vars else []
    if not fn.defined() and all_vars and len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise CompileError(f'In the definition of Func "{fn.name}": the variable {dup} appears '
                           f'more than once on the left-hand side')
    is_pure = not fn.defined() and all_vars
    if any(_has_undef(v) for v in values):
        values = _remove_undef(fn, args, values, is_pure)
    if is_pure:
        _define_pure(fn, [a.name() for a in args], values)
    else:
        _define_update(fn, args, values)


class _UndefFinder(ir.IRVisitor):
    found = False

    def visit_Intrinsic(self, node):
        if node.op is ir.Op.UNDEF:
            self.found = True
        self.generic_visit(node)


def _has_undef(e) -> bool:
    v = _UndefFinder()
    v.visit(e)
    return v.found


class _Undefined(Exception):
    pass


class _RemoveUndef(ir.IRMutator):
    """A value with its undef() taken out: a select branch that is undefined
    gives way to the other branch under a predicate (the select's condition or
    its negation); undef anywhere else makes the whole value undefined."""

    def __init__(self):
        self.predicate = None

    def _require(self, c):
        self.predicate = c if self.predicate is None else ir.And(self.predicate, c)

    def mutate_Intrinsic(self, node):
        if node.op is ir.Op.UNDEF:
            raise _Undefined
        return self.generic_mutate(node)

    def mutate_Select(self, node):
        c = self.mutate(node.condition)
        t_undef, f_undef = _has_undef(node.true_value), _has_undef(node.false_value)
        if t_undef and f_undef:
            raise _Undefined
        if t_undef:
            self._require(ir.Not(c))
            return self.mutate(node.false_value)
        if f_undef:
            self._require(c)
            return self.mutate(node.true_value)
        return self.generic_mutate(node)

    def mutate_Let(self, node):
        if _has_undef(node.value):
            raise _Undefined
        return self.generic_mutate(node)


def _remove_undef(fn, args, values, is_pure: bool) -> tuple:
    """Halide's undef() in `f[args] = values`: in an update, an element (or a
    select branch of it) that is undefined keeps the value f[args] has (Halide
    skips the store); in a pure definition it is left unspecified (0 here)."""
    out = []
    for i, v in enumerate(values):
        if is_pure:
            keep = ir.make_const(v.type, 0)
        else:
            if not fn.defined():
                return values          # the update's own error comes first
            args_ir = tuple(_arg_ir(a) for a in args)
            keep = ir.Call(fn.output_types[i], fn.sym, args_ir, ir.CallKind.FUNC, i)
        m = _RemoveUndef()
        try:
            e = m.mutate(v)
        except _Undefined:
            out.append(keep)
            continue
        if m.predicate is not None and _has_undef(m.predicate):
            raise CompileError(f'In the definition of Func "{fn.name}": a select condition '
                               f'is undef()')
        out.append(e if m.predicate is None or is_pure else ir.Select(m.predicate, e, keep))
    return tuple(out)


def _arg_ir(a):
    e = to_ir(a)
    return e if e.type == ir.Int(32) or e.type.is_float() else ir.Cast(ir.Int(32), e)


def _define_pure(fn, names: list, values: tuple) -> None:
    seen = _FreeVars()
    for v in values:
        seen.visit(v)
    for name in seen.pure:
        if name not in names:
            raise CompileError(f'Undefined variable {name} in definition of Func "{fn.name}" '
                               f'(its pure variables are {", ".join(names) or "none"})')
    if seen.rvars:
        r = next(iter(seen.rvars))
        raise CompileError(f'The pure definition of Func "{fn.name}" uses the RVar {r.name}: '
                           f'RVars may appear only in update definitions (or inside hl.sum etc.)')
    if fn.required_types is not None:
        got = tuple(v.type for v in values)
        if got != tuple(fn.required_types):
            def show(ts):
                return str(ts[0]) if len(ts) == 1 else "(" + ", ".join(map(str, ts)) + ")"
            raise CompileError(f'Func "{fn.name}" is constrained to only hold values of type '
                               f'{show(fn.required_types)} but is defined with values of type {show(got)}.')
    if fn.required_dims is not None and fn.required_dims != len(names):
        raise CompileError(f'Func "{fn.name}" is constrained to have exactly {fn.required_dims} dimensions, '
                           f'but is defined with {len(names)} dimensions.')
    fn.define_pure(names, values)
    _freeze_callees(fn, values)


def _define_update(fn, args: tuple, values: tuple) -> None:
    if not fn.defined():
        raise CompileError(f'Func "{fn.name}" needs a pure definition before its update '
                           f'definition (the left-hand side of a pure definition must be '
                           f'distinct Vars)')
    index = len(fn.updates) + 1
    if len(args) != fn.dimensions():
        raise CompileError(f'Update definition of Func "{fn.name}" has {len(args)} arguments, '
                           f'but the Func was defined with {fn.dimensions()}')
    if len(values) != len(fn.output_types):
        raise CompileError(f'{_describe(index)} of Func "{fn.name}" has {len(values)} values, '
                           f'but its pure definition has {len(fn.output_types)}')
    for i, (v, t) in enumerate(zip(values, fn.output_types)):
        if v.type != t:
            raise CompileError(f'In {_describe(index)} of Func "{fn.name}": value {i} has type '
                               f'{v.type}, but the pure definition has type {t}')
    args_ir = []
    for a in args:
        e = to_ir(a)
        if e.type.is_float():
            raise CompileError(f'Func "{fn.name}" was given a float argument in an update')
        args_ir.append(e if e.type == ir.Int(32) else ir.Cast(ir.Int(32), e))
    seen = _FreeVars()
    for e in list(args_ir) + list(values):
        seen.visit(e)
    lhs_pure = {a.sym.name for a in args_ir if isinstance(a, ir.Variable)}
    for name in seen.pure:
        if name not in lhs_pure:
            raise CompileError(f'Undefined variable {name} in {_describe(index)} of Func '
                               f'"{fn.name}": a pure variable used on the right must appear '
                               f'on the left')
    for pos, a in enumerate(args_ir):
        if isinstance(a, ir.Variable) and a.sym.name in fn.args and fn.args.index(a.sym.name) != pos:
            raise CompileError(f'In {_describe(index)} of Func "{fn.name}", pure variable '
                               f'{a.sym.name} must appear at position {fn.args.index(a.sym.name)}')
    _check_self_calls(fn, index, args_ir, values)
    rdoms = {}
    for sym, (rdom, i) in seen.rvars.items():
        rdoms.setdefault(id(rdom), rdom)
    rvars = []
    predicate = None
    for rdom in sorted(rdoms.values(), key=lambda r: r.serial):
        rvars.extend(rdom._vars)
        for p in rdom._predicates:
            predicate = p if predicate is None else ir.And(predicate, p)
    args_ir, values, rvars, predicate, order = _rvars_named_as_pure(fn, args_ir, values, rvars,
                                                                   predicate)
    fn.add_update(tuple(args_ir), values, tuple(rvars), predicate, order)
    _freeze_callees(fn, tuple(args_ir) + values + ((predicate,) if predicate is not None else ()))
    for rdom in rdoms.values():
        rdom._frozen = True


def _freeze_callees(fn, exprs) -> None:
    from pipelang.function import registry
    v = _Callees()
    for e in exprs:
        v.visit(e)
    for sym in v.found:
        callee = registry.get(sym)
        if callee is not None and callee is not fn and callee.frozen_by is None:
            callee.frozen_by = f"Func {fn.name} calls it"


class _Callees(ir.IRVisitor):
    def __init__(self):
        self.found = []

    def visit_Call(self, node):
        if node.kind is ir.CallKind.FUNC and node.fn not in self.found:
            self.found.append(node.fn)
        self.generic_visit(node)


class _SelfCalls(ir.IRVisitor):
    def __init__(self, sym):
        self.sym = sym
        self.calls = []

    def visit_Call(self, node):
        if node.fn is self.sym:
            self.calls.append(node)
        self.generic_visit(node)


def _check_self_calls(fn, index: int, args_ir, values) -> None:
    """Each pure var of an update must be used in the same place by every call
    the update makes to its own Func: otherwise updates at different points of
    that var would depend on each other, which Halide forbids."""
    v = _SelfCalls(fn.sym)
    for e in list(args_ir) + list(values):
        v.visit(e)
    for pos, a in enumerate(args_ir):
        if not (isinstance(a, ir.Variable) and a.sym.name in fn.args):
            continue
        for call in v.calls:
            if call.args[pos] != a:
                raise CompileError(
                    f'In {_describe(index)} of Func "{fn.name}": pure variable {a.sym.name} '
                    f'is at position {pos} on the left-hand side, but the call '
                    f'{ir.to_string(call)} uses {ir.to_string(call.args[pos])} there. '
                    f'A pure variable must appear unchanged in every call to "{fn.name}" '
                    f'in its update definitions (use an RDom for a scan).')


def _rvars_named_as_pure(fn, args_ir, values, rvars, predicate):
    """Halide's reading of an RVar named like a pure Var of the Func (as the
    implicit pure definition of `f[r.x] += e` names its Var): it is that pure
    Var, ranging over the realized region, no longer a reduction variable.
    It keeps the RVar's place among the loops; returns that order of loop
    names (innermost first), or None when no RVar is read this way."""
    mapping = {r.sym: ir.Variable(ir.Int(32), var_symbol(r.name)) for r in rvars
               if r.name in fn.args}
    if not mapping:
        return args_ir, values, rvars, predicate, None
    order = [r.name for r in rvars]
    args_ir = [ir.substitute(mapping, a) for a in args_ir]
    values = tuple(ir.substitute(mapping, v) for v in values)
    if predicate is not None:
        predicate = ir.substitute(mapping, predicate)
    return args_ir, values, [r for r in rvars if r.sym not in mapping], predicate, order


def implicit_pure_definition(func, args: tuple, values, identity: int) -> None:
    """Halide's base case for `f[args] += e` on an undefined Func: `f[pure] =
    identity`, cast to each value's type (or the Func's declared types). It
    reuses the names of the variables among the arguments (pure or reduction)
    and makes fresh Vars for the rest (and for a repeated name)."""
    from pipelang.rdom import RVar
    fn = func.function
    pure, seen = [], set()
    for a in args:
        v = Var(a.name()) if isinstance(a, (Var, RVar)) else Var()
        if v.name() in seen:
            v = Var()
        seen.add(v.name())
        pure.append(v)
    types = fn.required_types or tuple(v.type for v in values)
    if len(types) != len(values):
        raise CompileError(f'Func "{fn.name}" was declared with {len(types)} types, but its '
                           f'update gives {len(values)} values')
    init = tuple(ir.make_const(t, identity) for t in types)
    func._define(tuple(pure), init if len(init) > 1 else init[0])
