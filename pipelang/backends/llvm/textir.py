"""LLVM IR built directly as text: the subset of llvmlite.ir that codegen uses.

Codegen builds a module once and hands its text to LLVM's parser; it never
inspects what it built. llvmlite.ir's object graph (an instruction object
with operand lists, name scopes and cached strings, then a second walk to
print it) took most of codegen's time on the deep pipelines, and its
millions of objects made the garbage collector scan the heap again and
again. Here an instruction is one line appended to its block, and a value
is its type and the text that refers to it.

The API mirrors llvmlite.ir's names and arguments (types, `Constant`,
`Module`, `Function`, `GlobalVariable`, `IRBuilder` with `if_then` and
`if_else`), so the code generator reads as llvmlite code, and the text is
what llvmlite would print up to value names. Types are interned (one
instance per type, also when threads compile at once): compare them with
`==` or `is`.
"""
from __future__ import annotations

import contextlib
import struct


# ------------------------------------------------------------------ types

class Type:
    __slots__ = ("s",)

    def __str__(self):
        return self.s

    def as_pointer(self):
        return PointerType()


class IntType(Type):
    __slots__ = ("width",)
    _cache: dict = {}

    def __new__(cls, width: int):
        t = cls._cache.get(width)
        if t is None:
            t = object.__new__(cls)
            t.width, t.s = width, f"i{width}"
            t = cls._cache.setdefault(width, t)
        return t


class _FloatBase(Type):
    __slots__ = ()
    _instances: dict = {}

    def __new__(cls):
        t = cls._instances.get(cls)
        if t is None:
            t = object.__new__(cls)
            t.s = cls._text
            t = cls._instances.setdefault(cls, t)
        return t


class HalfType(_FloatBase):
    __slots__ = ()
    _text, _bits = "half", 16


class FloatType(_FloatBase):
    __slots__ = ()
    _text, _bits = "float", 32


class DoubleType(_FloatBase):
    __slots__ = ()
    _text, _bits = "double", 64


class PointerType(Type):
    """An opaque pointer (`ptr`)."""
    __slots__ = ()
    _instance = None

    def __new__(cls, *_):
        if cls._instance is None:
            cls._instance = object.__new__(cls)
            cls._instance.s = "ptr"
        return cls._instance


class VoidType(Type):
    __slots__ = ()
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = object.__new__(cls)
            cls._instance.s = "void"
        return cls._instance


class _SequenceType(Type):
    """A vector or array type: `count` of `element`, interned per class."""
    __slots__ = ("element", "count")

    def __new__(cls, element: Type, count: int):
        key = (element, count)
        t = cls._cache.get(key)
        if t is None:
            t = object.__new__(cls)
            t.element, t.count = element, count
            t.s = cls._format.format(count=count, element=element.s)
            t = cls._cache.setdefault(key, t)
        return t


class VectorType(_SequenceType):
    __slots__ = ()
    _cache: dict = {}
    _format = "<{count} x {element}>"


class ArrayType(_SequenceType):
    __slots__ = ()
    _cache: dict = {}
    _format = "[{count} x {element}]"


class LiteralStructType(Type):
    __slots__ = ("elements",)
    _cache: dict = {}

    def __new__(cls, elements):
        key = tuple(elements)
        t = cls._cache.get(key)
        if t is None:
            t = object.__new__(cls)
            t.elements = key
            t.s = "{" + ", ".join(e.s for e in key) + "}"
            t = cls._cache.setdefault(key, t)
        return t


class IdentifiedStructType(Type):
    """A named struct type, `%"name" = type {...}`, defined once in the
    module and referred to by its name: a parallel task's closure, whose
    type every access to one of its fields repeats (a fifth of a kilobyte
    of text each for local_laplacian's larger closures, 8% of its IR). Not
    interned: the module holds its definition."""
    __slots__ = ("name", "elements")

    def __init__(self, module: "Module", name: str, elements):
        self.name, self.elements = name, tuple(elements)
        self.s = f'%"{name}"'
        module._add_type(self)

    def definition(self) -> str:
        return f"{self.s} = type {{{', '.join(e.s for e in self.elements)}}}\n"


