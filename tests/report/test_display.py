"""Report tables and notes: human headers, rounded numbers, every row, escaped text."""

from __future__ import annotations

import math
import re

import polars as pl
import pytest

from segpile_lab.report.display import format_value, show_note, show_table


@pytest.mark.parametrize(
    ("value", "fmt", "text"),
    [
        (524.571429, None, "525"),
        (0.0028531, None, "0.00285"),
        (1039476.0, None, "1,039,476"),
        (1039476, None, "1,039,476"),
        (True, None, "yes"),
        (None, None, "—"),
        (math.nan, None, "—"),
        (math.inf, None, "∞"),
        (["a", 1.23456], None, "a, 1.23"),
        (0.18113, "{:.1%}", "18.1%"),
        (3, lambda v: f"{v} docs", "3 docs"),
        (None, "{:.1%}", "—"),
        (math.nan, lambda v: "n too small" if v is None else f"{v:,.0f}", "n too small"),
        (1234.5, lambda v: "n too small" if v is None else f"{v:,.0f}", "1,234"),
    ],
)
def test_format_value(value, fmt, text):
    assert format_value(value, fmt) == text


def _cells(html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}(?:\s[^>]*)?>(.*?)</{tag}>", html)


FRAME = pl.DataFrame(
    {
        "subset": [f"s{i}" for i in range(22)],
        "bytes": [1000 * i for i in range(22)],
        "byte_share": [i / 231 for i in range(22)],
        "internal": list(range(22)),
    }
)


def test_show_table_names_columns_formats_and_keeps_every_row():
    table = show_table(
        FRAME, {"subset": "subset", "bytes": "size (bytes)", "byte_share": ("share", "{:.1%}")}
    )
    html = table._repr_html_()
    assert _cells(html, "th") == ["subset", "size (bytes)", "share"]
    assert 'data-rows="22"' in html and "<details>" not in html
    cells = _cells(html, "td")
    assert len(cells) == 22 * 3
    assert cells[-3:] == ["s21", "21,000", "9.1%"]
    assert "internal" not in html
    assert re.search(r'<td class="num">21,000</td>', html)  # numbers right-aligned


def test_show_table_top_k_keeps_the_rest_one_click_away():
    html = show_table(FRAME, {"subset": "subset"}, top=10)._repr_html_()
    shown, hidden = html.split("<details>")
    assert len(_cells(shown, "td")) == 10
    assert len(_cells(hidden, "td")) == 12
    assert "show all 22 rows (12 more)" in hidden
    assert 'data-rows="22"' in html


def test_show_table_escapes_text_and_wraps():
    frame = pl.DataFrame({"note": ["<script>alert(1)</script> & a long reason " * 5]})
    html = show_table(frame)._repr_html_()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "white-space: normal" in html  # text cells wrap instead of being cut


def test_show_table_unknown_column_names_the_columns():
    with pytest.raises(KeyError, match="no column 'nope'"):
        show_table(FRAME, {"nope": "x"})


def test_show_note_is_html_with_a_text_fallback():
    note = show_note("weights <b>not</b> here", title="UserWarning", kind="warning")
    assert 'class="sl-note warning"' in note._repr_html_()
    assert "&lt;b&gt;not&lt;/b&gt;" in note._repr_html_()
    assert repr(note) == "UserWarning: weights <b>not</b> here"
