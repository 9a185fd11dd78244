"""Halide's `compile_to*` family: which files, with which names, from one
`AotModule`.

    compile_to(pipeline, {OutputFileType.object: "f.o", OutputFileType.c_header: "f.h"},
               [input, offset], "f", target)
"""
from __future__ import annotations

import enum
import os

from pipelang.errors import CompileError
from pipelang.target import Target, TargetOS, get_target_from_environment


class OutputFileType(enum.Enum):
    assembly = "assembly"
    bitcode = "bitcode"
    c_header = "c_header"
    c_source = "c_source"
    cpp_stub = "cpp_stub"
    featurization = "featurization"
    function_info_header = "function_info_header"
    hlpipe = "hlpipe"
    llvm_assembly = "llvm_assembly"
    object = "object"
    python_extension = "python_extension"
    pytorch_wrapper = "pytorch_wrapper"
    registration = "registration"
    schedule = "schedule"
    static_library = "static_library"
    stmt = "stmt"
    conceptual_stmt = "conceptual_stmt"
    stmt_html = "stmt_html"
    conceptual_stmt_html = "conceptual_stmt_html"
    device_code = "device_code"

    def __str__(self):
        return f"OutputFileType.{self.name}"


_SUFFIXES = {
    OutputFileType.assembly: ".s",
    OutputFileType.bitcode: ".bc",
    OutputFileType.c_header: ".h",
    OutputFileType.c_source: ".halide_generated.cpp",
    OutputFileType.cpp_stub: ".stub.h",
    OutputFileType.featurization: ".featurization",
    OutputFileType.function_info_header: ".function_info.h",
    OutputFileType.hlpipe: ".hlpipe",
    OutputFileType.llvm_assembly: ".ll",
    OutputFileType.python_extension: ".py.cpp",
    OutputFileType.pytorch_wrapper: ".pytorch.h",
    OutputFileType.registration: ".registration.cpp",
    OutputFileType.schedule: ".schedule.h",
    OutputFileType.stmt: ".stmt",
    OutputFileType.conceptual_stmt: ".conceptual.stmt",
    OutputFileType.stmt_html: ".stmt.html",
    OutputFileType.conceptual_stmt_html: ".conceptual.stmt.html",
    OutputFileType.device_code: ".device_code",
}


def suffix(kind: OutputFileType, target: Target) -> str:
    """Halide's file extension for `kind` on `target`."""
    windows = target.os is TargetOS.Windows
    if kind is OutputFileType.object:
        return ".obj" if windows else ".o"
    if kind is OutputFileType.static_library:
        return ".lib" if windows else ".a"
    return _SUFFIXES[kind]


def resolve_target(target) -> Target:
    if target is None:
        return get_target_from_environment()
    return target if isinstance(target, Target) else Target(str(target))


def _write(path: str, data) -> None:
    mode = "wb" if isinstance(data, (bytes, bytearray)) else "w"
    with open(path, mode) as f:
        f.write(data)


def compile_to(pipeline, outputs: dict, arguments, fn_name: str = "", target=None,
               requirements=(), output_names=None) -> None:
    """Write each requested file (Halide's `Pipeline.compile_to`)."""
    from pipelang.aot.module import AotModule
    from pipelang.pipeline import _functions
    target = resolve_target(target)
    fns = _functions(pipeline._funcs)
    fn_name = fn_name or fns[0].name
    for kind in outputs:
        if not isinstance(kind, OutputFileType):
            raise CompileError(f"compile_to: {kind!r} is not an hl.OutputFileType")
        if kind not in _WRITERS:
            raise CompileError(f"compile_to: pipelang can't emit {kind} (it emits "
                               f"{', '.join(sorted(k.name for k in _WRITERS))})")
    module = None
    for kind, path in outputs.items():
        if kind in _NEEDS_MODULE and module is None:
            module = AotModule(fns, list(arguments), fn_name, target, requirements, output_names)
        _WRITERS[kind](path, module, pipeline, fn_name, target)
    return None


