"""Outputs that an offline page would show blank, checked against nbconvert's own behaviour."""

from __future__ import annotations

import warnings

import nbformat
import pytest
from nbconvert import HTMLExporter

from segpile_lab.report.checks import WIDGET_VIEW, find_blank_outputs
from segpile_lab.report.export import representable_mimetypes

VIEW = {"version_major": 2, "version_minor": 0, "model_id": "abc"}
PNG = "iVBORw0KGgo="


def _notebook_with(output: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("show()")]
    nb.cells[1].outputs = [output]
    return nb


def _display(data: dict) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data=data)


def _nbconvert_warns(nb: nbformat.NotebookNode) -> bool:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        HTMLExporter().from_notebook_node(nb)
    return any("not able to be represented" in str(w.message) for w in caught)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"text/plain": "IntSlider(value=3)", WIDGET_VIEW: VIEW}, "widget output without"),
        ({WIDGET_VIEW: VIEW}, "widget output without"),
        ({"application/vnd.plotly.v1+json": {"data": []}}, "cannot be shown in HTML"),
    ],
)
def test_blank_outputs_are_found_with_their_cell(data, reason):
    problems = find_blank_outputs(_notebook_with(_display(data)), representable_mimetypes())
    assert [p.cell_index for p in problems] == [1]
    assert reason in problems[0].reason


@pytest.mark.parametrize(
    "data",
    [
        {"text/plain": "w", WIDGET_VIEW: VIEW, "image/png": PNG},
        {"text/plain": "w", WIDGET_VIEW: VIEW, "text/html": '<img alt="w">'},
        {"text/html": "<div class='plotly-graph-div'></div>"},
        {"image/png": PNG, "text/plain": "<Figure>"},
        {"text/plain": "42"},
    ],
)
def test_outputs_an_offline_page_can_show_pass(data):
    assert find_blank_outputs(_notebook_with(_display(data)), representable_mimetypes()) == []


def test_stream_and_error_outputs_are_not_checked():
    nb = _notebook_with(nbformat.v4.new_output("stream", name="stdout", text="hi"))
    nb.cells[0].outputs = [nbformat.v4.new_output("error", ename="E", evalue="v", traceback=[])]
    assert find_blank_outputs(nb, representable_mimetypes()) == []


def test_execute_result_is_checked_like_display_data():
    output = nbformat.v4.new_output("execute_result", data={WIDGET_VIEW: VIEW}, execution_count=1)
    assert len(find_blank_outputs(_notebook_with(output), representable_mimetypes())) == 1


def test_nbconvert_itself_drops_the_plotly_mimetype():
    """The reference behaviour our check anticipates (and names the cell for)."""
    nb = _notebook_with(_display({"application/vnd.plotly.v1+json": {"data": []}}))
    assert _nbconvert_warns(nb)


def test_nbconvert_shows_a_bare_widget_as_text_without_warning():
    """Why our own widget check is needed: nbconvert falls back to the repr silently."""
    nb = _notebook_with(_display({"text/plain": "IntSlider(value=3)", WIDGET_VIEW: VIEW}))
    assert not _nbconvert_warns(nb)
