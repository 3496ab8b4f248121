"""Quality signals on hand-made strings, each value computed by hand."""

from __future__ import annotations

import polars as pl
import pytest
from audit_reference import CATALOG, demo_frame, real_frame, reference_quality

from segpile_lab.pile.quality import CODE_CHARACTERS, SIGNALS, quality_signals, quality_summary


def _signals(text: str) -> dict:
    return quality_signals(pl.DataFrame({"subset": ["S"], "text": [text]})).row(0, named=True)


@pytest.mark.parametrize(
    ("text", "signal", "expected"),
    [
        ("abc def", "alpha_share", 6 / 7),
        ("ab 12", "alpha_share", 2 / 5),
        ("Ünï", "alpha_share", 1.0),  # letters beyond ASCII count as letters
        ("abc def", "mean_word_length", 3.0),
        ("a bb  ccc\n", "mean_word_length", 2.0),
        ("héllo", "non_ascii_share", 1 / 5),
        ("plain", "non_ascii_share", 0.0),
        ("x\nx\ny\n\n", "repeated_line_share", 1 / 3),  # blank lines ignored
        ("a\n a \nb\nb\nb", "repeated_line_share", 3 / 5),  # stripped before comparing
        ("one line", "repeated_line_share", 0.0),
        ("a\n  \na\n\t", "repeated_line_share", 1 / 2),  # whitespace-only lines are blank
        ("f(x);", "code_char_share", 3 / 5),
        (CODE_CHARACTERS, "code_char_share", 1.0),
        ("no code here", "code_char_share", 0.0),
    ],
)
def test_signal_by_hand(text: str, signal: str, expected: float) -> None:
    assert _signals(text)[signal] == pytest.approx(expected)


def test_empty_document_has_null_signals() -> None:
    row = _signals("")
    assert all(row[s] is None for s in SIGNALS)


def test_summary_is_the_median_per_subset() -> None:
    df = pl.DataFrame({"subset": ["A", "A", "A", "B"], "text": ["aaa", "a1", "111", "b"]})
    summary = quality_summary(quality_signals(df))
    assert summary.filter(pl.col("subset") == "A")["alpha_share_median"][0] == 0.5
    assert summary.filter(pl.col("subset") == "B")["alpha_share_median"][0] == 1.0


def test_signals_keep_source_and_line_when_present() -> None:
    df = pl.DataFrame({"subset": ["A"], "text": ["x"], "source": ["f.jsonl"], "line": [3]})
    assert quality_signals(df).columns[:3] == ["subset", "source", "line"]


def _assert_same_as_reference(texts: list[str]) -> None:
    from polars.testing import assert_frame_equal

    df = pl.DataFrame(
        {"subset": ["S"] * len(texts), "text": texts}, schema_overrides={"text": pl.String}
    )
    assert_frame_equal(quality_signals(df).select(SIGNALS), reference_quality(df))


def test_kernels_equal_the_regex_definitions_on_the_catalog() -> None:
    _assert_same_as_reference([*CATALOG, None])


def test_kernels_equal_the_regex_definitions_on_the_demo_sample() -> None:
    _assert_same_as_reference(demo_frame()["text"].to_list())


@pytest.mark.shared
def test_kernels_equal_the_regex_definitions_on_real_pile_documents(shared_data) -> None:
    _assert_same_as_reference(real_frame(shared_data)["text"].to_list())


def _byte_counts_by_hand(text: str | None) -> dict[str, int]:
    """`_byte_counts`' definitions, one character at a time."""
    text = text or ""
    ascii_space = "\t\n\x0b\x0c\r "
    return {
        "letters": sum(c.isascii() and c.isalpha() for c in text),
        "spaces": sum(c in ascii_space for c in text),
        "code": sum(c in CODE_CHARACTERS for c in text),
        "non_ascii": sum(ord(c) > 0x7F for c in text),
        "words": sum(
            c not in ascii_space and (i == 0 or text[i - 1] in ascii_space)
            for i, c in enumerate(text)
        ),
    }


@pytest.mark.parametrize("block", [64, 192, 1 << 20])
def test_byte_count_kernel_equals_a_count_by_hand_at_every_word_boundary(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bit-mask prefix counts, with documents starting at every bit of a 64-bit word,
    documents that start or end in whitespace next to ones that do not, one long document,
    and blocks of classified bytes (`_BLOCK`) that end inside documents."""
    from segpile_lab.pile import quality

    monkeypatch.setattr(quality, "_BLOCK", block)
    texts: list[str | None] = ["", None, " ", "\n\n", "a", " a", "a ", "  \t \n", "x\n  \ny"]
    texts += ["ab{c} d" * (n // 7) + "é " + "z" * (n % 7) for n in range(0, 140)]
    texts += [" lead", "trail ", "", "é", "日本 語", " \u00a0 ", "f(x);\n\t\n", *CATALOG]
    texts.append(("word; " * 30_000 + "\n" * 65) * 3)  # one long document (~540 kB)
    texts += ["tail after the long one", "  "]
    expected = pl.DataFrame([_byte_counts_by_hand(t) for t in texts])
    for shift in range(9):  # every offset of the first document within a uint64 word
        got = quality._byte_counts(pl.Series(["x" * shift, *texts], dtype=pl.String))
        assert got.slice(1).to_dicts() == expected.to_dicts(), shift


def test_byte_count_kernel_of_an_empty_column() -> None:
    from segpile_lab.pile.quality import _byte_counts

    assert _byte_counts(pl.Series([], dtype=pl.String)).height == 0
    assert (
        _byte_counts(pl.Series(["", None], dtype=pl.String)).to_dicts()
        == [dict.fromkeys(("letters", "spaces", "code", "non_ascii", "words"), 0)] * 2
    )
