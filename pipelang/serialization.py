"""Saving a Pipeline (algorithm and schedule) and loading it back:
`serialize_pipeline`, `deserialize_pipeline`, `deserialize_parameters`.

The format is pipelang's own: UTF-8 JSON (a `.hlpipe` file holds the same
bytes), not Halide's flatbuffers, so files do not move between the two
compilers. It stores every Func the outputs reach, with its definitions, its
schedule and its Tuple types; the IR of each expression node by node; the
Params (with their current values) and ImageParams by name and type; and
Buffers used by the algorithm with their data.

Symbols are written once, in a table, and referred to by index, so sharing
survives the trip; pure Vars come back as the Vars of the same name. A loaded
pipeline reads its Params and ImageParams through fresh objects, unless the
caller passes its own (`{name: param.parameter()}`), which lets it bind new
inputs:

    data, params = serialize_pipeline(p, get_params=True)   # params: name -> Parameter
    q = deserialize_pipeline(data, {"input": my_image_param.parameter()})
"""
from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
import json
import math
import os
import re

import numpy as np

from pipelang import ir
from pipelang.errors import HalideError

FORMAT = "pipelang.hlpipe"
VERSION = 1

__all__ = ["serialize_pipeline", "deserialize_pipeline", "deserialize_parameters", "SerializationError"]


class SerializationError(HalideError):
    """A pipeline that cannot be written, or data that is not a pipelang pipeline."""


# ---------------------------------------------------------------- types

_TYPE_RE = re.compile(r"(bool|int|uint|float|handle)(\d*)(?:x(\d+))?")


def _type_str(t: ir.Type) -> str:
    return f"{t.code().value}:{t.bits()}:{t.lanes()}"


def _type_of(s: str) -> ir.Type:
    code, bits, lanes = s.split(":")
    return ir.Type(ir.TypeCode(code), int(bits), int(lanes))


def _float(v: float):
    if math.isnan(v) or math.isinf(v):
        return {"float": repr(v)}
    return v


# ---------------------------------------------------------------- writing

