"""A structural digest of a pipeline's front end: its algorithm and schedule.

The compile cache looks compiled code up by this digest, so that a hit
needs no lowering: it must cover everything lowering reads. It is taken
generically -- every field of every definition, schedule directive and IR
node, walked as data -- so a new schedule field is covered without a
change here; an object of a kind not known below makes the pipeline
unkeyable (`Unkeyable`), and it is compiled, never guessed at.

Symbols are numbered in order of first appearance (with their names,
which reach error messages), so the same program built in another process
gets the same digest. A `Fingerprint` also maps those numbers back to this
process's symbols, to rebuild IR saved beside cached code
(`encode_exprs` / `decode_exprs`).
"""
from __future__ import annotations

import dataclasses
import enum
import hashlib
import marshal
import operator

from pipelang import ir
from pipelang.ir.types import Type, TypeCode


class Unkeyable(Exception):
    """The pipeline holds something the fingerprint can't describe."""


_NODE_CLASSES = {c.__name__: c for c in vars(ir.nodes).values()
                 if isinstance(c, type) and issubclass(c, (ir.Expr, ir.Stmt))
                 and dataclasses.is_dataclass(c)}


# Values written into the digest as they are (their reprs tell them apart:
# 1, True, 1.0, '1' and None all differ).
_PLAIN = frozenset((type(None), bool, int, float, str))


class Fingerprint:
    """The digest's input is a flat list: plain values (None, bools, ints,
    floats, strings) as they are, and for everything else tuples, which no
    plain value is, so that the list reads back one way only: a node writes
    ("D" + its class name,), then its fields; a list or tuple ("[", n), a
    dict ("{", n), then their items; a Type (code, bits, lanes); a Symbol
    ("S", number), or the first time ("S=", name, number); an enum member
    ("E" + class.member,). Every node class gets its own writer (made once),
    so that walking a deep pipeline's definitions costs a few function calls
    per node."""

    def __init__(self):
        self._out: list = []
        self.symbols: list = []          # index -> Symbol
        self.index: dict = {}           # Symbol -> index
        self.add = _writer(self)
        self._digest = (0, None)       # (length of the list, its digest), once asked for

    def digest(self) -> str:
        """The digest of what was added so far. (Kept: a cache hit asks
        twice, for the key and for the Pipeline's identity, and a deep
        pipeline's list takes a millisecond to hash. The list only grows,
        so its length tells whether the kept digest is still its digest.)"""
        n, digest = self._digest
        if digest is None or n != len(self._out):
            # marshal's format 2 writes each value with its type and no
            # back-references (those of later formats depend on reference
            # counts): the same list, the same bytes, in a third of repr's time.
            digest = hashlib.sha256(marshal.dumps(self._out, 2)).hexdigest()
            self._digest = (len(self._out), digest)
        return digest

    # ------------------------------------------------------------ IR beside the code

    def _sym_ref(self, s, paths: dict):
        if s in self.index:
            return self.index[s]
        if s in paths:
            return paths[s]
        raise Unkeyable(f"symbol {s.name} is not reachable from the front end")

    def encode_exprs(self, exprs) -> list:
        """JSON-able form of Exprs (or None) whose symbols are front-end
        symbols or their fields."""
        paths = {}
        for i, s in enumerate(self.symbols):
            _field_paths(s, [i], paths)
        # Symbols a Let in the expressions binds (bounds inference names large
        # intermediate bounds so): written by position and name, made anew
        # when decoded.
        local: dict = {}

        def enc(e):
            if e is None:
                return None
            if isinstance(e, ir.Let) and e.sym not in local:
                local[e.sym] = len(local)
            if isinstance(e, ir.Symbol):
                if e in local:
                    return {"l": [local[e], e.name]}
                return {"s": self._sym_ref(e, paths)}
            if isinstance(e, Type):
                return {"t": [e.code().value, e.bits(), e.lanes()]}
            if isinstance(e, enum.Enum):
                return {"e": [type(e).__name__, e.value]}
            if isinstance(e, (list, tuple)):
                return [enc(x) for x in e]
            if isinstance(e, (bool, int, float, str)):
                return e
            name = type(e).__name__
            if name not in _NODE_CLASSES:
                raise Unkeyable(f"can't encode a {name}")
            return {"n": name, "f": [enc(getattr(e, f.name)) for f in dataclasses.fields(e)
                                     if f.init]}
        return [enc(e) for e in exprs]

    def decode_exprs(self, data: list) -> list:
        enums = {c.__name__: c for c in vars(ir.nodes).values()
                 if isinstance(c, type) and issubclass(c, enum.Enum)}

        local: dict = {}

        def sym(ref):
            if isinstance(ref, int):
                return self.symbols[ref]
            s = self.symbols[ref[0]]
            for suffix in ref[1:]:
                s = s.field(suffix)
            return s

        def dec(v):
            if isinstance(v, list):
                return tuple(dec(x) for x in v)
            if not isinstance(v, dict):
                return v
            if "s" in v:
                return sym(v["s"])
            if "l" in v:
                index, name = v["l"]
                if index not in local:
                    local[index] = ir.Symbol(name)
                return local[index]
            if "t" in v:
                code, bits, lanes = v["t"]
                return Type(TypeCode(code), bits, lanes)
            if "e" in v:
                return enums[v["e"][0]](v["e"][1])
            return _NODE_CLASSES[v["n"]](*[dec(x) for x in v["f"]])
        return [dec(v) for v in data]


