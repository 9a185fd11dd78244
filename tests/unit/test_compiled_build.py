"""The Cython-compiled build of the compiler core (setup.py, pipelang/_compiled.py):
a compiled module loads only when built from the source beside it; compiled
and pure Python lower to the same code; deep IR compiles on its own stack."""
from __future__ import annotations

import contextvars
import hashlib
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import pipelang as hl
from pipelang import _compiled
from pipelang._compiled import _CurrentBuildFinder


def _package(tmp_path, source: str):
    pkg = tmp_path / "fakepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text(source)
    return pkg


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_finder_loads_the_source_when_it_differs_from_the_build(tmp_path):
    source = "WHERE = 'source'\n"
    pkg = _package(tmp_path, source)
    finder = _CurrentBuildFinder({"fakepkg.mod": _sha("WHERE = 'an older source'\n")}, root=str(tmp_path))
    spec = finder.find_spec("fakepkg.mod")
    assert spec.origin == str(pkg / "mod.py")
    assert finder.loaded == {"fakepkg.mod": "pure"}


def test_finder_loads_the_compiled_file_built_from_this_source(tmp_path, monkeypatch):
    from importlib.machinery import EXTENSION_SUFFIXES
    source = "WHERE = 'source'\n"
    pkg = _package(tmp_path, source)
    compiled = pkg / ("mod" + EXTENSION_SUFFIXES[0])
    compiled.write_bytes(b"")            # only its presence is looked at here
    monkeypatch.delenv("PIPELANG_PURE_PYTHON", raising=False)
    finder = _CurrentBuildFinder({"fakepkg.mod": _sha(source)}, root=str(tmp_path))
    assert finder.find_spec("fakepkg.mod").origin == str(compiled)
    assert finder.any_compiled()
    # PIPELANG_PURE_PYTHON=1 ignores it.
    monkeypatch.setenv("PIPELANG_PURE_PYTHON", "1")
    assert finder.find_spec("fakepkg.mod").origin == str(pkg / "mod.py")
    # Modules the build did not compile are left to Python's own finders.
    assert finder.find_spec("fakepkg.other") is None


def test_status_and_summary_describe_the_build():
    s = _compiled.status()
    assert set(s) == {"compiled", "pure"}
    assert "compiler core" in _compiled.summary()
    if _compiled._FINDER.sources and not _compiled.pure_python_requested():
        import pipelang.lowering.simplify_exprs as m
        assert m.__name__ in s["compiled"] + s["pure"]


def test_deep_stack_runs_on_its_own_thread_and_returns_or_raises(monkeypatch):
    monkeypatch.setattr(_compiled._FINDER, "any_compiled", lambda: True)
    var = contextvars.ContextVar("v", default="unset")
    var.set("caller's")

    @_compiled.deep_stack
    def work(n):
        if n < 0:
            raise ValueError("negative")
        return n, threading.current_thread().name, var.get(), threading.stack_size()

    n, thread, seen, _ = work(3)
    assert n == 3 and thread == "pipelang-work" and thread != threading.current_thread().name
    assert seen == "caller's"                  # context variables go along
    with pytest.raises(ValueError, match="negative"):
        work(-1)
    assert threading.stack_size() == 0         # the default for other threads is restored


def test_a_sum_of_thousands_of_terms_compiles():
    # Left-deep: the IR nests 3,000 levels (compiled, each level is a C call).
    x = hl.Var("x")
    g, f = hl.Func("g"), hl.Func("f")
    g[x] = x
    e = hl.i32(0)
    for i in range(3000):
        e = e + g[x + i]
    f[x] = e
    out = np.asarray(f.realize([4]))
    expect = np.array([sum(range(i, i + 3000)) for i in range(4)], dtype=np.int32)
    np.testing.assert_array_equal(out, expect)


@pytest.mark.parametrize("app", ["harris", "local_laplacian"])
def test_compiled_and_pure_python_lower_to_the_same_statement_and_llvm_ir(app, tmp_path):
    if not any(_compiled._FINDER.sources) or _compiled.pure_python_requested():
        pytest.skip("the compiler core is not compiled in this install")
    texts = {}
    for pure in ("0", "1"):
        stmt = tmp_path / f"{pure}.stmt"
        script = (
            "import sys, pipelang as hl\n"
            "from pipelang import _compiled\n"
            "from pipelang.bench import suite\n"
            "b = suite.BENCHMARKS[sys.argv[1]]\n"
            "p = hl.Pipeline(b.build(hl, b.inputs('tiny')))\n"
            "p.compile_to_lowered_stmt(sys.argv[2], [])\n"
            "from pipelang.backends.llvm.codegen import generate_module\n"
            "from pipelang.lowering.lower import lower\n"
            "from pipelang.pipeline import _functions\n"
            "fns = _functions(p.outputs())\n"
            "ir = str(generate_module(lower(fns, fns[0].name)[0]).module)\n"
            "open(sys.argv[2] + '.ll', 'w').write(ir)\n"
            "print(_compiled.summary())\n"
        )
        env = dict(os.environ, PIPELANG_PURE_PYTHON=pure, PIPELANG_CACHE="0")
        out = subprocess.run([sys.executable, "-c", script, app, str(stmt)], env=env,
                             capture_output=True, text=True, check=True)
        assert ("pure Python" in out.stdout) == (pure == "1"), out.stdout
        texts[pure] = stmt.read_text(), (tmp_path / f"{pure}.stmt.ll").read_text()
    # The statement, and the LLVM IR generated from it (value numbering's
    # variable bits once wrapped past 31 variables in the compiled build only).
    assert texts["0"][0] == texts["1"][0]
    assert texts["0"][1] == texts["1"][1]
