"""Errors at the user's line: each kind of algorithm or schedule error, made as a
new user would in a script of their own, names the script's file and line
(PEP 678 notes under Halide's unchanged message), and the traceback ends at the
user's line with pipelang's own frames hidden."""
import os
import runpy
import subprocess
import sys
import textwrap
import traceback

import pytest

import pipelang as hl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _lines(source: str) -> dict:
    """Marker -> line number, for markers written as `# @name` at a line's end."""
    out = {}
    for i, line in enumerate(source.splitlines(), 1):
        if "# @" in line:
            out[line.rsplit("# @", 1)[1].strip()] = i
    return out


def _run(tmp_path, body: str, error=hl.HalideError):
    source = "import numpy as np\nimport pipelang as hl\nx, y = hl.Var('x'), hl.Var('y')\n" + \
        textwrap.dedent(body)
    path = tmp_path / "user_script.py"
    path.write_text(source)
    with pytest.raises(error) as info:
        runpy.run_path(str(path), run_name="__main__")
    e = info.value
    text = "\n".join([str(e)] + list(getattr(e, "__notes__", ())))
    return e, text, str(path), _lines(source)


def _check_last_frame(e, path, line):
    last = traceback.extract_tb(e.__traceback__)[-1]
    assert (last.filename, last.lineno) == (path, line), traceback.format_exception(e)
    assert not any(f.filename.startswith(os.path.join(ROOT, "pipelang"))
                   for f in traceback.extract_tb(e.__traceback__))


def test_illegal_compute_at_names_the_directive_line(tmp_path):
    e, text, path, at = _run(tmp_path, """
        f, g, h = hl.Func("f"), hl.Func("g"), hl.Func("h")
        f[x, y] = x + y  # @f
        g[x, y] = f[x, y] * 2
        h[x, y] = g[x, y] + 1
        g.compute_at(h, y)
        f.compute_at(h, x)  # @compute_at
        h.realize([8, 8])  # @realize
    """, hl.HalideError)
    assert "is computed at the following invalid location" in str(e)   # Halide's wording kept
    assert f"f.compute_at(h, x) at {path}:{at['compute_at']}" in text
    assert f'Func "f" defined at {path}:{at["f"]}' in text
    _check_last_frame(e, path, at["realize"])


def test_type_mismatch_in_a_definition(tmp_path):
    e, text, path, at = _run(tmp_path, """
        f = hl.Func("f")
        f[x] = x  # @pure
        f[x] = hl.f32(1.5)  # @update
    """)
    assert "has type float32, but the pure definition has type int32" in str(e)
    assert f'in the definition of Func "f" at {path}:{at["update"]}' in text
    assert f'Func "f" defined at {path}:{at["pure"]}' in text
    _check_last_frame(e, path, at["update"])


def test_out_of_bounds_input_names_the_reading_func(tmp_path):
    e, text, path, at = _run(tmp_path, """
        inp = hl.ImageParam(hl.UInt(8), 1, "inp")
        blur = hl.Func("blur")
        blur[x] = inp[x] + inp[x + 1]  # @blur
        inp.set(hl.Buffer(np.zeros(4, np.uint8)))
        blur.realize([4])  # @realize
    """, hl.PipelineRuntimeError if hasattr(hl, "PipelineRuntimeError") else hl.HalideError)
    assert str(e).startswith("Input buffer inp is accessed at 4")
    assert f'inp is read by Func "blur" defined at {path}:{at["blur"]}' in text
    assert f"blur.realize([4]) at {path}:{at['realize']}" in text
    _check_last_frame(e, path, at["realize"])


def test_call_of_an_undefined_func(tmp_path):
    e, text, path, at = _run(tmp_path, """
        f, g = hl.Func("f"), hl.Func("g")
        g[x] = 1 + f[x]  # @g
    """)
    # (`f[x] + 1` would be Halide's unevaluated reference, refused by g's definition.)
    assert "has not yet been defined" in str(e)
    assert f"f[x] at {path}:{at['g']}" in text
    _check_last_frame(e, path, at["g"])


def test_realize_of_an_undefined_func(tmp_path):
    e, text, path, at = _run(tmp_path, """
        f = hl.Func("f")
        f.realize([4])  # @realize
    """)
    assert f"f.realize([4]) at {path}:{at['realize']}" in text
    _check_last_frame(e, path, at["realize"])


def test_wrong_arity(tmp_path):
    e, text, path, at = _run(tmp_path, """
        f, g = hl.Func("f"), hl.Func("g")
        f[x] = x  # @f
        g[x] = f[x, x]  # @call
    """)
    assert "was called with 2 arguments, but was defined with 1" in str(e)
    assert f"f[x, x] at {path}:{at['call']}" in text
    assert f'Func "f" defined at {path}:{at["f"]}' in text
    _check_last_frame(e, path, at["call"])


