"""Small builders shared by the lowering unit tests."""
from pipelang import ir


def var(name: str, t=ir.Int(32)):
    return ir.Variable(t, ir.Symbol(name))


def find_all(node, cls) -> list:
    """Every node of type `cls` in `node`, in visiting order."""
    out = []

    class _Find(ir.IRVisitor):
        def visit(self, n):
            if isinstance(n, cls):
                out.append(n)
            return super().visit(n)
    _Find().visit(node)
    return out


def assert_same(got, want):
    assert got == want, f"\n--- got:\n{ir.to_string(got)}\n--- want:\n{ir.to_string(want)}"
