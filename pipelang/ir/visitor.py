"""Generic traversal of the IR.

`IRVisitor.visit(node)` walks every child Expr/Stmt; subclasses override
`visit_<NodeName>` and call `self.generic_visit(node)` to keep walking.

`IRMutator.mutate(node)` rebuilds nodes bottom-up and returns the *same*
node when no child changed, so passes can test `new is old`. Subclasses
override `mutate_<NodeName>` and use `self.generic_mutate(node)`.
"""
from __future__ import annotations

import dataclasses

from pipelang.ir import nodes as N

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls) -> tuple[str, ...]:
    """Names of the fields of `cls` that may hold IR (Expr, Stmt, Range or tuples)."""
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = tuple(f.name for f in dataclasses.fields(cls)
                       if f.name not in ("type", "sym", "fn", "buf", "kind", "op",
                                         "lanes", "message", "memory", "is_producer",
                                         "value_index", "types", "indices", "name"))
        _CHILD_FIELDS[cls] = fields
    return fields


_IR = (N.Expr, N.Stmt, N.Range)


def _is_ir(v) -> bool:
    return isinstance(v, _IR)


# The method a visitor or mutator class has for a node class (or None) is found
# once per pair (looking it up by name on every node cost more than the walk)
# and kept in a table on the class itself, so a class made inside a function
# (one per call) is freed with its table: global tables keyed by class kept
# every such class alive, 25 KB a compile.
_INIT_FIELDS: dict = {}
_EXPR_NAMES = frozenset(name for name, c in vars(N).items()
                        if isinstance(c, type) and issubclass(c, N.Expr))
_OWN_WALKS = ("visit", "generic_visit", "mutate", "generic_mutate")


def _skip_visit(self, node):
    return None


def _skip_mutate(self, node):
    return node


def _sees_exprs(owner: type, prefix: str) -> bool:
    """Whether a visitor or mutator class does anything with expressions: a
    handler for an Expr node, or a walk of its own. One that doesn't (a pass
    that places or rewrites statements) need not descend into them: no
    statement lies inside an expression."""
    sees = owner._sees_exprs_by_prefix.get(prefix)
    if sees is None:
        sees = owner._sees_exprs_by_prefix[prefix] = (
            any(k.startswith(prefix) and k[len(prefix):] in _EXPR_NAMES for k in dir(owner))
            or any(m in base.__dict__ for base in owner.__mro__
                   if base not in (IRVisitor, IRMutator, object) for m in _OWN_WALKS))
    return sees


def _method(prefix: str, owner: type, cls: type):
    m = getattr(owner, prefix + cls.__name__, None)
    if m is None and issubclass(cls, N.Expr) and not _sees_exprs(owner, prefix):
        m = _skip_visit if prefix == "visit_" else _skip_mutate
    return m


def _rebuilt(node, changes: dict):
    """`dataclasses.replace(node, **changes)`, with the field list found once per class."""
    cls = node.__class__
    names = _INIT_FIELDS.get(cls)
    if names is None:
        names = _INIT_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    return cls(*[changes[n] if n in changes else getattr(node, n) for n in names])


def _field_kinds(cls) -> list:
    """(name, kind) of each field of node class `cls` that may hold IR: kind
    "one" for a field declared `Expr` or `Stmt` (always a node), "opt" for
    one that may be None, "seq" for a tuple (of nodes and other values)."""
    annotations: dict = {}
    for base in reversed(cls.__mro__):
        annotations.update(getattr(base, "__annotations__", {}))
    kinds = []
    for name in _child_fields(cls):
        a = annotations.get(name)
        a = a if isinstance(a, str) else getattr(a, "__name__", "")
        if a in ("Expr", "Stmt"):
            kinds.append((name, "one"))
        elif a == "tuple":
            kinds.append((name, "seq"))
        elif a not in ("int", "float", "str", "bool"):
            kinds.append((name, "opt"))
    return kinds


# Walkers made once per node class. Interpreted, the fastest is one
# generated (by `exec`) with the class's fields spelled out: the generic walk
# looked up and type-tested every field of every node. Compiled, that
# generated walk would be the one interpreted frame in each step of every
# walk (local_laplacian's lowering: 348 -> 322 ms without it), so a closure
# over the fields' names, compiled with this module, walks instead
# (`_field_visitor`, `_field_mutator`).
_VISIT_WALKERS: dict = {}
_MUTATE_WALKERS: dict = {}


def _probe():
    pass