class FunctionType(Type):
    __slots__ = ("return_type", "args", "var_arg")

    def __init__(self, return_type: Type, args, var_arg: bool = False):
        self.return_type, self.args, self.var_arg = return_type, tuple(args), var_arg
        params = ", ".join([a.s for a in self.args] + (["..."] if var_arg else []))
        self.s = f"{return_type.s} ({params})"


_I1, _I32 = IntType(1), IntType(32)
_PTR = PointerType()
VoidType()
for _t in (HalfType, FloatType, DoubleType):
    _t()


# ------------------------------------------------------------------ values

class Value:
    """Something an instruction can use: its type and how it is referred to."""
    __slots__ = ("type", "ref")

    def __init__(self, typ: Type, ref: str):
        self.type, self.ref = typ, ref

    def __str__(self):
        return f"{self.type.s} {self.ref}"


def _float_text(typ, value) -> str:
    # LLVM wants the double whose value the constant has, in hex (as llvmlite).
    if typ._bits == 32:
        value = struct.unpack("f", struct.pack("f", value))[0]
    elif typ._bits == 16:
        value = struct.unpack("e", struct.pack("e", value))[0]
    return f"0x{struct.unpack('Q', struct.pack('d', float(value)))[0]:016X}"


def _escape(data) -> str:
    return "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else f"\\{c:02x}" for c in data)


def _constant_text(typ: Type, value) -> str:
    cls = type(typ)
    if cls is IntType:
        if value is None:
            return "0"
        return ("true" if value else "false") if isinstance(value, bool) else str(int(value))
    if isinstance(typ, _FloatBase):
        return _float_text(typ, 0.0 if value is None else value)
    if cls is PointerType:
        assert value is None, value
        return "null"
    if value is None:
        return "zeroinitializer"
    if cls is ArrayType and isinstance(value, (bytes, bytearray)):
        return f'c"{_escape(value)}"'
    if cls in (VectorType, ArrayType):
        elem = typ.element
        items = ", ".join(str(v) if isinstance(v, Value) else f"{elem.s} {_constant_text(elem, v)}"
                          for v in value)
        return f"<{items}>" if cls is VectorType else f"[{items}]"
    if cls is LiteralStructType:
        return "{" + ", ".join(str(v) if isinstance(v, Value) else f"{t.s} {_constant_text(t, v)}"
                               for t, v in zip(typ.elements, value)) + "}"
    raise TypeError(f"no constant of type {typ}")


class Constant(Value):
    """A constant of `typ`: None is zero (null, zeroinitializer); a vector or
    array takes a list of element values."""
    __slots__ = ()

    def __init__(self, typ: Type, value):
        self.type, self.ref = typ, _constant_text(typ, value)

    @classmethod
    def text(cls, typ: Type, ref: str) -> "Constant":
        """A constant written as given (`poison`, `splat (i32 0)`)."""
        c = object.__new__(cls)
        c.type, c.ref = typ, ref
        return c


class Instruction(Value):
    """An instruction's result (or a void instruction), metadata attachable."""
    __slots__ = ("lines", "index")

    def set_metadata(self, kind: str, md: "MDValue") -> None:
        self.lines[self.index] += f", !{kind} {md.ref}"


class MDValue:
    __slots__ = ("ref",)

    def __init__(self, ref: str):
        self.ref = ref


class _Phi:
    """A phi node: rendered when the module is printed, after every incoming
    edge (the back edge of a loop comes last) has been added."""
    __slots__ = ("value", "incoming")

    def __init__(self, value):
        self.value, self.incoming = value, []

    def __str__(self):
        edges = ", ".join(f"[{v.ref}, %{b.label}]" for v, b in self.incoming)
        return f"{self.value.ref} = phi {self.value.type.s} {edges}"


class Phi(Value):
    __slots__ = ("node",)

    def add_incoming(self, value: Value, block: "Block") -> None:
        self.node.incoming.append((value, block))


class _Alloca:
    __slots__ = ("value", "typ", "size", "align")

    def __str__(self):
        size = f", {self.size}" if self.size is not None else ""
        align = f", align {self.align}" if self.align else ""
        return f"{self.value.ref} = alloca {self.typ.s}{size}{align}"


class Alloca(Value):
    __slots__ = ("node",)

    @property
    def align(self):
        return self.node.align

    @align.setter
    def align(self, n):
        self.node.align = n


