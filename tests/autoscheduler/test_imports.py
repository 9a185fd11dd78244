"""autoscheduler/ uses pipelang's API, pipelang.ir and the public analyses in
pipelang.lowering.analysis, never lowering passes or backends (STYLE.md)."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2] / "autoscheduler"


def test_autoscheduler_imports_no_lowering_or_backend_internals():
    bad = []
    for path in ROOT.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for n in names:
                if n.startswith("pipelang.backends") or (
                        n.startswith("pipelang.lowering") and
                        not n.startswith("pipelang.lowering.analysis")):
                    bad.append(f"{path.name}: {n}")
    assert not bad, bad
