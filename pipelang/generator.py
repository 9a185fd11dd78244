"""Generators: Halide's way to package a pipeline with its parameters for
ahead-of-time compilation.

    @hl.generator(name="brighten")
    class Brighten:
        offset = hl.GeneratorParam(1)
        input = hl.InputBuffer(hl.UInt(8), 2)
        output = hl.OutputBuffer(hl.UInt(8), 2)

        def generate(self):
            self.output[x, y] = self.input[x, y] + self.offset

    if __name__ == "__main__":
        hl.main()          # python brighten.py -g brighten -o out target=host offset=3

A generator instance goes through fixed stages: GeneratorParams get their
values (defaults, an alias's, then the caller's); Inputs and Outputs are
declared (class attributes in declaration order, `<name>.type` and
`<name>.dim` params fill in what the source left open); `configure()` may
`add_input`/`add_output`; then each declaration is replaced by what
`generate()` uses (an ImageParam, a Param, a Func named after it), and the
outputs `generate()` defined become the Pipeline. The same pipeline is
compiled ahead of time (`hl.main`, `compile_to_*`), turned into a callable
(`compile_to_callable`, `create_callable_from_generator`), or composed into
another pipeline as a stub (`Gen.call(...)`).
"""
from __future__ import annotations

import contextvars
import enum
import inspect
import re
import sys
import warnings

from pipelang.buffer import Buffer
from pipelang.errors import HalideError
from pipelang.func import Func
from pipelang.ir.types import Bool, Float, Int, Type, UInt
from pipelang.param import ImageParam, Param
from pipelang.pipeline import AutoschedulerParams
from pipelang.target import Target, get_target_from_environment


def _check(cond, message: str) -> None:
    if not cond:
        raise HalideError(message)


# A C identifier that does not start with "_" and has no "__" (Halide's rule).
_NAME = re.compile(r"^(?!.*__)[A-Za-z0-9][A-Za-z0-9_]*$")


def _check_name(name: str) -> str:
    _check(isinstance(name, str) and _NAME.match(name) and name != "generator_params",
           f"The name '{name}' is not valid for a GeneratorParam, Input, or Output.")
    return name


_TYPE_NAMES = {"bool": Bool(), "uint8": UInt(8), "uint16": UInt(16), "uint32": UInt(32),
               "uint64": UInt(64), "int8": Int(8), "int16": Int(16), "int32": Int(32),
               "int64": Int(64), "float16": Float(16), "float32": Float(32),
               "float64": Float(64)}


def _as_type(t) -> Type | None:
    """None (unspecified), or a Type; Python's bool/int/float mean Bool/Int(32)/Float(32)."""
    if t is None:
        return None
    if t is bool:
        return Bool()
    if t is int:
        return Int(32)
    if t is float:
        return Float(32)
    _check(isinstance(t, Type), f"Expected a Halide Type, but saw: {t}")
    return t


def _type_list(types) -> list:
    if types is None:
        return []
    types = list(types) if isinstance(types, (list, tuple)) else [types]
    return [_as_type(t) for t in types if t is not None]


def _parse_types(name: str, value) -> list:
    if isinstance(value, (list, tuple, Type)):
        return _type_list(value)
    names = str(value).split(",")
    for n in names:
        _check(n in _TYPE_NAMES, f"The value {n} cannot be parsed as a Type (for {name}); "
                                 f"expected one of {', '.join(_TYPE_NAMES)}.")
    return [_TYPE_NAMES[n] for n in names]


# ---------------------------------------------------------------- declarations


class GeneratorParam:
    """A compile-time parameter; its type is its default's: bool, int, float,
    str, hl.Type (or a list of them), or an enum member."""

    def __init__(self, default):
        self.default = default

    @staticmethod
    def parse(name: str, default, value):
        """`value` (often a string from the command line) as `default`'s type."""
        kind = type(default)
        try:
            if isinstance(default, bool):
                if isinstance(value, str):
                    _check(value.lower() in ("true", "false", "1", "0"),
                           f"GeneratorParam {name} is a bool, but was given '{value}'.")
                    return value.lower() in ("true", "1")
                return bool(value)
            if isinstance(default, enum.Enum):
                if isinstance(value, kind):
                    return value
                _check(str(value) in kind.__members__,
                       f"GeneratorParam {name} must be one of {list(kind.__members__)}, "
                       f"not '{value}'.")
                return kind.__members__[str(value)]
            if isinstance(default, (Type, list)):
                types = _parse_types(name, value)
                return types[0] if isinstance(default, Type) and len(types) == 1 else types
            if isinstance(default, int):
                return int(value)
            if isinstance(default, float):
                return float(value)
            if isinstance(default, str):
                return str(value)
        except ValueError:
            raise HalideError(f"GeneratorParam {name} is a {kind.__name__}, but was given "
                              f"'{value}'.") from None
        raise HalideError(f"GeneratorParam {name} has unsupported type {kind.__name__}")


