"""A notebook, executed in a real Jupyter kernel with nbclient (skipped when
nbclient/ipykernel are missing, and then run as a plain script of the same cells
through the objects' own `_repr_*_` methods): it shows an image Buffer, a Func's
loop nest and a lowered-stmt HTML page, and an error cell points at its own line."""
import base64
import os
import struct

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CELLS = [
    # 0: an image Buffer
    """import numpy as np
import pipelang as hl
x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
grad = hl.Func("grad")
grad[x, y] = hl.u8((x * 8 + y * 4) % 256)
img = grad.realize([32, 16])
img""",
    # 1: a Func's loop nest
    """blur = hl.Func("blur")
blur[x, y] = (grad[x, y] + grad[x + 1, y]) // 2
xo, xi = hl.Var("xo"), hl.Var("xi")
blur.split(x, xo, xi, 8).vectorize(xi)
blur""",
    # 2: a lowered stmt as an HTML page
    """import tempfile, os
from IPython.display import HTML
path = os.path.join(tempfile.mkdtemp(), "blur.html")
blur.compile_to_lowered_stmt(path, [], hl.StmtOutputFormat.HTML)
HTML(open(path).read())""",
]

ERROR_CELL = """nowhere = hl.Var("nowhere")
# grad is read by blur, which has no loop over nowhere:
grad.compute_at(blur, nowhere)
blur.realize([8, 8])"""

# IPython before 8.15 does not print PEP 678 notes: read them from the error.
NOTES_CELL = """import sys
print("\\n".join(sys.last_value.__notes__))"""


def _png_size(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _check_outputs(outputs):
    image, nest, stmt = outputs
    assert _png_size(image["image/png"]) == (32, 16)
    assert "blur" in nest["text/html"] and "xi" in nest["text/html"]
    page = stmt["text/html"]
    assert "<" in page and "blur" in page


def _run_kernel():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS + [ERROR_CELL, NOTES_CELL]]
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": ROOT}})
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        client.execute(env=env)
    except Exception as e:   # no kernel can start here (no kernelspec): not our failure
        if "kernel" in type(e).__name__.lower() or "No such kernel" in str(e):
            pytest.skip(f"no Jupyter kernel: {e}")
        raise
    return nb


def test_notebook_shows_image_loop_nest_and_stmt_page():
    nb = _run_kernel()
    outputs = []
    for cell in nb.cells[:3]:
        results = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert results, cell.outputs
        data = dict(results[-1]["data"])
        if "image/png" in data:
            data["image/png"] = base64.b64decode(data["image/png"])
        outputs.append(data)
    _check_outputs(outputs)
    # The error cell: Halide's message, then the cell's own line (line 3, the directive).
    err = [o for o in nb.cells[3].outputs if o.output_type == "error"]
    assert err and err[0]["ename"] == "ScheduleError"
    assert "pipelang" + os.sep + "pipeline.py" not in "\n".join(err[0]["traceback"])
    notes = "".join(o.get("text", "") for o in nb.cells[4].outputs if o.output_type == "stream")
    # The cell's own line: `grad.compute_at(blur, nowhere)` is line 3 of the error cell.
    located = [ln for ln in notes.splitlines() if ln.startswith("grad.compute_at(blur, nowhere) at ")]
    assert located and located[0].endswith(":3"), notes


def test_same_cells_as_a_script():
    # Without Jupyter: the same cells through the objects' own display methods.
    pytest.importorskip("IPython")
    ns: dict = {}
    outputs = []
    for src in CELLS:
        *body, last = src.split("\n")
        exec("\n".join(body), ns)
        obj = eval(last, ns)
        if hasattr(obj, "_repr_png_"):
            outputs.append({"image/png": obj._repr_png_()})
        else:
            outputs.append({"text/html": obj._repr_html_()})
    _check_outputs(outputs)
