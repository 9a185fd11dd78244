"""The bundled PNG writer and reader round-trip every supported format."""

import numpy as np
import pytest

from pipelang.bench.png import read_png, write_png


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(5, 7), (4, 6, 3), (3, 2, 4), (1, 1)])
def test_round_trip(tmp_path, shape, dtype):
    image = np.random.default_rng(0).integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype)
    write_png(tmp_path / "x.png", image)
    back = read_png(tmp_path / "x.png")
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, image)


def test_pillow_reads_what_we_write_and_we_read_its_filters(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    ramp = (np.add.outer(np.arange(40), np.arange(50)) * 3 % 256).astype(np.uint8)
    rgb = np.stack([ramp, ramp[::-1], ramp * 2], axis=-1).astype(np.uint8)
    write_png(tmp_path / "ours.png", rgb)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "ours.png")), rgb)
    Image.fromarray(rgb).save(tmp_path / "theirs.png", optimize=True)  # Pillow picks row filters
    np.testing.assert_array_equal(read_png(tmp_path / "theirs.png"), rgb)


def test_rejects_what_it_cannot_write(tmp_path):
    with pytest.raises(TypeError, match="uint8 or uint16"):
        write_png(tmp_path / "x.png", np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="shape"):
        write_png(tmp_path / "x.png", np.zeros((2, 2, 2), np.uint8))