class Block:
    """A basic block. `idom` (its immediate dominator) and `depth` (in the
    dominator tree) are set when the builder first enters it: codegen's
    control flow is structured, so by then every edge into it except loop
    back edges (which come from blocks it dominates) exists, and its
    immediate dominator is the nearest common dominator of those."""
    __slots__ = ("label", "lines", "is_terminated", "name", "fn", "preds", "idom", "depth")

    def __init__(self, fn: "Function", label: str, name: str):
        self.fn, self.label, self.name, self.lines, self.is_terminated = fn, label, name, [], False
        self.preds: list = []
        self.idom = None
        self.depth = -1         # not entered yet

    def _enter(self) -> None:
        idom = None
        for p in self.preds:
            if p.depth < 0:
                continue        # (a block never entered cannot branch here)
            if idom is None:
                idom = p
                continue
            a, b = idom, p
            while a is not b:
                if a.depth >= b.depth:
                    a = a.idom
                else:
                    b = b.idom
                if a is None or b is None:
                    break
            idom = a if a is b else None
            if idom is None:
                break
        self.idom = idom
        self.depth = 0 if idom is None else idom.depth + 1

    def dominated_by(self, other: "Block") -> bool:
        """Whether every path from the function's first block here passes `other`."""
        b, depth = self, other.depth
        while b is not None and b.depth > depth:
            b = b.idom
        return b is other


class Argument(Value):
    __slots__ = ("fn", "attrs", "_name")

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, name):
        self._name = name
        self.ref = self.fn._unique(name)

    def add_attribute(self, attr: str) -> None:
        self.attrs.append(attr)


class _Attributes(list):
    def add(self, attr: str) -> None:
        if attr not in self:
            self.append(attr)


def _quote(name: str) -> str:
    return f'"{name}"'


class Function(Value):
    """A function of `module`: a declaration until blocks are appended.
    As an operand it is a pointer (`ptr @name`)."""
    __slots__ = ("module", "ftype", "name", "args", "blocks", "attributes", "linkage", "_names",
                 "_count")

    def __init__(self, module: "Module", ftype: FunctionType, name: str):
        self.module, self.ftype, self.name = module, ftype, name
        self.type, self.ref = _PTR, "@" + _quote(name)
        self.blocks: list = []
        self.attributes = _Attributes()
        self.linkage = ""
        self._names: dict = {}
        self._count = 0
        self.args = []
        for i, t in enumerate(ftype.args):
            a = Argument(t, "")
            a.fn, a.attrs, a._name = self, [], ""
            a.ref = self.temp()
            self.args.append(a)
        module._add(name, self)

    @property
    def return_value_type(self):
        return self.ftype.return_type

    def temp(self) -> str:
        self._count += 1
        return f"%.{self._count}"

    def _unique(self, name: str, sigil: str = "%") -> str:
        """A name of this function's scope (values and labels share it)."""
        n = self._names.get(name)
        if n is None:
            self._names[name] = 0
            return sigil + _quote(name)
        while True:
            n += 1
            candidate = f"{name}.{n}"
            if candidate not in self._names:
                self._names[name] = n
                self._names[candidate] = 0
                return sigil + _quote(candidate)

    def append_basic_block(self, name: str = "") -> Block:
        label = self._unique(name or "bb", "")
        b = Block(self, label, name)
        self.blocks.append(b)
        return b

    def __str__(self):
        ft = self.ftype
        params = []
        for a, t in zip(self.args, ft.args):
            attrs = "".join(f" {x}" for x in a.attrs)
            params.append(f"{t.s}{attrs} {a.ref}" if self.blocks else f"{t.s}{attrs}")
        if ft.var_arg:
            params.append("...")
        attrs = "".join(f" {x}" for x in self.attributes)
        head = f"{ft.return_type.s} {self.ref}({', '.join(params)}){attrs}"
        if not self.blocks:
            return f"declare {head}\n"
        linkage = f"{self.linkage} " if self.linkage else ""
        out = [f"define {linkage}{head}", "{"]
        for b in self.blocks:
            out.append(f"{b.label}:")
            out.extend("  " + (x if type(x) is str else str(x)) for x in b.lines)
        out.append("}\n")
        return "\n".join(out)


