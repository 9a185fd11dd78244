"""serialize_pipeline / deserialize_pipeline round trips: algorithm, schedule,
Params, ImageParams and embedded Buffers, in bytes and in files."""
import numpy as np
import pytest

import pipelang as hl


def blur_pipeline():
    x, y = hl.vars("x y")
    inp = hl.ImageParam(hl.UInt(8), 2, "input")
    gain = hl.Param(hl.Float(32), "gain", 1.5)
    lut = hl.Buffer(np.arange(256, dtype=np.uint8)[::-1].copy(), "lut")
    clamped = hl.BoundaryConditions.repeat_edge(inp)
    bx = hl.Func("bx")
    bx[x, y] = (hl.u16(clamped[x - 1, y]) + clamped[x, y] + clamped[x + 1, y]) // 3
    out = hl.Func("out")
    out[x, y] = hl.u8_sat(hl.f32(lut[hl.u8(bx[x, y])]) * gain)
    xo, xi = hl.Var("xo"), hl.Var("xi")
    out.split(x, xo, xi, 8).vectorize(xi).parallel(y)
    bx.compute_at(out, y)
    return hl.Pipeline(out), inp, gain


def reference(img, gain):
    p = np.pad(img.astype(np.int32), ((0, 0), (1, 1)), mode="edge")
    bx = (p[:, :-2] + p[:, 1:-1] + p[:, 2:]) // 3
    return np.clip((255 - bx).astype(np.float32) * np.float32(gain), 0, 255).astype(np.uint8)


def test_round_trip_runs_with_user_params():
    p, inp, gain = blur_pipeline()
    data, params = hl.serialize_pipeline(p, get_params=True)
    assert sorted(params) == ["gain", "input"] and params["input"].is_buffer()
    assert params["gain"].type() == hl.Float(32) and params["input"].dimensions() == 2
    img = np.random.default_rng(1).integers(0, 256, (9, 20), dtype=np.uint8)
    new_inp = hl.ImageParam(hl.UInt(8), 2, "input")
    new_inp.set(hl.Buffer(img))
    new_gain = hl.Param(hl.Float(32), "gain", 0.75)
    q = hl.deserialize_pipeline(data, {"input": new_inp.parameter(), "gain": new_gain.parameter()})
    np.testing.assert_array_equal(np.asarray(q.realize([20, 9])), reference(img, 0.75))
    # The schedule came along: the loaded pipeline lowers to the same statement.
    inp.set(hl.Buffer(img))
    gain.set(0.75)
    assert q.lowered_stmt() == p.lowered_stmt()


def test_file_round_trip_and_parameters(tmp_path):
    p, inp, gain = blur_pipeline()
    path = tmp_path / "blur.hlpipe"
    params = hl.serialize_pipeline(p, path, get_params=True)
    assert path.stat().st_size > 0 and list(params) == ["gain", "input"]
    loaded = hl.deserialize_parameters(path)
    assert loaded["gain"].type() == hl.Float(32) and loaded["input"].type() == hl.UInt(8)
    img = np.full((4, 16), 200, np.uint8)
    loaded["input"].owner().set(hl.Buffer(img))
    q = hl.deserialize_pipeline(path, loaded)
    np.testing.assert_array_equal(np.asarray(q.realize([16, 4])), reference(img, 1.5))


def test_reductions_tuples_and_multiple_outputs():
    x = hl.Var("x")
    r = hl.RDom([(0, 10)], "r")
    r.where(r != 3)
    hist = hl.Func("hist")
    hist[x] = 0
    hist[r % 4] += 1
    pair = hl.Func("pair")
    pair[x] = (x * 2, hl.f32(x) / 2)
    s = hl.Func("s")
    s[x] = pair[x][0] + hl.i32(pair[x][1]) + hist[x % 4]
    other = hl.Func("other")
    other[x] = pair[x][0] - 1
    q = hl.deserialize_pipeline(hl.serialize_pipeline(hl.Pipeline([s, other])))
    got_s, got_o = q.realize([6])
    xs = np.arange(6)
    counts = np.bincount([v % 4 for v in range(10) if v != 3], minlength=4)
    np.testing.assert_array_equal(np.asarray(got_s), xs * 2 + xs // 2 + counts[xs % 4])
    np.testing.assert_array_equal(np.asarray(got_o), xs * 2 - 1)


def test_bad_data_is_a_clear_error(tmp_path):
    with pytest.raises(hl.HalideError, match="not a pipelang pipeline"):
        hl.deserialize_pipeline(b"\x1c\x00\x00\x00 flatbuffers")
    with pytest.raises(hl.HalideError, match="can't read pipeline file"):
        hl.deserialize_pipeline(tmp_path / "missing.hlpipe")
    p, _, _ = blur_pipeline()
    with pytest.raises(hl.HalideError, match="has type int32, but the pipeline was saved with float32"):
        hl.deserialize_pipeline(hl.serialize_pipeline(p), {"gain": hl.Param(hl.Int(32), "gain").parameter()})
