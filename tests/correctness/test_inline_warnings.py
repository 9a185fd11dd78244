"""Halide's "meaningless split ... scheduled inline" warning: printed for an
inlined Func's splits, never for an output Func, including one whose calls
were redirected to in_() wrappers (lesson 22's transpose)."""
import pipelang as hl


def _transpose(split_producer: bool):
    x, y, xi, yi = hl.Var("x"), hl.Var("y"), hl.Var("xi"), hl.Var("yi")
    inp, out = hl.Func("inp"), hl.Func("out")
    inp[x, y] = hl.u16(x + 3 * y)
    out[x, y] = inp[y, x]
    out.tile(x, y, xi, yi, 8, 8).vectorize(xi).unroll(yi)
    inp.in_(out).compute_at(out, x).vectorize(x).unroll(y)
    if split_producer:
        inp.split(x, xi, yi, 4)          # inp itself stays inline
    buf = hl.Buffer(hl.UInt(16), [16, 16])
    hl.Pipeline(out).realize(buf)
    assert buf[3, 5] == 5 + 3 * 3
    return buf


def test_no_warning_for_an_output_with_wrappers(capsys):
    _transpose(split_producer=False)
    assert "meaningless" not in capsys.readouterr().out


def test_warning_for_an_inlined_func(capsys):
    _transpose(split_producer=True)
    lines = [l for l in capsys.readouterr().out.splitlines() if "meaningless" in l]
    assert len(lines) == 2 and all("function inp" in l and "scheduled inline" in l for l in lines)