class _IO:
    """An Input or Output declaration: a name, types (maybe unknown) and dimensions
    (-1: unknown)."""
    is_input = True
    is_buffer = True

    def _types_and_dims(self):
        return list(self._decl_types), self._decl_dims


class InputBuffer(ImageParam, _IO):
    """A buffer input of a Generator: `hl.InputBuffer(hl.UInt(8), 2)`; type or
    dimensions may be None (set by `<name>.type` / `<name>.dim`). Outside a
    Generator it is an ImageParam."""

    def __init__(self, t, dimensions, name: str | None = None):
        t = _as_type(t)
        self._decl_types = [t] if t is not None else []
        self._decl_dims = -1 if dimensions is None else int(dimensions)
        if t is not None and dimensions is not None:
            super().__init__(t, int(dimensions), name)

    def _replacement(self, name, types, dims, value):
        if value is None:
            return ImageParam(types[0], dims, name)
        _check(isinstance(value, (Buffer, ImageParam)),
               f"Input {name} requires an ImageParam or Buffer argument when using call(), "
               f"but saw {value!r}")
        _check(value.type() == types[0],
               f"Type mismatch for {name}: expected {types[0]} saw {value.type()}")
        _check(value.dimensions() == dims,
               f"Dimensions mismatch for {name}: expected {dims} saw {value.dimensions()}")
        if isinstance(value, Buffer):
            p = ImageParam(value.type(), value.dimensions(), name)
            p.set(value)
            return p
        return value


class InputScalar(Param, _IO):
    """A scalar input of a Generator: `hl.InputScalar(hl.Float(32))` (or float)."""
    is_buffer = False

    def __init__(self, t, name: str | None = None):
        t = _as_type(t)
        self._decl_types = [t] if t is not None else []
        self._decl_dims = 0
        if t is not None:
            super().__init__(t, *([name] if name else []))

    def _replacement(self, name, types, dims, value):
        if value is None:
            return Param(types[0], name)
        if isinstance(value, (bool, int, float)):
            p = Param(types[0], name)
            p.set(value)
            return p
        _check(isinstance(value, Param),
               f"Input {name} requires a Param (or scalar literal) argument when using call(), "
               f"but saw {value!r}.")
        _check(value.type() == types[0],
               f"Type mismatch for {name}: expected {types[0]} saw {value.type()}")
        return value


class OutputBuffer(_IO):
    """A buffer output of a Generator: `hl.OutputBuffer(hl.Float(32), 2)`; a list
    of types for a Tuple; None for either to set it with a GeneratorParam."""
    is_input = False

    def __init__(self, types, dimensions):
        self._decl_types = _type_list(types)
        self._decl_dims = -1 if dimensions is None else int(dimensions)

    def _replacement(self, name, types, dims, value):
        return Func(types if len(types) > 1 else types[0], dims, name)


class OutputScalar(OutputBuffer):
    """A zero-dimensional output: `hl.OutputScalar(hl.Float(32))`, set with `out[()] = e`."""

    def __init__(self, types):
        super().__init__(types, 0)


# ---------------------------------------------------------------- context


_active_context = contextvars.ContextVar("pipelang_generator_context", default=None)


class GeneratorContext:
    """The target (and autoscheduler) generators are built for; `with ctx:`
    makes it the one new Generators pick up."""

    def __init__(self, target=None, autoscheduler_params=None):
        if target is None:
            target = get_target_from_environment()
        self._target = target if isinstance(target, Target) else Target(str(target))
        if autoscheduler_params is None:
            autoscheduler_params = AutoschedulerParams()
        self._autoscheduler = autoscheduler_params
        self._tokens = []

    def target(self) -> Target:
        return self._target

    def autoscheduler_params(self):
        return self._autoscheduler

    def __enter__(self):
        self._tokens.append(_active_context.set(self))
        return self

    def __exit__(self, *exc):
        _active_context.reset(self._tokens.pop())

    def __repr__(self):
        return f"<pipelang.GeneratorContext {self._target}>"


def active_generator_context() -> GeneratorContext:
    ctx = _active_context.get()
    return ctx if ctx is not None else GeneratorContext()