class _Writer:
    def __init__(self):
        from pipelang.buffer import field_owner
        from pipelang.function import registry
        from pipelang.param import param_owner
        self.field_owner, self.registry, self.param_owner = field_owner, registry, param_owner
        self.sym_index: dict = {}
        self.symbols: list = []
        self.funcs: dict = {}          # Function symbol -> encoded Function (filled lazily)
        self.func_order: list = []
        self.params: dict = {}          # name -> Param or ImageParam

    # Symbols ---------------------------------------------------------

    def symbol(self, sym: ir.Symbol) -> int:
        i = self.sym_index.get(sym)
        if i is not None:
            return i
        entry = self._describe(sym)
        i = self.sym_index[sym] = len(self.symbols)
        self.symbols.append(entry)
        if entry["kind"] == "func":
            self.function(self.registry[sym])
        return i

    def _describe(self, sym: ir.Symbol) -> dict:
        from pipelang.buffer import Buffer
        from pipelang.param import ImageParam, Param
        from pipelang.var import var_symbol
        name = sym.name
        if sym is var_symbol(name):
            return {"kind": "var", "name": name}
        p = self.param_owner.get(sym)
        if isinstance(p, Param):
            self.params[p.name()] = p
            return {"kind": "param", "name": p.name(), "type": _type_str(p.type()), "value": _float(p.get())
                    if isinstance(p.get(), float) else p.get()}
        owner = self.field_owner.get(ir.buffer_host(sym)) if sym._fields else None
        if owner is not None and owner._sym is sym:
            if isinstance(owner, ImageParam):
                self.params[owner.name()] = owner
                return {"kind": "image", "name": owner.name(), "type": _type_str(owner.type()),
                        "dims": owner.dimensions()}
            if isinstance(owner, Buffer):
                arr = np.ascontiguousarray(np.asarray(owner))
                return {"kind": "buffer", "name": owner.name(), "type": _type_str(owner.type()),
                        "mins": list(owner._mins), "shape": list(arr.shape),
                        "data": base64.b64encode(arr.tobytes()).decode("ascii")}
        if sym in self.registry:
            return {"kind": "func", "name": name}
        parent = self._parent_of(sym)
        if parent is not None:
            psym, suffix = parent
            return {"kind": "field", "parent": self.symbol(psym), "suffix": suffix}
        return {"kind": "symbol", "name": name}

    def _parent_of(self, sym: ir.Symbol):
        owner = self.field_owner.get(sym)
        candidates = [owner._sym] if owner is not None else []
        candidates += [s for s in self.sym_index if s._fields]
        for psym in candidates:
            for suffix, fs in (psym._fields or {}).items():
                if fs is sym:
                    return psym, suffix
        return None

    # Values ----------------------------------------------------------

    def function(self, fn) -> int:
        """The symbol index of Function `fn`, encoding it (once) on first sight."""
        if fn.sym not in self.funcs:
            self.funcs[fn.sym] = None       # placeholder: stops recursion through self-references
            self.symbol(fn.sym)
            self.funcs[fn.sym] = {k: self.value(x) for k, x in _fields_of(fn).items() if k not in ("name", "sym")}
            self.func_order.append(fn.sym)
        return self.symbol(fn.sym)

    def value(self, v):
        from pipelang.func import Func
        from pipelang.function import Function
        from pipelang.schedule import LoopLevel
        if v is None or isinstance(v, (bool, int, str)):
            return v
        if isinstance(v, float):
            return _float(v)
        if isinstance(v, (np.integer, np.floating, np.bool_)):
            return self.value(v.item())
        if isinstance(v, ir.Type):
            return {"type": _type_str(v)}
        if isinstance(v, ir.Symbol):
            return {"sym": self.symbol(v)}
        if isinstance(v, Function):
            return {"function": self.function(v)}
        if isinstance(v, Func):
            return {"func_handle": self.function(v.function)}
        if isinstance(v, enum.Enum):
            return {"enum": _class_path(type(v)), "name": v.name}
        if isinstance(v, LoopLevel):
            return {"looplevel": v.kind.name, "func": None if v.func is None else self.function(v.func),
                    "var": v.var, "stage": v.stage_index}
        if isinstance(v, (list, tuple)):
            return {"list" if isinstance(v, list) else "tuple": [self.value(x) for x in v]}
        if isinstance(v, (set, frozenset)):
            return {"set": [self.value(x) for x in v]}
        if isinstance(v, dict):
            return {"dict": [[self.value(k), self.value(x)] for k, x in v.items()]}
        cls = type(v)
        if not cls.__module__.startswith("pipelang."):
            raise SerializationError(f"serialize_pipeline can't save a {cls.__module__}.{cls.__name__} "
                                     f"found in the pipeline")
        return {"obj": _class_path(cls), "fields": {k: self.value(x) for k, x in _fields_of(v).items()}}


def _class_path(cls) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _fields_of(obj) -> dict:
    if dataclasses.is_dataclass(obj):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)
                if f.init or not isinstance(obj, ir.Expr)}
    out = {}
    for klass in type(obj).__mro__:
        for s in getattr(klass, "__slots__", ()):
            if s != "__weakref__" and hasattr(obj, s):
                out[s] = getattr(obj, s)
    out.update(getattr(obj, "__dict__", {}))
    return out


def _encode(pipeline) -> tuple[bytes, dict]:
    from pipelang.pipeline import Pipeline
    if not isinstance(pipeline, Pipeline):
        raise SerializationError(f"serialize_pipeline takes a Pipeline, not {type(pipeline).__name__}")
    w = _Writer()
    outputs = [w.function(f.function) for f in pipeline.outputs()]
    doc = {"format": FORMAT, "version": VERSION, "symbols": w.symbols,
           "funcs": [[w.sym_index[s], w.funcs[s]] for s in w.func_order], "outputs": outputs}
    data = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    params = {name: p.parameter() for name, p in sorted(w.params.items())}
    return data, params


