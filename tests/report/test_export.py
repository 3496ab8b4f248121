"""Offline HTML export: no CDN loaders, plotly.js inline once, network resources refused."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from segpile_lab.report.export import drop_repeated_plotly_js, export_html

PLOTLY_JS = "<script>/**\n* plotly.js v4.1.1\n*/ window.Plotly = {};</script>"
FIGURE = (
    '<div> <script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/3.2.2/es5/tex-svg.min.js">'
    '</script> <div class="plotly-graph-div" id="f1"></div></div>'
)


def _html_output(html: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={"text/html": html})


def _notebook(*cells: tuple[str, list[str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for source, htmls in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.outputs = [_html_output(h) for h in htmls]
        nb.cells.append(cell)
    return nb


def test_drop_repeated_plotly_js_keeps_the_first_copy_and_every_figure():
    nb = _notebook(
        ("fig1", [PLOTLY_JS, FIGURE]),
        ("fig2", [PLOTLY_JS, FIGURE]),
        ("fig3", [PLOTLY_JS + FIGURE]),  # plotly.js and a figure in one output: kept
    )
    assert drop_repeated_plotly_js(nb) == 1
    assert [len(c.outputs) for c in nb.cells] == [2, 1, 1]
    assert nb.cells[1].outputs[0].data["text/html"] == FIGURE


def test_export_writes_an_offline_page(tmp_path: Path):
    nb = _notebook(("fig", [PLOTLY_JS, FIGURE]), ("fig", [PLOTLY_JS, FIGURE]))
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("Bits per byte: $b = n / 8$"))
    dest = tmp_path / "page.html"

    assert export_html(nb, dest, source_dir=tmp_path) == []
    page = dest.read_text(encoding="utf-8")
    assert page.count('class="plotly-graph-div"') == 2
    assert len(re.findall(r"plotly\.js v\d", page)) == 1
    scripts = re.findall(r"<script\b[^>]*\bsrc\s*=\s*[\"']?([^\"' >]+)", page)
    assert scripts == []  # nbconvert's require.js / MathJax / mermaid loaders and plotly's too
    for cdn in ("cdnjs.cloudflare.com", "unpkg.com", "cdn.jsdelivr.net"):
        assert cdn not in page


def test_export_flags_plotly_figures_without_plotly_js(tmp_path: Path):
    problems = export_html(_notebook(("fig", [FIGURE])), tmp_path / "p.html", source_dir=tmp_path)
    assert len(problems) == 1
    assert "without plotly.js" in problems[0]


def test_export_flags_resources_from_the_network(tmp_path: Path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell('<img src="https://example.org/logo.png" alt="x">')]
    problems = export_html(nb, tmp_path / "p.html", source_dir=tmp_path)
    assert problems == ["the page loads from the network: https://example.org/logo.png"]


def test_export_flags_outputs_nbconvert_cannot_represent(tmp_path: Path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fig.show()")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"application/vnd.plotly.v1+json": {}})
    ]
    nb.cells = [cell]
    problems = export_html(nb, tmp_path / "p.html", source_dir=tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("nbconvert: ")
    assert "not able to be represented" in problems[0]


def test_export_embeds_markdown_images_from_the_notebook_folder(tmp_path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, _ = plt.subplots(figsize=(1, 1))
    fig.savefig(tmp_path / "picture.png")
    plt.close(fig)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("![a picture](picture.png)")]
    out = tmp_path / "out"
    out.mkdir()

    assert export_html(nb, out / "p.html", source_dir=tmp_path) == []
    assert 'src="data:image/png;base64,' in (out / "p.html").read_text(encoding="utf-8")


def test_display_math_is_drawn_as_inline_svg(tmp_path: Path):
    import base64
    import xml.etree.ElementTree as ET

    tex = r"\text{BPB} = \frac{-\sum \ln p(t \mid c)}{\ln 2 \cdot \sum \text{bytes}}"
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(f"Pooled:\n\n$${tex}$$\n\nand $5 or $6 stay."))
    dest = tmp_path / "math.html"

    assert export_html(nb, dest, source_dir=tmp_path) == []
    page = dest.read_text(encoding="utf-8")
    assert "$$" not in page.replace('alt="$$', "").replace('$$"', "")
    assert "$5 or $6 stay" in page  # inline dollars are text
    images = [a for a in _img_attributes(page) if a.get("class") == "segpile-math"]
    assert len(images) == 1
    assert r"\frac{-\sum \ln p(t \mid c)}" in images[0]["alt"]
    prefix = "data:image/svg+xml;base64,"
    assert images[0]["src"].startswith(prefix)
    svg = ET.fromstring(base64.b64decode(images[0]["src"].removeprefix(prefix)))
    assert svg.tag.endswith("svg") and len(svg.findall(".//{http://www.w3.org/2000/svg}path")) > 10


def test_display_math_mathtext_cannot_draw_is_a_problem(tmp_path: Path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(r"$$\frac{a}{$$"))
    problems = export_html(nb, tmp_path / "bad.html", source_dir=tmp_path)
    assert len(problems) == 1 and problems[0].startswith("display math not drawn")
    assert r"$$\frac{a}{$$" in problems[0]


def _img_attributes(page: str) -> list[dict[str, str]]:
    from html.parser import HTMLParser

    found: list[dict[str, str]] = []

    class Images(HTMLParser):
        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            if tag == "img":
                found.append({k: v or "" for k, v in attrs})

    Images().feed(page)
    return found


def test_results_carry_no_out_prompt(tmp_path):
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=3)
    cell.outputs = [
        nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=3)
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell]
    export_html(nb, tmp_path / "page.html", source_dir=tmp_path)
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    body = re.sub(r"<style.*?</style>", "", page, flags=re.S)  # CSS comments mention Out[]
    assert "Out[" not in body and "Out&nbsp;[" not in body
    assert "In [3]" in body.replace("\xa0", " ")  # the input prompt stays: it orders the code