# Whether this module runs compiled (Cython): its functions are then not
# Python functions.
_COMPILED = type(_probe).__name__ != "function"


def _visit_walker(cls):
    if _COMPILED:
        walk = _VISIT_WALKERS[cls] = _field_visitor(tuple(
            (name, ("one", "opt", "seq").index(kind)) for name, kind in _field_kinds(cls)))
        return walk
    lines = ["def walk(self, node):", "    visit = self.visit"]
    for name, kind in _field_kinds(cls):
        if kind == "one":
            lines.append(f"    visit(node.{name})")
        elif kind == "opt":
            lines += [f"    v = node.{name}", "    if isinstance(v, _IR):", "        visit(v)"]
        else:
            lines += [f"    for v in node.{name}:", "        if isinstance(v, _IR):",
                      "            visit(v)"]
    namespace = {"_IR": _IR}
    exec("\n".join(lines), namespace)
    walk = _VISIT_WALKERS[cls] = namespace["walk"]
    return walk


def _field_visitor(kinds: tuple):
    """The walk of a node class's children, `kinds` ((name, 0 one | 1 opt |
    2 seq), ...) as `_field_kinds` gives them (see `_COMPILED`)."""
    def walk(self, node):
        visit = self.visit
        for name, kind in kinds:
            v = getattr(node, name)
            if kind == 0:
                visit(v)
            elif kind == 1:
                if isinstance(v, _IR):
                    visit(v)
            else:
                for item in v:
                    if isinstance(item, _IR):
                        visit(item)
    return walk


def _field_mutator(cls, kinds: tuple, sources: tuple):
    """The rebuilding walk of a node class's children (see `_COMPILED`):
    `kinds` as in `_field_visitor`; `sources`, for each argument of the
    class's constructor, the index of its child in `kinds`, or its name
    where it is no child."""
    def walk(self, node):
        mutate = self.mutate
        changed = False
        values = []
        for name, kind in kinds:
            old = getattr(node, name)
            if kind == 0:
                new = mutate(old)
            elif kind == 1:
                new = mutate(old) if isinstance(old, _IR) else old
            else:
                new = _mutated_items(mutate, old)
            if new is not old:
                changed = True
            values.append(new)
        if not changed:
            return node
        return cls(*[values[src] if src.__class__ is int else getattr(node, src)
                     for src in sources])
    return walk


def _mutate_walker(cls):
    kinds = _field_kinds(cls)
    if not dataclasses.is_dataclass(cls) or any(
            not f.init for f in dataclasses.fields(cls) if f.name in dict(kinds)):
        walk = _MUTATE_WALKERS[cls] = _generic_mutate
        return walk
    if _COMPILED:
        index = {name: i for i, (name, _) in enumerate(kinds)}
        sources = tuple(index.get(f.name, f.name) for f in dataclasses.fields(cls) if f.init)
        walk = _MUTATE_WALKERS[cls] = _field_mutator(cls, tuple(
            (name, ("one", "opt", "seq").index(kind)) for name, kind in kinds), sources)
        return walk
    lines = ["def walk(self, node):", "    mutate = self.mutate", "    changed = False"]
    for name, kind in kinds:
        if kind == "one":
            lines += [f"    old = node.{name}", f"    n_{name} = mutate(old)",
                      f"    if n_{name} is not old:", "        changed = True"]
        elif kind == "opt":
            lines += [f"    old = node.{name}", f"    n_{name} = mutate(old) if isinstance(old, _IR) else old",
                      f"    if n_{name} is not old:", "        changed = True"]
        else:
            lines += [f"    old = node.{name}", "    items = None",
                      "    for k, item in enumerate(old):",
                      "        if isinstance(item, _IR):",
                      "            new = mutate(item)",
                      "            if new is not item:",
                      "                if items is None:",
                      "                    items = list(old)",
                      "                items[k] = new",
                      f"    if items is None:",
                      f"        n_{name} = old",
                      "    else:",
                      f"        n_{name} = tuple(items)",
                      "        changed = True"]
    names = dict(kinds)
    args = ", ".join(f"n_{f.name}" if f.name in names else f"node.{f.name}"
                     for f in dataclasses.fields(cls) if f.init)
    lines += ["    if not changed:", "        return node", f"    return cls({args})"]
    namespace = {"_IR": _IR, "cls": cls}
    exec("\n".join(lines), namespace)
    walk = _MUTATE_WALKERS[cls] = namespace["walk"]
    return walk


