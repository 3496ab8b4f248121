"""Composition: exact counts, shares vs the manifest, quantile precision, merging across shards."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from segpile_lab.errors import DataError
from segpile_lab.pile.composition import (
    BINS_PER_OCTAVE,
    CompositionStats,
    byte_share_intervals,
    composition,
    published_table,
)
from segpile_lab.pile.subsets import PILE_SUBSETS


def _frame(subsets: list[str], sizes: list[int], synthetic: bool = False) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "subset": subsets,
            "n_bytes": pl.Series(sizes, dtype=pl.UInt64),
            "n_chars": sizes,
            "known_subset": [s in PILE_SUBSETS for s in subsets],
            "synthetic": [synthetic] * len(subsets),
        }
    )


def _row(table: pl.DataFrame, subset: str) -> dict:
    return table.filter(pl.col("subset") == subset).row(0, named=True)


def test_counts_shares_and_ratios_by_hand() -> None:
    table = composition(_frame(["ArXiv", "ArXiv", "Github", "Enron Emails"], [100, 300, 600, 0]))
    arxiv, github = _row(table, "ArXiv"), _row(table, "Github")
    assert (arxiv["documents"], arxiv["bytes"]) == (2, 400)
    assert arxiv["doc_share"] == 0.5 and arxiv["byte_share"] == 0.4
    assert arxiv["mean_doc_bytes"] == 200 and arxiv["min_doc_bytes"] == 100
    assert github["observed_published_ratio"] == pytest.approx(60 / 7.59)
    assert github["mean_vs_published"] == pytest.approx(600 / (5.25 * 1024))
    assert _row(table, "Enron Emails")["median_doc_bytes"] == 0.0  # an empty document


def test_published_columns_come_from_the_manifest() -> None:
    table = composition(_frame(["ArXiv"], [1]))
    assert table["subset"].to_list()[:22] == list(PILE_SUBSETS)
    published = published_table()
    assert published.height == 22
    assert published["published_weight_percent"].sum() == pytest.approx(100, abs=0.1)
    assert _row(table, "Pile-CC")["published_weight_percent"] == 18.11
    assert _row(table, "Books3")["published_mean_doc_bytes"] == pytest.approx(538.36 * 1024)


def test_subset_without_documents_has_nan_statistics_and_a_note() -> None:
    table = composition(_frame(["ArXiv"], [10]))
    row = _row(table, "Github")
    assert row["documents"] == 0 and row["bytes"] == 0
    assert math.isnan(row["mean_doc_bytes"]) and math.isnan(row["median_doc_bytes"])
    assert "no documents" in row["note"]
    assert "Github" not in composition(_frame(["ArXiv"], [10]), include_missing=False)["subset"]


def test_unknown_subset_is_its_own_flagged_row() -> None:
    table = composition(_frame(["ArXiv", "Pile-v2 Code", "<unknown>"], [5, 7, 9]))
    unknown = table.filter(~pl.col("known_subset"))
    assert sorted(unknown["subset"]) == ["<unknown>", "Pile-v2 Code"]
    assert all("not one of the Pile's 22" in n for n in unknown["note"])
    assert unknown["published_weight_percent"].is_null().all()
    assert table.height == 24


def test_empty_frame_gives_22_rows_without_crashing() -> None:
    table = composition(_frame([], []))
    assert table.height == 22
    assert (table["documents"] == 0).all()
    assert table["byte_share"].is_nan().all()


def test_byte_totals_above_4_gib_do_not_wrap() -> None:
    sizes = [3_000_000_000] * 3  # each fits UInt32; their sum does not
    assert _row(composition(_frame(["Books3"] * 3, sizes)), "Books3")["bytes"] == 9_000_000_000


def test_n_bytes_is_computed_from_text_when_absent() -> None:
    df = pl.DataFrame({"subset": ["ArXiv", "ArXiv"], "text": ["é", "abc"]})
    assert _row(composition(df), "ArXiv")["bytes"] == 5  # "é" is 2 UTF-8 bytes


def test_missing_columns_raise_a_data_error() -> None:
    with pytest.raises(DataError, match="subset"):
        composition(pl.DataFrame({"text": ["a"]}))
    with pytest.raises(DataError, match="n_bytes"):
        composition(pl.DataFrame({"subset": ["ArXiv"]}))


def test_synthetic_rows_are_counted_and_noted() -> None:
    row = _row(composition(_frame(["ArXiv"], [10], synthetic=True)), "ArXiv")
    assert row["synthetic_documents"] == 1
    assert "synthetic demo data" in row["note"]


@pytest.mark.parametrize("q", [0.5, 0.9])
def test_quantiles_are_within_one_bin_of_the_exact_order_statistic(q: float) -> None:
    rng = np.random.default_rng(0)
    sizes = np.round(rng.lognormal(8, 1.5, size=5001)).astype(np.int64) + 1
    stats = CompositionStats().update(_frame(["ArXiv"] * len(sizes), sizes.tolist()))
    estimate = stats.subsets["ArXiv"].quantile(q)
    exact = np.quantile(sizes, q)  # numpy's default: linear between order statistics
    assert abs(math.log2(estimate / exact)) <= 1 / BINS_PER_OCTAVE


def test_quantiles_of_tiny_subsets_stay_within_min_and_max() -> None:
    stats = CompositionStats().update(_frame(["ArXiv", "ArXiv"], [100, 100]))
    assert stats.subsets["ArXiv"].quantile(0.5) == 100
    assert stats.subsets["ArXiv"].quantile(0.9) == 100


@pytest.mark.parametrize(
    "sizes", [[100, 300], [100, 300, 5000], [7, 8, 9, 10000], [524, 1, 60000, 2, 3]]
)
def test_quantiles_of_small_subsets_equal_numpy_linear(sizes: list[int]) -> None:
    # two documents: the median is their mean, never the smaller one; p90 between mean and max
    part = CompositionStats().update(_frame(["ArXiv"] * len(sizes), sizes)).subsets["ArXiv"]
    for q in (0.5, 0.9):
        exact = float(np.quantile(sizes, q))
        assert part.quantile(q) == pytest.approx(exact, rel=2 ** (1 / BINS_PER_OCTAVE) - 1)
    if len(sizes) == 2:
        assert part.quantile(0.5) == np.mean(sizes)
        assert np.mean(sizes) < part.quantile(0.9) < max(sizes)


def test_merging_shards_equals_the_whole() -> None:
    rng = np.random.default_rng(1)
    names = rng.choice(["ArXiv", "Github", "odd name"], size=3000).tolist()
    sizes = rng.integers(0, 100_000, size=3000).tolist()
    whole = CompositionStats().update(_frame(names, sizes)).to_frame()
    left = CompositionStats().update(_frame(names[:1000], sizes[:1000]))
    right = CompositionStats().update(_frame(names[1000:], sizes[1000:]))
    assert left.merge(right).to_frame().equals(whole)


def test_batches_and_a_serialised_round_trip_give_the_same_table() -> None:
    df = _frame(["ArXiv", "Github", "ArXiv", "x"], [5, 50, 500, 0])
    whole = composition(df)
    assert composition(df.iter_slices(1)).equals(whole)
    stats = CompositionStats().update(df)
    assert CompositionStats.from_dict(stats.to_dict()).to_frame().equals(whole)


def test_stats_from_another_histogram_layout_are_refused() -> None:
    with pytest.raises(DataError, match="bins per octave"):
        CompositionStats.from_dict({"bins_per_octave": 8, "subsets": {}})


@pytest.mark.shared
def test_composition_of_real_pile_lines_matches_a_direct_count(shared_data) -> None:
    import json

    from segpile_lab.pile.reader import read_pile

    path = shared_data / "pile" / "val_first10.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    expected: dict[str, list[int]] = {}
    for r in records:
        expected.setdefault(r["meta"]["pile_set_name"], []).append(len(r["text"].encode()))
    table = composition(read_pile(path, progress=False), include_missing=False)
    assert dict(table.select("subset", "documents").iter_rows()) == {
        k: len(v) for k, v in expected.items()
    }
    assert dict(table.select("subset", "bytes").iter_rows()) == {
        k: sum(v) for k, v in expected.items()
    }
    assert table["known_subset"].all() and (table["synthetic_documents"] == 0).all()


@pytest.mark.shared
def test_real_zstd_shards_merge_shard_by_shard(shared_data) -> None:
    from segpile_lab.pile.reader import iter_pile_batches, read_pile

    shards = sorted((shared_data / "pile" / "hf_dummy").glob("*.jsonl.zst"))
    merged = CompositionStats()
    for shard in shards:  # as separate jobs would: one accumulator each, serialised, merged
        part = CompositionStats()
        for batch in iter_pile_batches(shard, progress=False):
            part.update(batch)
        merged.merge(CompositionStats.from_dict(part.to_dict()))
    whole = composition(read_pile(shards, progress=False))
    assert merged.to_frame().equals(whole)
    assert int(whole["documents"].sum()) == len(shards)


def test_byte_share_interval_matches_the_binomial_standard_error() -> None:
    # 200 + 200 one-byte documents: share of A = 0.5 with s.e. sqrt(0.25 / 400) = 0.025,
    # so the 95% interval is 0.5 ± 1.96 · 0.025 = [0.451, 0.549]
    frame = _frame(["ArXiv"] * 200 + ["Github"] * 200, [1] * 400)
    table = byte_share_intervals(frame, resamples=4000, seed=1)
    row = _row(table, "ArXiv")
    assert row["byte_share_low"] == pytest.approx(0.451, abs=0.008)
    assert row["byte_share_high"] == pytest.approx(0.549, abs=0.008)


def test_byte_share_interval_of_a_lone_subset_is_a_point_and_covers_the_share() -> None:
    assert byte_share_intervals(_frame(["ArXiv"] * 3, [5, 9, 80])).row(0) == ("ArXiv", 1.0, 1.0)
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 10_000, size=5000).tolist()  # more than one 2,000-row chunk
    names = rng.choice(["ArXiv", "Github", "Books3"], size=5000).tolist()
    frame = _frame(names, sizes)
    table = byte_share_intervals(frame).join(composition(frame), on="subset")
    assert table.height == 3
    for row in table.iter_rows(named=True):
        assert row["byte_share_low"] < row["byte_share"] < row["byte_share_high"]