# ---------------------------------------------------------------- the Generator


def _class_members(cls):
    """Class attributes in declaration order, base classes first."""
    seen = {}
    for klass in reversed(cls.__mro__):
        for k, v in vars(klass).items():
            seen.pop(k, None)
            seen[k] = v
    return list(seen.items())


class Generator:
    """Base class of generators (subclassing it is optional with `@hl.generator`)."""
    _pl_name = ""
    _pl_alias_params: dict = {}

    def __init__(self, generator_params: dict | None = None):
        ctx = active_generator_context()
        self._target = ctx.target()
        spec = ctx.autoscheduler_params()
        self._autoscheduler = AutoschedulerParams(getattr(spec, "name", ""),
                                                  dict(getattr(spec, "extra", {}) or {}))
        self._gp_values = {}
        self._unhandled = {}
        self._requirements = []
        self._pipeline = None
        self._inputs = {}      # name -> declaration, in order
        self._outputs = {}
        self._io_info = {}     # name -> (types, dims)
        self._bound = {}       # name -> a value given to call()
        self._configured = False
        self._in_configure = False
        for name, v in _class_members(type(self)):
            if isinstance(v, GeneratorParam):
                _check_name(name)
                self._gp_values[name] = v.default
        for k, v in type(self)._pl_alias_params.items():
            self._set_param(k, v)
        if generator_params is not None:
            _check(isinstance(generator_params, dict), "generator_params must be a dict")
            for k, v in generator_params.items():
                self._set_param(k, v)

    # ------------------------------------------------------------ public

    def name(self) -> str:
        return self._pl_name

    def target(self) -> Target:
        return self._target

    def context(self) -> GeneratorContext:
        return GeneratorContext(self._target, self._autoscheduler)

    def autoscheduler(self):
        return self._autoscheduler

    def using_autoscheduler(self) -> bool:
        return bool(self._autoscheduler.name)

    def natural_vector_size(self, t) -> int:
        return self._target.natural_vector_size(_as_type(t))

    def get_target(self) -> Target:
        return self._target

    def add_requirement(self, condition, *args) -> None:
        """A condition checked before the compiled pipeline runs (AOT and
        callables), failing with Halide's requirement_failed error."""
        _check(self._pipeline is None, "add_requirement() must be called from generate()")
        self._requirements.append((condition, args))

    def add_input(self, name: str, io) -> None:
        _check(self._in_configure, "Can only call add_input() from the configure() method.")
        _check(isinstance(io, (InputBuffer, InputScalar)),
               f"Cannot call add_input() with an object of type '{type(io).__name__}'.")
        _check(not hasattr(type(self), name) and name not in self._inputs,
               f"Cannot call add_input('{name}') because the class already has a member of "
               f"that name.")
        self._declare(name, io, self._inputs)

    def add_output(self, name: str, io) -> None:
        _check(self._in_configure, "Can only call add_output() from the configure() method.")
        _check(isinstance(io, OutputBuffer),
               f"Cannot call add_output() with an object of type '{type(io).__name__}'.")
        _check(not hasattr(type(self), name) and name not in self._outputs,
               f"Cannot call add_output('{name}') because the class already has a member of "
               f"that name.")
        self._declare(name, io, self._outputs)

    def configure(self) -> None:
        pass

    def generate(self) -> None:
        raise HalideError(f"Generator {self._pl_name} must define generate()")

    def allow_out_of_order_inputs_and_outputs(self) -> bool:
        return False

    # ------------------------------------------------------------ stages

    def _set_param(self, name: str, value) -> None:
        _check(name != "target", f"The GeneratorParam named {name} cannot be set by "
                                 f"set_generatorparam_value.")
        _check(self._pipeline is None and not self._configured,
               f"GeneratorParam {name} can't be set after the generator was configured")
        if name in self._gp_values:
            default = next(v.default for k, v in _class_members(type(self)) if k == name)
            self._gp_values[name] = GeneratorParam.parse(name, default, value)
        elif name == "autoscheduler":
            self._autoscheduler.name = str(value)
        elif name.startswith("autoscheduler."):
            self._autoscheduler.extra[name[len("autoscheduler."):]] = value
        else:
            self._unhandled[name] = value

    def _declare(self, name, io, table) -> None:
        _check_name(name)
        _check(name not in self._io_info and name not in self._gp_values,
               f"The name '{name}' is used more than once in Generator {self._pl_name}.")
        types, dims = io._types_and_dims()
        if f"{name}.type" in self._unhandled:
            _check(not types, f"Cannot set the GeneratorParam {name}.type for {self._pl_name} "
                              f"because the value is explicitly specified in the Python source.")
            types = _parse_types(f"{name}.type", self._unhandled.pop(f"{name}.type"))
        if f"{name}.dim" in self._unhandled:
            _check(dims == -1, f"Cannot set the GeneratorParam {name}.dim for {self._pl_name} "
                               f"because the value is explicitly specified in the Python source.")
            dims = int(self._unhandled.pop(f"{name}.dim"))
        _check(types, f"No type has been specified for {name}. Try specifying one in code, or "
                      f"by setting '{name}.type' as a GeneratorParam.")
        _check(dims >= 0, f"No dimensionality has been specified for {name}. Try specifying one "
                          f"in code, or by setting '{name}.dim' as a GeneratorParam.")
        _check(io.is_buffer or len(types) == 1 or not io.is_input,
               f"Input {name} must have exactly one type")
        self._io_info[name] = (types, dims)
        table[name] = io

    def _configure(self) -> None:
        if self._configured:
            return
        for name, value in self._gp_values.items():
            object.__setattr__(self, name, value)
        outputs_seen = False
        for name, v in _class_members(type(self)):
            if isinstance(v, _IO):
                if v.is_input and outputs_seen and not self.allow_out_of_order_inputs_and_outputs():
                    warnings.warn(f"Generator {self._pl_name} declares Input {name} after an "
                                  f"Output; the generated function takes all Inputs first.")
                outputs_seen |= not v.is_input
                self._declare(name, v, self._inputs if v.is_input else self._outputs)
        self._in_configure = True
        try:
            self.configure()
        finally:
            self._in_configure = False
        _check(not self._unhandled, f"Generator {self._pl_name} has no GeneratorParam(s) named: "
                                    f"{list(self._unhandled)}")
        _check(self._outputs, f"Generator '{self._pl_name}' must declare at least one output.")
        self._configured = True

    def _bind_input(self, name: str, value) -> None:
        self._configure()
        _check(name in self._inputs, f"There is no input with the name: {name}")
        _check(value is not None, f"Cannot set the value for {name} to an undefined value.")
        types, dims = self._io_info[name]
        self._bound[name] = self._inputs[name]._replacement(name, types, dims, value)

    def _build_pipeline(self):
        from pipelang.pipeline import Pipeline
        if self._pipeline is not None:
            return self._pipeline
        self._configure()
        for table in (self._inputs, self._outputs):
            for name, io in table.items():
                types, dims = self._io_info[name]
                bound = self._bound.get(name)
                object.__setattr__(self, name, bound if bound is not None else
                                   io._replacement(name, types, dims, None))
        with self.context():
            self.generate()
        funcs = []
        for name in self._outputs:
            f = getattr(self, name)
            _check(isinstance(f, Func), f"Output {name} must remain a Func, but generate() "
                                        f"replaced it with {f!r}")
            _check(f.defined(), f"Output '{name}' was not defined.")
            types, dims = self._io_info[name]
            _check(list(f.types()) == list(types),
                   f"Type mismatch for {name}: expected {', '.join(map(str, types))} saw "
                   f"{', '.join(map(str, f.types()))}")
            _check(f.dimensions() == dims,
                   f"Dimensions mismatch for {name}: expected {dims} saw {f.dimensions()}")
            funcs.append(f)
        self._pipeline = Pipeline(funcs)
        if self.using_autoscheduler():
            self._apply_autoscheduler()
        return self._pipeline

    def _apply_autoscheduler(self) -> None:
        extra = {k: str(v) for k, v in self._autoscheduler.extra.items()}
        self._pipeline.apply_autoscheduler(
            self._target, AutoschedulerParams(self._autoscheduler.name, extra))

    def _arguments(self) -> list:
        """The pipeline's arguments in Halide's order (Inputs as declared)."""
        self._build_pipeline()
        return [getattr(self, name) for name in self._inputs]

    # ------------------------------------------------------------ building

    def build_pipeline(self):
        return self._build_pipeline()

    def _aot_module(self, fn_name: str | None = None, target=None):
        from pipelang.aot.module import AotModule
        from pipelang.pipeline import _functions
        pipeline = self._build_pipeline()
        return AotModule(_functions(pipeline.outputs()), self._arguments(),
                         fn_name or self._pl_name, target or self._target, self._requirements,
                         list(self._outputs))

    def compile_to_callable(self):
        """The generator's pipeline compiled for the host, called with its Inputs
        then its Outputs (positionally or by name)."""
        from pipelang.aot.loader import load_object
        from pipelang.aot.targets import is_host
        _check(is_host(self._target), f"compile_to_callable needs a host target, not "
                                      f"{self._target}")
        # A generator registered by its module-qualified name ("app.blur") still
        # gets a callable: the object's symbol is a C identifier made from it.
        from pipelang.aot.module import c_identifier
        name = c_identifier(self._pl_name)
        return load_object(self._aot_module(name).object_bytes(), name)

    @classmethod
    def call(cls, *args, **kwargs):
        """Use the generator as a stub: bind its Inputs (Buffers, ImageParams,
        Params or numbers) and get its output Funcs back, to realize or compose."""
        gen = cls(generator_params=None)
        gp = kwargs.pop("generator_params", {})
        _check(isinstance(gp, dict), "generator_params must be a dict")
        for k, v in gp.items():
            gen._set_param(k, v)
        gen._configure()
        names = list(gen._inputs)
        _check(len(args) <= len(names), f"Generator '{gen._pl_name}' allows at most "
                                        f"{len(names)} positional args, but {len(args)} were "
                                        f"specified.")
        given = []
        for name, v in zip(names, args):
            given.append(name)
            gen._bind_input(name, v)
        for k, v in kwargs.items():
            _check(k in names, f"Unknown input '{k}' specified via keyword argument.")
            _check(k not in given, f"Input {k} specified multiple times.")
            given.append(k)
            gen._bind_input(k, v)
        _check(len(given) == len(names), f"Generator '{gen._pl_name}' requires {len(names)} "
                                         f"args, but {len(given)} were specified.")
        gen._build_pipeline()
        outs = [getattr(gen, name) for name in gen._outputs]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def __setattr__(self, name, value):
        info = self.__dict__.get("_io_info")
        if info and name in info and self.__dict__.get("_configured") and \
                self.__dict__.get("_pipeline") is not None:
            raise AttributeError(f"Invalid write to field '{name}'")
        object.__setattr__(self, name, value)