def _static_library(path, m, pipeline, fn_name, target):
    from pipelang.aot.archive import write_archive
    symbols = [m.fn_name, m.fn_name + "_argv", m.fn_name + "_metadata"]
    write_archive(path, [(os.path.basename(path) + suffix(OutputFileType.object, target),
                          m.object_bytes(), symbols)])


def _stmt(html: bool):
    def write(path, m, pipeline, fn_name, target):
        from pipelang.pipeline import StmtOutputFormat
        pipeline.compile_to_lowered_stmt(path, (), StmtOutputFormat.HTML if html else None)
    return write


def _python_extension(path, m, pipeline, fn_name, target):
    from pipelang.aot.python_extension import python_extension_source
    _write(path, python_extension_source(m.fn_name, m.arguments,
                                         target.has_feature("user_context")))


_WRITERS = {
    OutputFileType.object: lambda path, m, *_: _write(path, m.object_bytes()),
    OutputFileType.assembly: lambda path, m, *_: _write(path, m.assembly()),
    OutputFileType.bitcode: lambda path, m, *_: _write(path, m.bitcode()),
    OutputFileType.llvm_assembly: lambda path, m, *_: _write(path, m.llvm_assembly()),
    OutputFileType.c_header: lambda path, m, *_: _write(path, m.header(path)),
    OutputFileType.static_library: _static_library,
    OutputFileType.python_extension: _python_extension,
    OutputFileType.c_source: lambda path, m, pipeline, fn_name, target: _write(path, _c(m, target)),
    OutputFileType.stmt: _stmt(False),
    OutputFileType.conceptual_stmt: _stmt(False),
    OutputFileType.stmt_html: _stmt(True),
    OutputFileType.conceptual_stmt_html: _stmt(True),
}
def _c(m, target) -> str:
    from pipelang.aot.c_source import c_source
    return c_source(m.fn_name, m.inner, m.arguments, m.embedded, target.to_string())


_NEEDS_MODULE = {OutputFileType.c_source, OutputFileType.object, OutputFileType.assembly, OutputFileType.bitcode,
                 OutputFileType.llvm_assembly, OutputFileType.c_header,
                 OutputFileType.static_library, OutputFileType.python_extension}


def compile_to_file(pipeline, prefix: str, arguments, fn_name: str = "", target=None) -> None:
    """`prefix.h` and `prefix.o` (`.obj` on Windows)."""
    target = resolve_target(target)
    compile_to(pipeline, {OutputFileType.c_header: prefix + ".h",
                          OutputFileType.object: prefix + suffix(OutputFileType.object, target)},
               arguments, fn_name, target)


def compile_to_static_library(pipeline, prefix: str, arguments, fn_name: str = "",
                              target=None) -> None:
    """`prefix.h` and `prefix.a` (`.lib` on Windows)."""
    target = resolve_target(target)
    compile_to(pipeline, {OutputFileType.c_header: prefix + ".h",
                          OutputFileType.static_library:
                              prefix + suffix(OutputFileType.static_library, target)},
               arguments, fn_name, target)


def compile_standalone_runtime(filename: str, target=None) -> None:
    """An object (or, for a `.a`/`.lib` name, a library) holding only the
    runtime, for objects built with the `no_runtime` feature."""
    from pipelang.aot.archive import write_archive
    from pipelang.aot.module import standalone_runtime
    target = resolve_target(target)
    data = standalone_runtime(target)
    if filename.endswith((".a", ".lib")):
        write_archive(filename, [("halide_runtime" + suffix(OutputFileType.object, target), data,
                                  ["halide_error", "halide_print", "halide_malloc", "halide_free",
                                   "halide_set_num_threads", "pl_par_for", "pl_aot_runtime_init"])])
    else:
        _write(filename, data)
