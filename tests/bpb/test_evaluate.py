"""Aggregation, exclusions and bootstrap intervals of evaluate_bpb on hand-built frames."""

from __future__ import annotations

import math

import polars as pl
import pytest
from bpb_fakes import TableScorer

from segpile_lab.bpb.evaluate import evaluate_bpb, word_count
from segpile_lab.errors import DataError

LN2 = math.log(2)


def _frame(subsets, texts):
    return pl.DataFrame({"subset": subsets, "text": texts})


def test_subset_bpb_pools_nll_over_bytes_not_mean_of_ratios():
    # doc "ab": 2 bytes, 4 bits -> 2 bits/byte; doc "cdefghij": 8 bytes, 8 bits -> 1 bit/byte
    scorer = TableScorer({"ab": 4 * LN2, "cdefghij": 8 * LN2})
    result = evaluate_bpb(_frame(["s", "s"], ["ab", "cdefghij"]), scorer, bootstrap=0)
    row = result.subsets.filter(pl.col("subset") == "s").row(0, named=True)
    assert row["bpb"] == pytest.approx(12 / 10)  # pooled; the mean of ratios would be 1.5
    assert row["byte_perplexity"] == pytest.approx(2 ** (12 / 10))
    assert row["tokens_per_byte"] == pytest.approx(1.0)
    assert row["word_perplexity"] == pytest.approx(math.exp(12 * LN2 / 2))
    assert result.documents["bpb"].to_list() == pytest.approx([2.0, 1.0])


def test_overall_row_pools_over_all_subsets():
    scorer = TableScorer({"aa": 2 * LN2, "bbbb": 12 * LN2})
    result = evaluate_bpb(_frame(["x", "y"], ["aa", "bbbb"]), scorer, bootstrap=0)
    assert result.overall()["bpb"].item() == pytest.approx(14 / 6)
    assert result.overall()["documents"].item() == 2


def test_zero_byte_documents_are_excluded_and_counted():
    scorer = TableScorer({"abcd": 4 * LN2})
    result = evaluate_bpb(_frame(["s", "s", "s"], ["abcd", "", None]), scorer, bootstrap=0)
    row = result.subsets.filter(pl.col("subset") == "s").row(0, named=True)
    assert (row["documents"], row["excluded_zero_byte"], row["bpb"]) == (1, 2, 1.0)
    assert any("2 zero-byte" in note for note in result.notes)


def test_subset_with_nothing_to_score_is_nan_with_a_note():
    scorer = TableScorer({"abcd": 4 * LN2})
    result = evaluate_bpb(_frame(["s", "empty"], ["abcd", ""]), scorer, bootstrap=0)
    row = result.subsets.filter(pl.col("subset") == "empty").row(0, named=True)
    assert math.isnan(row["bpb"]) and row["documents"] == 0
    assert any(note.startswith("empty: no scorable documents") for note in result.notes)


def test_all_documents_empty_gives_no_rows_and_notes():
    result = evaluate_bpb(_frame(["s"], [""]), TableScorer({}), bootstrap=0)
    assert result.subsets.height == 0 and result.notes


def test_bootstrap_is_reproducible_and_contains_the_point_estimate():
    texts = [f"document number {i} " * (1 + i % 5) for i in range(30)]
    scorer = TableScorer({t: (1 + (i % 7) / 3) * len(t) for i, t in enumerate(texts)})
    frame = _frame(["s"] * 30, texts)
    first = evaluate_bpb(frame, scorer, bootstrap=300, seed=7).subsets
    again = evaluate_bpb(frame, scorer, bootstrap=300, seed=7).subsets
    other = evaluate_bpb(frame, scorer, bootstrap=300, seed=8).subsets
    assert first.equals(again)
    assert not first["ci_low"].equals(other["ci_low"])
    for row in first.iter_rows(named=True):
        assert row["ci_low"] < row["bpb"] < row["ci_high"]


def test_single_document_subset_has_a_degenerate_interval_with_a_note():
    result = evaluate_bpb(_frame(["s"], ["abcd"]), TableScorer({"abcd": LN2}), bootstrap=50)
    row = result.subsets.filter(pl.col("subset") == "s").row(0, named=True)
    assert row["ci_low"] == row["ci_high"] == pytest.approx(0.25)
    assert "degenerate" in row["note"]


@pytest.mark.parametrize(
    ("text", "words"), [("a b  c", 3), (" a b", 3), ("one", 1), ("a\n\tb\n", 3)]
)
def test_word_count_follows_lm_eval_regex_split(text, words):
    assert word_count(text) == words


def test_missing_columns_raise_a_data_error():
    with pytest.raises(DataError, match="missing: \\['subset'\\]"):
        evaluate_bpb(pl.DataFrame({"text": ["a"]}), TableScorer({"a": 1.0}))


def test_duplicate_scorer_names_are_refused():
    with pytest.raises(ValueError, match="unique"):
        evaluate_bpb(_frame(["s"], ["a"]), [TableScorer({"a": 1.0}), TableScorer({"a": 1.0})])


def test_summary_is_json_safe_and_labels_synthetic_data():
    frame = _frame(["s", "e"], ["abcd", ""]).with_columns(synthetic=pl.lit(True))
    result = evaluate_bpb(frame, TableScorer({"abcd": LN2}), bootstrap=10)
    summary = result.summary()
    assert summary["label"] == "synthetic demo data"
    assert summary["overall_bpb"] == {"table": pytest.approx(0.25)}
    assert summary["subsets"]["table"]["e"]["bpb"] is None  # NaN → null in JSON


def test_fit_split_is_stratified_disjoint_and_seeded():
    from segpile_lab.bpb.evaluate import fit_split

    frame = _frame(["a"] * 6 + ["b"] * 4 + ["c"], [str(i) for i in range(11)])
    fit, held_out = fit_split(frame, 0.5, seed=3)
    assert fit["subset"].value_counts().sort("subset").rows() == [("a", 3), ("b", 2)]
    assert set(fit["text"]).isdisjoint(held_out["text"])
    assert fit.height + held_out.height == 11
    assert fit.equals(fit_split(frame, 0.5, seed=3)[0])


def test_with_composition_and_paper_join_per_subset_rows():
    texts = ["same text", "same text", "other words here", "print(1)\n"]
    frame = _frame(["Pile-CC", "Pile-CC", "Pile-CC", "Github"], texts)
    result = evaluate_bpb(frame, TableScorer({t: LN2 * len(t) for t in texts}), bootstrap=0)
    joined = result.with_composition(frame)
    row = joined.filter(pl.col("subset") == "Pile-CC").row(0, named=True)
    assert row["exact_duplicate_rate"] == pytest.approx(1 / 3)
    assert row["mean_doc_bytes"] == pytest.approx((9 + 9 + 16) / 3)
    assert row["bytes_per_token"] == pytest.approx(1.0)
    paper = result.with_paper(["gpt2_small"])
    assert paper.filter(pl.col("subset") == "Github")["gpt2_small"].item() == 1.7912
    assert paper.filter(pl.col("subset") == "ALL")["gpt2_small"].item() == 1.2253