def _generic_visit(self, node):
    visit = self.visit
    for name in _child_fields(node.__class__):
        v = getattr(node, name)
        if isinstance(v, tuple):
            for item in v:
                if isinstance(item, _IR):
                    visit(item)
        elif isinstance(v, _IR):
            visit(v)


def _mutated_items(mutate, items: tuple) -> tuple:
    """`items` with each IR node in it mutated: `items` itself when none changed."""
    out = None
    for k, item in enumerate(items):
        if isinstance(item, _IR):
            new = mutate(item)
            if new is not item:
                if out is None:
                    out = list(items)
                out[k] = new
    return items if out is None else tuple(out)


def _generic_mutate(self, node):
    changes = None
    mutate = self.mutate
    for name in _child_fields(node.__class__):
        v = getattr(node, name)
        if isinstance(v, tuple):
            new = _mutated_items(mutate, v)
            if new is not v:
                if changes is None:
                    changes = {}
                changes[name] = new
        elif isinstance(v, _IR):
            new = mutate(v)
            if new is not v:
                if changes is None:
                    changes = {}
                changes[name] = new
    if changes is None:
        return node
    return _rebuilt(node, changes)


def _dispatch_entry(prefix: str, owner: type, cls: type):
    """The function a visitor (or mutator) class calls with (self, node) for
    node class `cls`: its handler, or the class's walk of the node's children."""
    m = _method(prefix, owner, cls)
    if m is None:
        generic = "generic_visit" if prefix == "visit_" else "generic_mutate"
        if getattr(owner, generic) is not getattr(IRVisitor if prefix == "visit_" else IRMutator,
                                                  generic):
            m = getattr(owner, generic)          # the class walks nodes its own way
        elif not dataclasses.is_dataclass(cls):
            m = _generic_visit if prefix == "visit_" else _generic_mutate
        elif prefix == "visit_":
            m = _VISIT_WALKERS.get(cls) or _visit_walker(cls)
        else:
            m = _MUTATE_WALKERS.get(cls) or _mutate_walker(cls)
    return m


class IRVisitor:
    # Each subclass gets its own tables (see _dispatch_entry and _sees_exprs).
    _visit_table: dict = {}
    _sees_exprs_by_prefix: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._visit_table = {}
        cls._sees_exprs_by_prefix = {}

    def visit(self, node):
        cls = node.__class__
        try:
            method = self._visit_table[cls]
        except KeyError:
            method = self._visit_table[cls] = _dispatch_entry("visit_", self.__class__, cls)
        return method(self, node)

    def generic_visit(self, node):
        cls = node.__class__
        walk = _VISIT_WALKERS.get(cls)
        if walk is None:
            walk = _visit_walker(cls) if dataclasses.is_dataclass(cls) else _generic_visit
            _VISIT_WALKERS[cls] = walk
        walk(self, node)


class IRMutator:
    _mutate_table: dict = {}
    _sees_exprs_by_prefix: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._mutate_table = {}
        cls._sees_exprs_by_prefix = {}

    def mutate(self, node):
        cls = node.__class__
        try:
            method = self._mutate_table[cls]
        except KeyError:
            method = self._mutate_table[cls] = _dispatch_entry("mutate_", self.__class__, cls)
        return method(self, node)

    def generic_mutate(self, node):
        cls = node.__class__
        walk = _MUTATE_WALKERS.get(cls)
        if walk is None:
            walk = _mutate_walker(cls) if dataclasses.is_dataclass(cls) else _generic_mutate
            _MUTATE_WALKERS[cls] = walk
        return walk(self, node)


class _Substitute(IRMutator):
    def __init__(self, mapping):
        self.mapping = mapping
        self.keys = mapping.keys()

    def mutate(self, node):
        # A subtree none of whose variables is replaced stays as it is: its
        # symbols are known (cached per node) without walking it.
        if node.__class__ is N.Variable:
            return self.mapping.get(node.sym, node)
        if isinstance(node, _SYMBOL_SLOTS) and self.keys.isdisjoint(_symbols_of(node)):
            return node
        return IRMutator.mutate(self, node)


def substitute(mapping: dict, node):
    """Replace Variables by symbol: `mapping` is {Symbol: Expr}."""
    if not mapping:
        return node
    return _Substitute(mapping).mutate(node)


def free_symbols(node) -> set:
    """Symbols of every Variable in `node` (bound ones included).

    Each node remembers its symbols (in the order a walk meets them first,
    so the set is built, and iterates, as a walk would build it): passes
    ask about the same subtrees over and over."""
    return set(_symbols_of(node))