class GlobalVariable(Value):
    __slots__ = ("module", "value_type", "name", "linkage", "initializer", "global_constant",
                 "align")

    def __init__(self, module: "Module", typ: Type, name: str):
        self.module, self.value_type, self.name = module, typ, name
        self.type, self.ref = _PTR, "@" + _quote(name)
        self.linkage, self.initializer, self.global_constant, self.align = "", None, False, None
        module._add(name, self)

    def __str__(self):
        linkage = f"{self.linkage} " if self.linkage else ""
        kind = "constant" if self.global_constant else "global"
        init = self.initializer.ref if self.initializer is not None else (
            "zeroinitializer" if self.linkage != "external" else "")
        align = f", align {self.align}" if self.align else ""
        return f"{self.ref} = {linkage}{kind} {self.value_type.s} {init}{align}\n"


class Module:
    def __init__(self, name: str = ""):
        self.name = name
        self.globals: dict = {}
        self._order: list = []
        self._metadata: list = []
        self._md_cache: dict = {}
        self._types: dict = {}          # IdentifiedStructType by name

    def _add_type(self, t: IdentifiedStructType) -> None:
        assert t.name not in self._types, f"type {t.name} is defined twice"
        self._types[t.name] = t

    def _add(self, name, g):
        assert name not in self.globals, f"{name} is defined twice"
        self.globals[name] = g
        self._order.append(g)

    def get_unique_name(self, name: str) -> str:
        if name not in self.globals:
            return name
        k = 1
        while f"{name}.{k}" in self.globals:
            k += 1
        return f"{name}.{k}"

    def add_metadata(self, operands) -> MDValue:
        parts = []
        for op in operands:
            if isinstance(op, str):
                parts.append(f'!"{_escape(op.encode())}"')
            elif isinstance(op, MDValue):
                parts.append(op.ref)
            else:
                parts.append(str(op))
        text = "!{" + ", ".join(parts) + "}"
        md = self._md_cache.get(text)
        if md is None:
            md = self._md_cache[text] = MDValue(f"!{len(self._metadata)}")
            self._metadata.append(text)
        return md

    def release(self) -> None:
        """Break the module's reference cycles (a function and its blocks
        and arguments, a block and its dominator and predecessors, a phi or
        an alloca and its line) once it has been printed, so that reference
        counting frees it at once. Left to the cycle collector, its objects
        (2,500 on local_laplacian) made the first collection after a compile
        take 6 ms. Nothing can be printed or built in the module after."""
        for g in self._order:
            g.module = None
            if type(g) is Function:
                for b in g.blocks:
                    for line in b.lines:
                        if type(line) is not str:
                            line.value = None       # a _Phi's or an _Alloca's
                    b.lines = b.preds = b.fn = b.idom = None
                for a in g.args:
                    a.fn = None
                g.blocks = []
        self.globals = {}
        self._order = []

    def __str__(self):
        out = [f'; ModuleID = "{self.name}"\n']
        if self._types:
            out.append("".join(t.definition() for t in self._types.values()))
        out += [str(g) for g in self._order if isinstance(g, GlobalVariable)]
        out += [str(g) for g in self._order if isinstance(g, Function)]
        out += [f"!{i} = {text}\n" for i, text in enumerate(self._metadata)]
        return "\n".join(out)


# ------------------------------------------------------------------ builder

_ICMP_S = {"==": "eq", "!=": "ne", "<": "slt", "<=": "sle", ">": "sgt", ">=": "sge"}
_ICMP_U = {"==": "eq", "!=": "ne", "<": "ult", "<=": "ule", ">": "ugt", ">=": "uge"}
_FCMP_O = {"==": "oeq", "!=": "one", "<": "olt", "<=": "ole", ">": "ogt", ">=": "oge",
           "ord": "ord", "uno": "uno"}
_FCMP_U = {"==": "ueq", "!=": "une", "<": "ult", "<=": "ule", ">": "ugt", ">=": "uge",
           "ord": "ord", "uno": "uno"}


def _bool_of(typ: Type) -> Type:
    return VectorType(_I1, typ.count) if type(typ) is VectorType else _I1


def _flags(flags) -> str:
    return "".join(f" {f}" for f in flags)


# Integer operations on two constants are folded as they are built (index
# arithmetic of constant loop bounds, `sext i32 0`): lines LLVM would
# otherwise parse and fold. Wrapping as LLVM wraps (a flagged overflow is
# poison, which the wrapped value refines).
_FOLD = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y}