# type -> writer(v, add, append) for every kind of value but plain values
# and Symbols (whose numbers are the fingerprint's own); filled as kinds are met.
_WRITERS: dict = {}


def _writer(fp: Fingerprint):
    """`fp`'s `add(value)`: writes `value` into `fp`."""
    out, index, symbols = fp._out, fp.index, fp.symbols
    append = out.append
    plain, writers, symbol, type_ = _PLAIN, _WRITERS, ir.Symbol, Type

    def add(v) -> None:
        t = type(v)
        if t in plain:
            append(v)
        elif t is symbol:
            i = index.get(v)
            if i is None:
                i = index[v] = len(symbols)
                symbols.append(v)
                append(("S=", v.name, i))
            else:
                append(("S", i))
        elif t is type_:
            append((v._code._value_, v.nbits, v.nlanes))
        else:
            w = writers.get(t)
            if w is None:
                w = writers[t] = _new_writer(t)
            w(v, add, append)
    return add


def _sequence_writer(v, add, append, plain=_PLAIN) -> None:
    append(("[", len(v)))
    for x in v:
        if type(x) in plain:
            append(x)
        else:
            add(x)


def _dict_writer(v, add, append) -> None:
    append(("{", len(v)))
    for k, x in v.items():
        add(k)
        add(x)


def _loop_level_writer(v, add, append) -> None:
    append(("L",))
    add(v.kind)
    add(v.func)
    add(v.var)
    add(v.stage_index)


def _function_writer(v, add, append) -> None:
    append(("F",))              # a reference; bodies are added by `pipeline`
    add(v.sym)


def _new_writer(t: type):
    """The writer of values of exact type `t`; Unkeyable if there is none."""
    if issubclass(t, enum.Enum):
        tokens = {m: (f"E{t.__name__}.{m.name}",) for m in t}
        return lambda v, add, append: append(tokens[v])
    if issubclass(t, (list, tuple)):
        return _sequence_writer
    if issubclass(t, dict):
        return _dict_writer
    if _is_function_type(t):
        return _function_writer
    if dataclasses.is_dataclass(t):
        return _dataclass_writer(t)
    if t.__name__ == "LoopLevel":
        return _loop_level_writer
    raise Unkeyable(f"can't fingerprint a {t.__name__}")


def _dataclass_writer(t: type):
    """A writer for dataclass `t`: its class name, then each field, plain
    values written inline (most fields of IR nodes are). (A closure, not
    generated source: a cache hit in a new process makes some forty.)"""
    token = ("D" + t.__name__,)
    names = [f.name for f in dataclasses.fields(t)]
    if len(names) == 1:
        get_one = operator.attrgetter(names[0])
        get = lambda v: (get_one(v),)
    else:
        get = operator.attrgetter(*names) if names else (lambda v: ())

    def write(v, add, append, plain=_PLAIN, type_=Type) -> None:
        append(token)
        for x in get(v):
            t = type(x)
            if t in plain:
                append(x)
            elif t is type_:            # (as `add` writes one, without the call)
                append((x._code._value_, x.nbits, x.nlanes))
            else:
                add(x)
    return write


def _field_paths(s, prefix: list, paths: dict) -> None:
    fields = s._fields
    if not fields:
        return
    for suffix, child in fields.items():
        if child not in paths:
            path = prefix + [suffix]
            paths[child] = path
            _field_paths(child, path, paths)


def _is_function_type(t: type) -> bool:
    from pipelang.function import Function
    return issubclass(t, Function)


_FUNCTION_FIELDS: dict = {}


def pipeline(order: list, outputs: list, arguments, name: str) -> Fingerprint:
    """The fingerprint of the Functions `order` (every Function the outputs
    reach), the outputs, and the inputs and Params the pipeline takes."""
    fp = Fingerprint()
    fp.add(name)
    fp.add([fn.sym for fn in outputs])
    add = fp.add
    for fn in order:
        add("function")
        names = _FUNCTION_FIELDS.get(type(fn))
        if names is None:
            names = _FUNCTION_FIELDS[type(fn)] = tuple(f.name for f in dataclasses.fields(fn))
        for name in names:
            add(getattr(fn, name))
    from pipelang.buffer import Buffer
    for sym, owner in arguments.inputs.items():
        fp.add("input")
        fp.add(sym)
        fp.add(type(owner).__name__)
        fp.add(owner.name())
        fp.add(owner.type())
        fp.add(owner.dimensions())
        fp.add(getattr(owner, "_constraints", None))    # checked by the compiled code
        if isinstance(owner, Buffer):
            # Lowering compiles an embedded Buffer's shape in as constants.
            fp.add(sym in arguments.strided_buffers())
            fp.add([(owner.dim(d).min(), owner.dim(d).extent(), owner.dim(d).stride())
                    for d in range(owner.dimensions())])
    for sym, p in arguments.params.items():
        fp.add("param")
        fp.add(sym)
        fp.add(p.name())
        fp.add(p.type())
    return fp