# A let or loop binds its `sym`; a constant has nothing inside.
_BINDERS = frozenset((N.LetStmt, N.Let, N.For))
_CONSTANTS = frozenset((N.IntImm, N.UIntImm, N.FloatImm, N.StringImm))


def unbound_symbols(stmt) -> set:
    """The symbols of Variables in `stmt` that no let or loop in it binds
    (of a lowered pipeline's body: what its arguments must give).

    Each node is walked once, not once per path to it: the final statement
    is a DAG (the simplifier's results are shared by every use; unrolled
    and partitioned copies share what they don't rewrite): local_laplacian's
    has 36k nodes as a tree, 16k distinct ones. The sets hold symbols, not
    scopes, so a second path to a node adds nothing."""
    used, bound, seen = set(), set(), set()
    stack = [stmt]
    variable, binders, constants = N.Variable, _BINDERS, _CONSTANTS
    while stack:
        node = stack.pop()
        cls = node.__class__
        if cls is variable:
            used.add(node.sym)
            continue
        if cls in constants:
            continue
        key = id(node)
        if key in seen:
            continue
        seen.add(key)
        if cls in binders:
            bound.add(node.sym)
        for name in _child_fields(cls):
            v = getattr(node, name)
            if v.__class__ is tuple:
                for item in v:
                    if isinstance(item, _IR):
                        stack.append(item)
            elif isinstance(v, _IR):
                stack.append(v)
    return used - bound


_NO_SYMBOLS = ()
_SYMBOL_SLOTS = (N.Expr, N.Stmt)


def _symbols_of(node) -> tuple:
    """The distinct symbols of the Variables in `node`, in walk order (cached
    in the node's `_fsyms` slot)."""
    try:
        return node._fsyms
    except AttributeError:
        pass
    cls = node.__class__
    if cls is N.Variable:
        found = (node.sym,)
    else:
        found = _NO_SYMBOLS
        for name in _child_fields(cls):
            v = getattr(node, name)
            for item in (v if v.__class__ is tuple else (v,)):
                if isinstance(item, _IR):
                    more = _symbols_of(item)
                    if more and more is not found:
                        found = _merged(found, more) if found else more
    if isinstance(node, _SYMBOL_SLOTS):
        object.__setattr__(node, "_fsyms", found)
    return found


def _merged(a: tuple, b: tuple) -> tuple:
    if len(b) == 1:
        return a if b[0] in a else a + b
    seen = set(a)
    extra = tuple(x for x in b if x not in seen)
    return a + extra if extra else a


def contains(node, *types) -> bool:
    """Whether `node`, or a node inside it, is of one of `types`.

        >>> contains(Add(Load(Int(32), buf, i32(0)), i32(1)), Load)
        True
    """
    return _holds_any(node, types, all(issubclass(t, N.Stmt) for t in types))


_READS = (N.Call, N.Load)


def reads_memory(e) -> bool:
    """Whether `e` reads a Func or buffer: a value no bounds or assumption
    constrains (it may be its type's extreme: argmin's initial value)."""
    return _holds_any(e, _READS, False)


def _holds_any(node, types: tuple, stmts_only: bool) -> bool:
    """Whether `node` or a node inside it is of a class in `types` (exactly,
    as a visitor's `visit_<Class>` would meet it). It stops at the first
    one, and walks each shared node once: partition_loops asks it of every
    clamp it tries, whose operands are indices through a pyramid, and most
    answers are found a few nodes down. `stmts_only`: no expression is
    entered (no statement lies inside one)."""
    stack = [node]
    seen = set()
    while stack:
        n = stack.pop()
        cls = n.__class__
        if cls in types:
            return True
        for name in _child_fields(cls):
            v = getattr(n, name)
            for item in (v if v.__class__ is tuple else (v,)):
                if isinstance(item, _IR) and not (stmts_only and isinstance(item, N.Expr)):
                    key = id(item)
                    if key not in seen:
                        seen.add(key)
                        stack.append(item)
    return False


def tree_size_over(node, limit: int) -> bool:
    """Whether `node`, counted as a tree (shared subtrees once per use), has
    more than `limit` nodes; stops counting there."""
    count = 0
    stack = [node]
    while stack:
        n = stack.pop()
        count += 1
        if count > limit:
            return True
        for name in _child_fields(type(n)):
            v = getattr(n, name)
            if isinstance(v, tuple):
                stack.extend(item for item in v if _is_ir(item))
            elif _is_ir(v):
                stack.append(v)
    return False


def uses_symbol(node, sym) -> bool:
    return sym in free_symbols(node)