def _int_value(c: Constant):
    """The value of a scalar integer constant (None for true/false/poison)."""
    r = c.ref
    if r.isdigit() or (r[:1] == "-" and r[1:].isdigit()):
        return int(r)
    return None


def _int_constant(typ: IntType, value: int) -> Constant:
    bits = typ.width
    value &= (1 << bits) - 1
    if bits == 1:
        return Constant(typ, bool(value))
    if bits > 1 and value >> (bits - 1):
        value -= 1 << bits
    return Constant(typ, value)


class IRBuilder:
    """Appends instructions at the end of a block (llvmlite.ir.IRBuilder's calls)."""

    def __init__(self, block: Block | None = None):
        self.block = block
        if block is not None and block.depth < 0:
            block._enter()

    @property
    def basic_block(self):
        return self.block

    @property
    def function(self):
        return self.block.fn

    def position_at_end(self, block: Block) -> None:
        self.block = block
        if block.depth < 0:
            block._enter()

    def _emit(self, typ: Type, text: str, name: str = "") -> Value:
        fn = self.function
        ref = fn._unique(name) if name else fn.temp()
        self.block.lines.append(f"{ref} = {text}")
        return Value(typ, ref)

    def _emit_inst(self, typ: Type, text: str, name: str = "") -> Instruction:
        lines = self.block.lines
        inst = Instruction.__new__(Instruction)
        if typ is VoidType():
            inst.type, inst.ref = typ, ""
            lines.append(text)
        else:
            fn = self.function
            inst.type = typ
            inst.ref = fn._unique(name) if name else fn.temp()
            lines.append(f"{inst.ref} = {text}")
        inst.lines, inst.index = lines, len(lines) - 1
        return inst

    # arithmetic
    def _binop(self, op, a, b, name, flags):
        if op in _FOLD and type(a) is Constant is type(b) and type(a.type) is IntType:
            x, y = _int_value(a), _int_value(b)
            if x is not None and y is not None:
                return _int_constant(a.type, _FOLD[op](x, y))
        return self._emit(a.type, f"{op}{_flags(flags)} {a.type.s} {a.ref}, {b.ref}", name)

    def add(self, a, b, name="", flags=()):
        return self._binop("add", a, b, name, flags)

    def sub(self, a, b, name="", flags=()):
        return self._binop("sub", a, b, name, flags)

    def mul(self, a, b, name="", flags=()):
        return self._binop("mul", a, b, name, flags)

    def sdiv(self, a, b, name="", flags=()):
        return self._binop("sdiv", a, b, name, flags)

    def srem(self, a, b, name="", flags=()):
        return self._binop("srem", a, b, name, flags)

    def udiv(self, a, b, name="", flags=()):
        return self._binop("udiv", a, b, name, flags)

    def urem(self, a, b, name="", flags=()):
        return self._binop("urem", a, b, name, flags)

    def and_(self, a, b, name="", flags=()):
        return self._binop("and", a, b, name, flags)

    def or_(self, a, b, name="", flags=()):
        return self._binop("or", a, b, name, flags)

    def xor(self, a, b, name="", flags=()):
        return self._binop("xor", a, b, name, flags)

    def shl(self, a, b, name="", flags=()):
        return self._binop("shl", a, b, name, flags)

    def ashr(self, a, b, name="", flags=()):
        return self._binop("ashr", a, b, name, flags)

    def lshr(self, a, b, name="", flags=()):
        return self._binop("lshr", a, b, name, flags)

    def fadd(self, a, b, name="", flags=()):
        return self._binop("fadd", a, b, name, flags)

    def fsub(self, a, b, name="", flags=()):
        return self._binop("fsub", a, b, name, flags)

    def fmul(self, a, b, name="", flags=()):
        return self._binop("fmul", a, b, name, flags)

    def fdiv(self, a, b, name="", flags=()):
        return self._binop("fdiv", a, b, name, flags)

    def not_(self, a, name=""):
        t = a.type
        ones = f"splat ({t.element.s} -1)" if type(t) is VectorType else "-1"
        return self._emit(t, f"xor {t.s} {a.ref}, {ones}", name)

    # comparisons and selects
    def icmp_signed(self, op, a, b, name=""):
        return self._emit(_bool_of(a.type), f"icmp {_ICMP_S[op]} {a.type.s} {a.ref}, {b.ref}", name)

    def icmp_unsigned(self, op, a, b, name=""):
        return self._emit(_bool_of(a.type), f"icmp {_ICMP_U[op]} {a.type.s} {a.ref}, {b.ref}", name)

    def fcmp_ordered(self, op, a, b, name="", flags=()):
        return self._emit(_bool_of(a.type),
                          f"fcmp{_flags(flags)} {_FCMP_O[op]} {a.type.s} {a.ref}, {b.ref}", name)

    def fcmp_unordered(self, op, a, b, name="", flags=()):
        return self._emit(_bool_of(a.type),
                          f"fcmp{_flags(flags)} {_FCMP_U[op]} {a.type.s} {a.ref}, {b.ref}", name)

    def select(self, cond, a, b, name=""):
        return self._emit(a.type, f"select {cond.type.s} {cond.ref}, {a.type.s} {a.ref}, "
                                  f"{b.type.s} {b.ref}", name)

    # casts
    def _cast(self, op, v, typ, name):
        if op in ("sext", "zext", "trunc") and type(v) is Constant and type(v.type) is IntType:
            x = _int_value(v)
            if x is not None:
                if op == "zext":
                    x &= (1 << v.type.width) - 1
                return _int_constant(typ, x)
        return self._emit(typ, f"{op} {v.type.s} {v.ref} to {typ.s}", name)

    def trunc(self, v, typ, name=""):
        return self._cast("trunc", v, typ, name)

    def zext(self, v, typ, name=""):
        return self._cast("zext", v, typ, name)

    def sext(self, v, typ, name=""):
        return self._cast("sext", v, typ, name)

    def fptosi(self, v, typ, name=""):
        return self._cast("fptosi", v, typ, name)

    def fptoui(self, v, typ, name=""):
        return self._cast("fptoui", v, typ, name)

    def sitofp(self, v, typ, name=""):
        return self._cast("sitofp", v, typ, name)

    def uitofp(self, v, typ, name=""):
        return self._cast("uitofp", v, typ, name)

    def fpext(self, v, typ, name=""):
        return self._cast("fpext", v, typ, name)

    def fptrunc(self, v, typ, name=""):
        return self._cast("fptrunc", v, typ, name)

    def bitcast(self, v, typ, name=""):
        return self._cast("bitcast", v, typ, name)

    def inttoptr(self, v, typ, name=""):
        return self._cast("inttoptr", v, typ, name)

    def ptrtoint(self, v, typ, name=""):
        return self._cast("ptrtoint", v, typ, name)

    # memory
    def gep(self, ptr, indices, inbounds=False, name="", source_etype=None):
        ib = " inbounds" if inbounds else ""
        idx = "".join(f", {i.type.s} {i.ref}" for i in indices)
        typ = ptr.type
        for i in indices:
            if type(i.type) is VectorType:
                typ = VectorType(_PTR, i.type.count)
        return self._emit(typ, f"getelementptr{ib} {source_etype.s}, {ptr.type.s} {ptr.ref}{idx}",
                          name)

    def load(self, ptr, name="", align=None, typ=None):
        a = f", align {align}" if align else ""
        return self._emit_inst(typ, f"load {typ.s}, {ptr.type.s} {ptr.ref}{a}", name)

    def store(self, value, ptr, align=None):
        a = f", align {align}" if align else ""
        return self._emit_inst(VoidType(), f"store {value.type.s} {value.ref}, {ptr.type.s} {ptr.ref}{a}")

    def load_atomic(self, ptr, ordering, align, name="", typ=None):
        return self._emit(typ, f"load atomic {typ.s}, {ptr.type.s} {ptr.ref} {ordering}, align {align}",
                          name)

    def store_atomic(self, value, ptr, ordering, align):
        self.block.lines.append(f"store atomic {value.type.s} {value.ref}, {ptr.type.s} {ptr.ref} "
                                f"{ordering}, align {align}")

    def cmpxchg(self, ptr, cmp, val, ordering, failordering=None, name=""):
        failordering = failordering or ordering
        typ = LiteralStructType([val.type, _I1])
        return self._emit(typ, f"cmpxchg {ptr.type.s} {ptr.ref}, {cmp.type.s} {cmp.ref}, "
                               f"{val.type.s} {val.ref} {ordering} {failordering}", name)

    def atomic_rmw(self, op, ptr, val, ordering, name=""):
        return self._emit(val.type, f"atomicrmw {op} {ptr.type.s} {ptr.ref}, {val.type.s} {val.ref} "
                                    f"{ordering}", name)

    def extract_value(self, agg, idx, name=""):
        return self._emit(agg.type.elements[idx], f"extractvalue {agg.type.s} {agg.ref}, {idx}", name)

    def alloca(self, typ, size=None, name=""):
        fn = self.function
        v = Alloca.__new__(Alloca)
        v.type = _PTR
        v.ref = fn._unique(name) if name else fn.temp()
        node = _Alloca()
        node.value, node.typ, node.align = v, typ, None
        node.size = str(size) if size is not None else None
        v.node = node
        self.block.lines.append(node)
        return v

    # vectors
    def insert_element(self, vec, value, idx, name=""):
        return self._emit(vec.type, f"insertelement {vec.type.s} {vec.ref}, {value.type.s} {value.ref}, "
                                    f"{idx.type.s} {idx.ref}", name)

    def extract_element(self, vec, idx, name=""):
        return self._emit(vec.type.element, f"extractelement {vec.type.s} {vec.ref}, "
                                            f"{idx.type.s} {idx.ref}", name)

    def shuffle_vector(self, a, b, mask, name=""):
        typ = VectorType(a.type.element, mask.type.count)
        return self._emit(typ, f"shufflevector {a.type.s} {a.ref}, {b.type.s} {b.ref}, "
                               f"{mask.type.s} {mask.ref}", name)

    # control flow
    def phi(self, typ, name=""):
        fn = self.function
        v = Phi.__new__(Phi)
        v.type = typ
        v.ref = fn._unique(name) if name else fn.temp()
        v.node = _Phi(v)
        self.block.lines.append(v.node)
        return v

    def call(self, fn, args, name=""):
        ft = fn.ftype
        ret = ft.return_type
        callee = ft.s if ft.var_arg else ret.s
        text = f"call {callee} {fn.ref}({', '.join(f'{a.type.s} {a.ref}' for a in args)})"
        return self._emit_inst(ret, text, name)

    def branch(self, target: Block):
        self.block.lines.append(f"br label %{target.label}")
        self.block.is_terminated = True
        target.preds.append(self.block)

    def cbranch(self, cond, then: Block, otherwise: Block):
        inst = self._emit_inst(VoidType(), f"br {cond.type.s} {cond.ref}, label %{then.label}, "
                                           f"label %{otherwise.label}")
        self.block.is_terminated = True
        then.preds.append(self.block)
        otherwise.preds.append(self.block)
        return inst

    def ret(self, value):
        self.block.lines.append(f"ret {value.type.s} {value.ref}")
        self.block.is_terminated = True

    def ret_void(self):
        self.block.lines.append("ret void")
        self.block.is_terminated = True

    def _weights(self, br, likely):
        if likely is not None:
            md = self.function.module.add_metadata(
                ["branch_weights"] + [Constant(_I32, w) for w in ([99, 1] if likely else [1, 99])])
            br.set_metadata("prof", md)

    @contextlib.contextmanager
    def _branch_helper(self, enter: Block, exit_: Block):
        self.position_at_end(enter)
        yield exit_
        if not self.block.is_terminated:
            self.branch(exit_)

    @contextlib.contextmanager
    def if_then(self, pred, likely=None):
        name = self.block.name
        fn = self.function
        bbif = fn.append_basic_block(name + ".if")
        bbend = fn.append_basic_block(name + ".endif")
        self._weights(self.cbranch(pred, bbif, bbend), likely)
        with self._branch_helper(bbif, bbend):
            yield bbend
        self.position_at_end(bbend)

    @contextlib.contextmanager
    def if_else(self, pred, likely=None):
        name = self.block.name
        fn = self.function
        bbif = fn.append_basic_block(name + ".if")
        bbelse = fn.append_basic_block(name + ".else")
        bbend = fn.append_basic_block(name + ".endif")
        self._weights(self.cbranch(pred, bbif, bbelse), likely)
        yield self._branch_helper(bbif, bbend), self._branch_helper(bbelse, bbend)
        self.position_at_end(bbend)