def test_bad_split_directive(tmp_path):
    e, text, path, at = _run(tmp_path, """
        f = hl.Func("f")
        f[x] = x  # @f
        f.split(y, x, y, 4)  # @split
    """, hl.ScheduleError if hasattr(hl, "ScheduleError") else hl.HalideError)
    assert f"f.split(y, x, y, 4) at {path}:{at['split']}" in text
    _check_last_frame(e, path, at["split"])


def test_update_stage_directive_error_is_located(tmp_path):
    e, text, path, at = _run(tmp_path, """
        r = hl.RDom([(0, 4)])
        f = hl.Func("f")
        f[x] = x
        f[r.x] += 1  # @update
        f.update(0).vectorize(y, 4)  # @vec
    """)
    assert f"f.update(0).vectorize(y, 4) at {path}:{at['vec']}" in text
    _check_last_frame(e, path, at["vec"])


def test_schedule_error_found_at_compile_cites_every_directive_involved(tmp_path):
    # A compute_at that is legal when called becomes illegal once its consumer moves:
    # the note must cite the directive's own line, not the realize.
    e, text, path, at = _run(tmp_path, """
        f, g, h = hl.Func("f"), hl.Func("g"), hl.Func("h")
        f[x, y] = x + y
        g[x, y] = f[x, y] * 2
        h[x, y] = g[x, y] + 1
        f.compute_at(g, x)  # @f_at
        g.compute_inline()
        h.compile_jit()  # @jit
    """)
    assert f"f.compute_at(g, x) at {path}:{at['f_at']}" in text
    _check_last_frame(e, path, at["jit"])


def _script(tmp_path):
    path = tmp_path / "blur.py"
    path.write_text(textwrap.dedent("""
        import pipelang as hl
        x, y = hl.Var("x"), hl.Var("y")
        f, g = hl.Func("f"), hl.Func("g")
        f[x, y] = x + y
        g[x, y] = f[x, y] + f[x + 1, y]
        f.compute_at(g, hl.Var("nope"))
        g.realize([8, 8])
    """))
    return path


def _run_script(path, **env):
    e = dict(os.environ, PYTHONPATH=ROOT, **env)
    r = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=e,
                       timeout=120)
    assert r.returncode == 1, r.stderr
    return r.stderr


def test_script_traceback_ends_at_the_users_line_and_full_traceback_switch(tmp_path):
    path = _script(tmp_path)
    err = _run_script(path)
    frames = [ln for ln in err.splitlines() if ln.startswith('  File "')]
    assert frames[-1].startswith(f'  File "{path}", line 8'), err
    assert not any("pipelang" + os.sep in ln for ln in frames), err
    assert f"f.compute_at(g, nope) at {path}:7" in err
    assert "PIPELANG_FULL_TRACEBACK=1" in err
    full = _run_script(path, PIPELANG_FULL_TRACEBACK="1")
    assert any(os.path.join("pipelang", "") in ln for ln in full.splitlines()
               if ln.startswith('  File "')), full
    assert f"f.compute_at(g, nope) at {path}:7" in full


def test_internal_bugs_keep_their_full_traceback(monkeypatch):
    # Only HalideErrors are trimmed: an internal AssertionError shows pipelang's frames.
    import pipelang.definition as definition

    def broken(*args, **kwargs):
        raise AssertionError("internal bug")
    monkeypatch.setattr(definition, "define", broken)
    f, x = hl.Func("f"), hl.Var("x")
    with pytest.raises(AssertionError) as info:
        f[x] = x
    files = [fr.filename for fr in traceback.extract_tb(info.value.__traceback__)]
    assert any(name.startswith(os.path.join(ROOT, "pipelang")) for name in files)
    assert not getattr(info.value, "__notes__", None)


def test_messages_are_unchanged():
    # Halide-conformance tests compare str(e): the location only goes to notes.
    f, x = hl.Func("f"), hl.Var("x")
    f[x] = x
    with pytest.raises(hl.HalideError) as info:
        f[x, x]
    assert str(info.value) == f'Func "{f.name()}" was called with 2 arguments, but was defined with 1'


def test_pipeline_realize_runtime_error_is_located(tmp_path):
    e, text, path, at = _run(tmp_path, """
        inp = hl.ImageParam(hl.Float(32), 2, "inp")
        f = hl.Func("f")
        f[x, y] = inp[x, y] * 2  # @f
        p = hl.Pipeline(f)
        inp.set(hl.Buffer(np.zeros((4, 4), np.float32)))
        p.realize([4, 4])
        p.realize([5, 4])  # @realize
    """)
    assert f'inp is read by Func "f" defined at {path}:{at["f"]}' in text
    _check_last_frame(e, path, at["realize"])