# ---------------------------------------------------------------- reading

class _Reader:
    def __init__(self, doc: dict, user_params: dict | None):
        self.doc = doc
        self.user = dict(user_params or {})
        self.syms: list = [None] * len(doc["symbols"])
        self.functions: dict = {}      # symbol index -> Function

    def symbol(self, i: int) -> ir.Symbol:
        sym = self.syms[i]
        if sym is None:
            sym = self.syms[i] = self._make(self.doc["symbols"][i])
        return sym

    def _make(self, e: dict) -> ir.Symbol:
        from pipelang.buffer import Buffer
        from pipelang.param import ImageParam, Param
        from pipelang.var import var_symbol
        kind = e["kind"]
        if kind == "var":
            return var_symbol(e["name"])
        if kind in ("param", "image"):
            given = self.user.get(e["name"])
            if given is not None:
                return _owner_of(given, e)._sym
            t = _type_of(e["type"])
            if kind == "param":
                return Param(t, e["name"], _read_float(e["value"]))._sym
            return ImageParam(t, e["dims"], e["name"])._sym
        if kind == "buffer":
            t = _type_of(e["type"])
            raw = base64.b64decode(e["data"])
            arr = np.frombuffer(raw, dtype=t.numpy_dtype()).reshape(e["shape"]).copy()
            b = Buffer(arr, e["name"])
            b.set_min(e["mins"])
            return b._sym
        if kind == "field":
            return self.symbol(e["parent"]).field(e["suffix"])
        if kind in ("func", "symbol"):
            return ir.Symbol(e["name"])
        raise SerializationError(f"unknown symbol kind {kind!r} in the pipeline data")

    def function(self, i: int):
        fn = self.functions.get(i)
        if fn is None:
            raise SerializationError(f"the pipeline data refers to Func {i} without defining it")
        return fn

    def value(self, v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            raise SerializationError("malformed pipeline data (a bare list)")
        (tag, body), = [(k, x) for k, x in v.items() if k in _TAGS] or [(None, None)]
        if tag == "float":
            return float(body)
        if tag == "type":
            return _type_of(body)
        if tag == "sym":
            return self.symbol(body)
        if tag == "function":
            return self.function(body)
        if tag == "func_handle":
            from pipelang.func import Func
            f = Func()
            f.function = self.function(body)
            return f
        if tag == "enum":
            return getattr(_load_class(body), v["name"])
        if tag == "looplevel":
            from pipelang.schedule import LoopLevel, LoopLevelKind
            lvl = LoopLevel()
            lvl.kind = LoopLevelKind[body]
            if v["func"] is not None:
                lvl.func = self.function(v["func"])
            lvl.var, lvl.stage_index = v["var"], v["stage"]
            return lvl
        if tag == "list":
            return [self.value(x) for x in body]
        if tag == "tuple":
            return tuple(self.value(x) for x in body)
        if tag == "set":
            return {self.value(x) for x in body}
        if tag == "dict":
            return {self.value(k): self.value(x) for k, x in body}
        if tag == "obj":
            cls = _load_class(body)
            fields = {k: self.value(x) for k, x in v["fields"].items()}
            return _construct(cls, fields)
        raise SerializationError(f"malformed pipeline data: {str(v)[:80]}")

    def load(self):
        from pipelang.function import Function
        from pipelang.pipeline import Pipeline
        from pipelang.func import Func
        # Make every Function first (empty), so schedules and calls can refer to any of them.
        for i, enc in self.doc["funcs"]:
            sym = self.symbol(i)
            self.functions[i] = Function(sym.name, sym)
        for i, enc in self.doc["funcs"]:
            fn = self.functions[i]
            for k, x in enc.items():
                setattr(fn, k, self.value(x))
        outs = []
        for i in self.doc["outputs"]:
            f = Func()
            f.function = self.functions[i]
            outs.append(f)
        from pipelang.function import touch
        touch()
        return Pipeline(outs)

    def parameters(self) -> dict:
        out = {}
        for i, e in enumerate(self.doc["symbols"]):
            if e["kind"] in ("param", "image"):
                sym = self.symbol(i)
                out[e["name"]] = _parameter_of_symbol(sym)
        return dict(sorted(out.items()))


_TAGS = ("float", "type", "sym", "function", "func_handle", "enum", "looplevel", "list", "tuple", "set",
         "dict", "obj")


def _read_float(v):
    return float(v["float"]) if isinstance(v, dict) else v


def _load_class(path: str):
    module, _, qual = path.partition(":")
    if not module.startswith("pipelang.") and module != "pipelang":
        raise SerializationError(f"the pipeline data names a class outside pipelang: {path}")
    obj = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


def _construct(cls, fields: dict):
    if dataclasses.is_dataclass(cls):
        init = {f.name: fields[f.name] for f in dataclasses.fields(cls) if f.init and f.name in fields}
        obj = cls(**init)
        for f in dataclasses.fields(cls):
            if not f.init and f.name in fields and not issubclass(cls, ir.Expr):
                object.__setattr__(obj, f.name, fields[f.name])
        return obj
    obj = cls.__new__(cls)
    for k, x in fields.items():
        object.__setattr__(obj, k, x)
    return obj


def _owner_of(parameter, entry: dict):
    from pipelang.param import ImageParam, Param, Parameter
    owner = parameter.owner() if isinstance(parameter, Parameter) else parameter
    want = Param if entry["kind"] == "param" else ImageParam
    if not isinstance(owner, want):
        raise SerializationError(f"the parameter given for {entry['name']!r} is not "
                                 f"{'a scalar Param' if want is Param else 'an ImageParam'}")
    if _type_str(owner.type()) != entry["type"]:
        raise SerializationError(f"the parameter given for {entry['name']!r} has type {owner.type()}, "
                                 f"but the pipeline was saved with {_type_of(entry['type'])}")
    return owner


def _parameter_of_symbol(sym: ir.Symbol):
    from pipelang.buffer import field_owner
    from pipelang.param import param_owner
    owner = param_owner.get(sym)
    if owner is None:
        owner = field_owner.get(ir.buffer_host(sym))
    return owner.parameter()


def _decode(data) -> dict:
    try:
        doc = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SerializationError(f"not a pipelang pipeline ({e.__class__.__name__}: {e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SerializationError("not a pipelang pipeline (no pipelang.hlpipe header)")
    if doc.get("version") != VERSION:
        raise SerializationError(f"pipeline data of format version {doc.get('version')}; this "
                                 f"pipelang reads version {VERSION}")
    return doc


def _read_source(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as fh:
                return fh.read()
        except OSError as e:
            raise SerializationError(f"can't read pipeline file {os.fspath(source)}: {e.strerror}") from None
    raise SerializationError(f"deserialize_pipeline takes bytes or a filename, not {type(source).__name__}")


# ---------------------------------------------------------------- public API

def serialize_pipeline(pipeline, filename=None, get_params: bool = False):
    """Save `pipeline`. With a filename, write it there (returning the
    Parameters if `get_params`); without, return the bytes (and the
    Parameters as `(data, params)` if `get_params`)."""
    data, params = _encode(pipeline)
    if filename is None:
        return (data, params) if get_params else data
    with open(filename, "wb") as fh:
        fh.write(data)
    return params if get_params else None


def deserialize_pipeline(source, user_params: dict | None = None):
    """A Pipeline from bytes or a file written by `serialize_pipeline`;
    `user_params` maps Param/ImageParam names to Parameters to read instead."""
    return _Reader(_decode(_read_source(source)), user_params).load()


def deserialize_parameters(source) -> dict:
    """The Params and ImageParams (name -> Parameter) a saved pipeline reads."""
    return _Reader(_decode(_read_source(source)), None).parameters()
