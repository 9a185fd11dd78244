"""`hl.main()`: Halide's generator command line, for Python generators.

    python gen.py -g brighten -o out -e static_library,c_header target=host offset=3

Flags as Halide's generator binaries take them: -g generator, -f function
name, -o output directory (required), -e comma-separated outputs (default
c_header,static_library,registration), -n file base name, -r name of a
standalone runtime library to emit, -p plugin (accepted; pipelang's
autoschedulers are built in), -t timeout, -v, -d (accepted). Then
`target=...` (required), `autoscheduler=NAME`, `autoscheduler.FIELD=VALUE`
and GeneratorParams as `name=value`.
"""
from __future__ import annotations

import os
import sys

from pipelang.errors import HalideError
from pipelang.target import Target

USAGE = """gengen
  [-g GENERATOR_NAME] [-f FUNCTION_NAME] [-o OUTPUT_DIR] [-r RUNTIME_NAME]
  [-d 1|0] [-e EMIT_OPTIONS] [-n FILE_BASE_NAME] [-p PLUGIN_NAME] [-t TIMEOUT]
  target=target-string [autoscheduler=NAME] [autoscheduler.FIELD=VALUE ...]
  [generator_param=value ...]

 -e  A comma-separated list of files to emit. Accepted values are:
     [{emits}]
     If omitted, defaults to [c_header, static_library, registration].
 -p  Accepted for compatibility: pipelang's autoschedulers are built in.
 -s  No longer supported: use autoscheduler=NAME instead.
"""

_DEFAULT_EMITS = ("c_header", "static_library", "registration")


def _usage() -> str:
    from pipelang.aot.outputs import OutputFileType
    return USAGE.format(emits=", ".join(k.name for k in OutputFileType))


def _parse(argv: list) -> tuple[dict, dict]:
    flags, params = {}, {}
    takes_value = set("gfoernptdvs")
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            raise HalideError(_usage())
        if a.startswith("-") and len(a) == 2:
            _need(a[1] in takes_value, f"Unknown flag: {a}\n{_usage()}")
            _need(i + 1 < len(argv), f"Flag {a} needs a value\n{_usage()}")
            _need(a[1] != "s", "-s is no longer supported for setting autoscheduler; "
                               "specify autoscheduler=NAME instead.")
            flags[a[1]] = argv[i + 1]
            i += 2
            continue
        _need("=" in a, f"Expected a flag or name=value, but saw: {a}\n{_usage()}")
        k, v = a.split("=", 1)
        _need(k != "auto_schedule", "auto_schedule=true is no longer supported; specify "
                                    "autoscheduler=NAME instead.")
        _need(k not in params, f"The generator parameter {k} was specified more than once.")
        params[k] = v
        i += 1
    return flags, params


def _need(cond, message: str) -> None:
    if not cond:
        raise HalideError(message)


def run(argv: list) -> list:
    """Run the command line (without the program name); returns the files written."""
    from pipelang.aot.outputs import OutputFileType, suffix
    from pipelang.generator import GeneratorContext, _generator_names, _lookup
    from pipelang.pipeline import AutoschedulerParams
    flags, params = _parse(argv)
    out_dir = flags.get("o")
    _need(out_dir, f"-o must always be specified.\n{_usage()}")
    target_string = params.pop("target", None)
    if target_string is None and "r" not in flags:
        raise HalideError(f"Target missing: specify target=... (e.g. target=host)\n{_usage()}")
    target_string = target_string or "host"
    _need("," not in target_string, f"pipelang builds one target per run, not the "
                                    f"multitarget {target_string}")
    target = Target(target_string)
    emits = [e for e in flags.get("e", ",".join(_DEFAULT_EMITS)).split(",") if e]
    kinds = []
    for e in emits:
        _need(e in OutputFileType.__members__, f"Unrecognized emit option: {e} is not one of "
                                               f"[{', '.join(OutputFileType.__members__)}]")
        kinds.append(OutputFileType[e])
    os.makedirs(out_dir, exist_ok=True)
    written = []
    if "r" in flags:
        written += _emit_runtime(os.path.join(out_dir, flags["r"]), kinds, target)
        if "g" not in flags:
            return written
    names = _generator_names()
    gen_name = flags.get("g")
    if gen_name is None:
        _need(len(names) == 1, f"-g must be specified when more than one generator is "
                               f"registered (known: {', '.join(names) or 'none'}).\n{_usage()}")
        gen_name = names[0]
    scheduler = AutoschedulerParams(params.pop("autoscheduler", ""),
                                  {k[len("autoscheduler."):]: params.pop(k)
                                   for k in list(params) if k.startswith("autoscheduler.")})
    with GeneratorContext(target, scheduler):
        gen = _lookup(gen_name)(generator_params=params)
    fn_name = flags.get("f") or gen_name
    _need(fn_name.replace("_", "a").isalnum() and not fn_name[0].isdigit(),
          f"The function name {fn_name} given with -f is not a C identifier "
          f"(C++ namespaces are not supported)")
    base = flags.get("n") or fn_name
    outputs = {k: os.path.join(out_dir, base + suffix(k, target)) for k in kinds}
    compile_generator(gen, outputs, fn_name, target)
    return written + list(outputs.values())


def _emit_runtime(prefix: str, kinds: list, target: Target) -> list:
    """The standalone runtime (-r): as an object and/or static library, plus
    HalideRuntime.h for c_header."""
    from pipelang.aot.header import runtime_header
    from pipelang.aot.outputs import OutputFileType, compile_standalone_runtime, suffix
    written = []
    for kind in kinds:
        if kind in (OutputFileType.object, OutputFileType.static_library):
            path = prefix + suffix(kind, target)
            compile_standalone_runtime(path, target)
        elif kind is OutputFileType.c_header:
            path = prefix + ".h"
            with open(path, "w") as f:
                f.write(runtime_header())
        else:
            continue
        written.append(path)
    return written


def compile_generator(gen, outputs: dict, fn_name: str, target: Target) -> None:
    """Write `outputs` ({OutputFileType: path}) for a configured generator."""
    from pipelang.aot.outputs import OutputFileType, compile_to
    pipeline = gen._build_pipeline()
    rest = dict(outputs)
    registration = rest.pop(OutputFileType.registration, None)
    compile_to(pipeline, rest, gen._arguments(), fn_name, target, gen._requirements,
               list(gen._outputs))
    if registration:
        with open(registration, "w") as f:
            f.write(_registration_source(fn_name))


def _registration_source(fn_name: str) -> str:
    return f"""// Generated by pipelang: registers {fn_name} with a host that provides
// halide_register_argv_and_metadata (such as Halide's RunGenMain).
struct halide_filter_metadata_t;
extern "C" int {fn_name}_argv(void **args);
extern "C" const struct halide_filter_metadata_t *{fn_name}_metadata();
extern "C" void halide_register_argv_and_metadata(int (*filter_argv_call)(void **),
                                                  const struct halide_filter_metadata_t *,
                                                  const char *const *extra_key_value_pairs);
namespace {{
struct Register{fn_name} {{
    Register{fn_name}() {{
        halide_register_argv_and_metadata({fn_name}_argv, {fn_name}_metadata(), nullptr);
    }}
}} register_{fn_name};
}}  // namespace
"""


def main(argv: list | None = None) -> None:
    """The generator command line: errors print (with Halide's wording) and exit 1."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        print(_usage(), file=sys.stderr)
        sys.exit(1)
    try:
        run(argv)
    except HalideError as e:
        print(f"Error: {e}", file=sys.stderr)
        sys.exit(1)