# ---------------------------------------------------------------- registry

_registry: dict = {}


def _register(name: str, cls) -> None:
    # Redefining is fine interactively (notebooks), an error in a script.
    _check(hasattr(sys, "ps1") or name not in _registry or _registry[name].__qualname__ ==
           cls.__qualname__ and _registry[name].__module__ == cls.__module__,
           f"The Generator name {name} is already in use.")
    _registry[name] = cls


def generator(name: str = ""):
    """Class decorator registering a generator under `name`."""
    def wrap(cls):
        _check(inspect.isclass(cls), "@generator can only be used on classes.")
        n = name or (cls.__qualname__ if cls.__module__ == "__main__"
                     else f"{cls.__module__}.{cls.__qualname__}")
        bases = (cls,) if issubclass(cls, Generator) else (cls, Generator)
        new = type(cls.__name__, bases, {"_pl_name": n, "__module__": cls.__module__,
                                         "__qualname__": cls.__qualname__})
        _register(n, new)
        return new
    return wrap


def alias(**aliases):
    """Register variants of a generator with other GeneratorParam values:
    `@hl.alias(blur_x4={"factor": 4})` above `@hl.generator(...)`."""
    def wrap(cls):
        _check(issubclass(cls, Generator) and cls._pl_name,
               "@alias can only be used in conjunction with @generator.")
        for k, params in aliases.items():
            _check_name(k)
            _check(isinstance(params, dict),
                   f"The Generator alias {k} specifies something other than a dict.")
            _register(k, type(k, (cls,), {"_pl_name": k, "_pl_alias_params": dict(params)}))
        return cls
    return wrap


def _lookup(name: str):
    cls = _registry.get(name)
    _check(cls is not None, f"Generator {name} not registered; known generators: "
                            f"{', '.join(sorted(_registry)) or '(none)'}")
    return cls


def create_callable_from_generator(context, name: str, generator_params: dict | None = None):
    """The registered generator `name`, built in `context` (a GeneratorContext
    or a Target) and compiled into a callable."""
    if not isinstance(context, GeneratorContext):
        context = GeneratorContext(context)
    with context:
        gen = _lookup(name)(generator_params=dict(generator_params or {}))
    return gen.compile_to_callable()


def _generator_names() -> list:
    return sorted(_registry)



def funcs(names: str) -> tuple:
    """One Func per space-separated name: `a, b = hl.funcs("a b")`."""
    return tuple(Func(n) for n in names.split())
