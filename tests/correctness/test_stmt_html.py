"""compile_to_lowered_stmt with StmtOutputFormat.HTML writes a navigable page."""
from html.parser import HTMLParser

import pipelang as hl


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links, self.details, self.text = set(), [], 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href", "").startswith("#"):
            self.links.append(a["href"][1:])
        self.details += tag == "details"

    def handle_data(self, data):
        self.text.append(data)


def test_html_page_has_navigation_and_the_statement(tmp_path):
    x, y = hl.vars("x y")
    g = hl.Func("g")
    g[x, y] = x + y
    f = hl.Func("f")
    f[x, y] = g[x, y] + g[x + 1, y]
    g.compute_at(f, y)
    f.parallel(y)
    path = tmp_path / "f.html"
    f.compile_to_lowered_stmt(str(path), [], hl.StmtOutputFormat.HTML)
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<html>" in page and page.rstrip().endswith("</html>")
    p = _Collect()
    p.feed(page)
    text = "".join(p.text)
    assert p.details >= 3                     # collapsible loops and allocations
    assert p.links and all(link in p.ids for link in p.links)   # every link lands somewhere
    assert "parallel" in text and "allocate" in text and f"{g.name()}.s0.x" in text
    # The page holds the same statement as the text form, line for line.
    plain = tmp_path / "f.stmt"
    f.compile_to_lowered_stmt(str(plain), [], hl.StmtOutputFormat.Text)
    for line in plain.read_text().splitlines()[1:6]:
        assert " ".join(line.split()).replace("{", "").strip() in " ".join(text.split())
