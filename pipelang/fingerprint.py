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

from pipelang import ir
from pipelang.ir.types import Type, TypeCode


class Unkeyable(Exception):
    """The pipeline holds something the fingerprint can't describe."""


_NODE_CLASSES = {c.__name__: c for c in vars(ir.nodes).values()
                 if isinstance(c, type) and issubclass(c, (ir.Expr, ir.Stmt))
                 and dataclasses.is_dataclass(c)}


_KINDS = {type(None): 1, bool: 1, int: 1, str: 1, ir.Symbol: 2, Type: 3}
_KINDS.update({c: 4 for c in _NODE_CLASSES.values()})
_FIELDS: dict = {}


def _node_fields(cls) -> tuple:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


class Fingerprint:
    def __init__(self):
        self._out: list = []
        self.symbols: list = []          # index -> Symbol
        self.index: dict = {}           # Symbol -> index

    def digest(self) -> str:
        return hashlib.sha256("\x1f".join(self._out).encode()).hexdigest()

    # ------------------------------------------------------------ writing

    def _sym(self, s) -> None:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.symbols)
            self.symbols.append(s)
            self._out.append(f"S{i}={s.name}")
        else:
            self._out.append(f"S{i}")

    def add(self, v) -> None:
        out = self._out
        kind = _KINDS.get(type(v))
        if kind is not None:                     # the common kinds, without the chain below
            if kind == 1:
                out.append(f"{type(v).__name__}:{v!r}")
                return
            if kind == 2:
                self._sym(v)
                return
            if kind == 3:
                out.append(f"T{v.code().value}{v.bits()}x{v.lanes()}")
                return
            if kind == 4:
                out.append(f"D{type(v).__name__}")
                for name in _node_fields(type(v)):
                    self.add(getattr(v, name))
                return
        if v is None or isinstance(v, (bool, int, str)):
            out.append(f"{type(v).__name__}:{v!r}")
        elif isinstance(v, float):
            out.append(f"f:{v.hex()}")
        elif isinstance(v, ir.Symbol):
            self._sym(v)
        elif isinstance(v, Type):
            out.append(f"T{v.code().value}{v.bits()}x{v.lanes()}")
        elif isinstance(v, enum.Enum):
            out.append(f"E{type(v).__name__}.{v.name}")
        elif isinstance(v, (list, tuple)):
            out.append(f"[{len(v)}")
            for x in v:
                self.add(x)
        elif isinstance(v, dict):
            out.append(f"{{{len(v)}")
            for k, x in v.items():
                self.add(k)
                self.add(x)
        elif _is_function(v):
            out.append("F")                 # a reference; bodies are added by `pipeline`
            self._sym(v.sym)
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            out.append(f"D{type(v).__name__}")
            for f in dataclasses.fields(v):
                self.add(getattr(v, f.name))
        elif type(v).__name__ == "LoopLevel":
            out.append("L")
            for name in ("kind", "func", "var", "stage_index"):
                self.add(getattr(v, name))
        else:
            raise Unkeyable(f"can't fingerprint a {type(v).__name__}")

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


def _field_paths(s, prefix: list, paths: dict) -> None:
    fields = s._fields
    if not fields:
        return
    for suffix, child in fields.items():
        if child not in paths:
            path = prefix + [suffix]
            paths[child] = path
            _field_paths(child, path, paths)


def _is_function(v) -> bool:
    from pipelang.function import Function
    return isinstance(v, Function)


def pipeline(order: list, outputs: list, arguments, name: str) -> Fingerprint:
    """The fingerprint of the Functions `order` (every Function the outputs
    reach), the outputs, and the inputs and Params the pipeline takes."""
    fp = Fingerprint()
    fp.add(name)
    fp.add([fn.sym for fn in outputs])
    for fn in order:
        fp.add("function")
        for f in dataclasses.fields(fn):
            fp.add(getattr(fn, f.name) if f.name != "sym" else fn.sym)
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
