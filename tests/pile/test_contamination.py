"""Contamination scan: planted overlaps counted exactly, near misses, Unicode, Bloom bound."""

from __future__ import annotations

import json
import random

import numpy as np
import polars as pl
import pytest

from segpile_lab.errors import DataError
from segpile_lab.pile.contamination import (
    BenchmarkNgrams,
    BloomFilter,
    ContaminationScan,
    contamination,
    read_benchmark,
)

VOCAB = [f"word{i}" for i in range(3000)]


def _words(rng: random.Random, k: int) -> list[str]:
    return [rng.choice(VOCAB) for _ in range(k)]


def _planted() -> tuple[list[str], pl.DataFrame, dict]:
    """10 benchmark items of 40 words; documents of subsets A/B/C, some holding a run of an
    item's words. Returns items, documents and the expected counts worked out by hand."""
    rng = random.Random(0)
    items = [" ".join(f"item{i}w{j}" for j in range(40)) for i in range(10)]
    plan = [  # (subset, item planted, words taken from it)
        ("A", 0, 13), ("A", 0, 20), ("A", 3, 40), ("B", 3, 13), ("B", 7, 15),
        ("C", 5, 12),  # a near miss: 12 shared words is not a 13-gram
    ]  # fmt: skip
    texts, subsets = [], []
    for subset, item, k in plan:
        start = 40 - k
        planted = items[item].split()[start:]
        texts.append(" ".join(_words(rng, 50) + planted + _words(rng, 50)))
        subsets.append(subset)
    for subset in "ABC":  # clean documents
        for _ in range(5):
            texts.append(" ".join(_words(rng, 200)))
            subsets.append(subset)
    expected = {
        "A": {"docs": 3, "items": 2, "ngrams": [1, 8, 28], "doc_rows": [0, 1, 2]},
        "B": {"docs": 2, "items": 2, "ngrams": [1, 3], "doc_rows": [3, 4]},
        "C": {"docs": 0, "items": 0, "ngrams": [], "doc_rows": []},
    }
    return items, pl.DataFrame({"subset": subsets, "text": texts}), expected


@pytest.mark.parametrize("bloom_error", [None, 1e-6])
def test_planted_overlaps_are_counted_exactly(bloom_error: float | None) -> None:
    items, docs, expected = _planted()
    report = contamination(docs, items, bloom_error=bloom_error)
    table = {r["subset"]: r for r in report.table.iter_rows(named=True)}
    sizes = docs["text"].str.len_bytes().to_list()
    for subset, want in expected.items():
        row = table[subset]
        assert row["documents"] == 5 + len(want["doc_rows"]) + (subset == "C")
        assert row["contaminated_documents"] == want["docs"]
        assert row["contaminated_items"] == want["items"]
        assert row["contaminated_bytes"] == sum(sizes[i] for i in want["doc_rows"])
        got = report.documents.filter(pl.col("subset") == subset)["matched_ngrams"].to_list()
        assert sorted(got) == want["ngrams"]  # k shared words → k − 12 13-grams
    assert report.items["item"].to_list() == [0, 3, 7]
    assert report.items["subsets"].to_list() == [["A"], ["A", "B"], ["B"]]
    assert report.items["matched_ngrams"].to_list() == [8, 28, 3]
    longest = report.documents.sort("matched_ngrams")["span"][-1]
    # the whole planted item is the overlapping span, cut at 300 characters
    assert items[3].lower().startswith(longest) and len(longest) == 300


def test_a_near_miss_of_12_words_is_found_with_n_12() -> None:
    items, docs, _ = _planted()
    table = contamination(docs, items, n=12).table
    assert table.filter(pl.col("subset") == "C")["contaminated_documents"][0] == 1


@pytest.mark.parametrize(
    ("document", "item"),
    [
        ("The ﬁnal ﬂoor of the oﬃce was ﬁlled with ﬁve ﬁne ﬁsh tanks yesterday", None),
        (
            "Ｔｈｅ ｆｉｎａｌ floor of the office was filled with five fine fish tanks yesterday",
            None,
        ),
        (
            "THE FINAL FLOOR, of the office -- was filled with five fine fish tanks (yesterday)!",
            None,
        ),
        (
            "Le cafe\u0301 était plein de gens très fatigués qui buvaient du thé chaud ce matin",
            "Le café était plein de gens très fatigués qui buvaient du thé chaud ce matin",
        ),
    ],
)
def test_unicode_case_and_punctuation_variants_match(document: str, item: str | None) -> None:
    item = item or "the final floor of the office was filled with five fine fish tanks yesterday"
    docs = pl.DataFrame({"subset": ["S"], "text": [document]})
    assert contamination(docs, [item]).table["contaminated_documents"][0] == 1


def test_different_words_do_not_match() -> None:
    item = "the final floor of the office was filled with five fine fish tanks yesterday"
    docs = pl.DataFrame({"subset": ["S"], "text": [item.replace("office", "offices")]})
    assert contamination(docs, [item]).table["contaminated_documents"][0] == 0


def test_scans_of_parts_merge_into_the_scan_of_all() -> None:
    from polars.testing import assert_frame_equal

    items, docs, _ = _planted()
    grams = BenchmarkNgrams(items)
    whole = ContaminationScan(grams).update(docs).report()
    parts = [ContaminationScan(grams).update(part) for part in docs.iter_slices(4)]
    merged = parts[0]
    for part in parts[1:]:
        merged.merge(part)
    report = merged.report()
    assert_frame_equal(report.table, whole.table)
    assert_frame_equal(report.items, whole.items)
    assert_frame_equal(report.documents.sort("n_bytes"), whole.documents.sort("n_bytes"))


def test_bloom_filter_false_positive_rate_stays_within_its_bound() -> None:
    capacity, error = 200_000, 1e-3
    bloom = BloomFilter(capacity, error)
    rng = np.random.default_rng(0)
    for _ in range(20):  # streamed in batches: the keys are never held at once
        bloom.add(rng.integers(0, 2**63, size=capacity // 20, dtype=np.uint64))
    probes = rng.integers(2**63, 2**64 - 1, size=1_000_000, dtype=np.uint64)  # never added
    rate = bloom.contains(probes).mean()
    theory = (1 - np.exp(-bloom.k * capacity / bloom.bits)) ** bloom.k
    assert theory <= 1.05 * error
    assert rate <= theory + 4 * np.sqrt(theory / len(probes))  # binomial bound, 4 sigma
    assert bloom.nbytes < capacity * 16 / 8  # far below the exact set's 16 bytes per n-gram


def test_bloom_benchmark_from_a_file_finds_what_the_exact_one_finds(tmp_path) -> None:
    from polars.testing import assert_frame_equal

    items, docs, _ = _planted()
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps({"question": t}) + "\n" for t in items))
    exact = contamination(docs, path, field="question")
    bloom = contamination(docs, path, field="question", bloom_error=0.2)  # many false hits
    assert_frame_equal(bloom.table, exact.table)
    assert_frame_equal(bloom.items, exact.items)
    assert exact.table["contaminated_documents"].sum() == 5


def test_streams_pile_shards(tmp_path) -> None:
    import zstandard

    items, docs, _ = _planted()
    lines = [json.dumps({"text": t, "meta": {"pile_set_name": s}}) for s, t in docs.iter_rows()]
    shard = tmp_path / "00.jsonl.zst"
    shard.write_bytes(zstandard.ZstdCompressor().compress(("\n".join(lines) + "\n").encode()))
    from_file = contamination(shard, items, progress=False)
    assert from_file.table["contaminated_documents"].to_list() == [3, 2, 0]
    assert set(from_file.documents["line"].to_list()) == {1, 2, 3, 4, 5}


def test_benchmark_formats(tmp_path) -> None:
    text = tmp_path / "items.txt"
    text.write_text("first item\n\nsecond item\n")
    assert list(read_benchmark(text)) == ["first item", "second item"]
    jsonl = tmp_path / "items.jsonl"
    jsonl.write_text('{"text": "a"}\n{"q": "b", "text": "c"}\n')
    assert list(read_benchmark(jsonl)) == ["a", "c"]
    with pytest.raises(DataError, match=r"items.jsonl:1: field 'q' is missing"):
        list(read_benchmark(jsonl, field="q"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a"}\n{"text": 3}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: field 'text'"):
        list(read_benchmark(bad))
    with pytest.raises(DataError, match="not found"):
        list(read_benchmark(tmp_path / "missing.txt"))


def test_report_writes_tables(tmp_path) -> None:
    items, docs, _ = _planted()
    written = contamination(docs, items).write(tmp_path / "out")
    assert [p.name for p in written] == [
        "contamination.csv",
        "contaminated_documents.csv",
        "contaminated_items.csv",
        "contamination.json",
    ]
    summary = json.loads(written[-1].read_text())
    assert (summary["contaminated_items"], summary["contaminated_documents"]) == (3, 5)


def _cli(*argv: str) -> tuple[int, str, str]:
    import contextlib
    import io

    from segpile_lab.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["pile", "contamination", *argv])
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_cli_scans_shards_and_writes_the_tables(tmp_path) -> None:
    items, docs, _ = _planted()
    data = tmp_path / "shard.jsonl"
    data.write_text(
        "".join(
            json.dumps({"text": t, "meta": {"pile_set_name": s}}) + "\n"
            for s, t in docs.iter_rows()
        )
    )
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps({"q": t}) + "\n" for t in items))
    out = tmp_path / "out"
    code, printed, _ = _cli(str(data), "--benchmark", str(bench), "--field", "q", "--out", str(out))
    assert code == 0 and "3 of 10 items contaminated, 5 documents overlapping" in printed
    table = pl.read_csv(out / "contamination.csv")
    assert table["contaminated_documents"].to_list() == [3, 2, 0]
    code, printed, _ = _cli(str(data), "--benchmark", str(bench), "--field", "q", "--n", "12",
                            "--out", str(out))  # fmt: skip
    assert code == 0 and "6 documents overlapping" in printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--benchmark", "missing.txt"], "missing.txt: benchmark file not found"),
        (["--benchmark", "b.txt", "--n", "0"], "--n"),
        (["--benchmark", "b.txt", "--bloom-error", "1"], "--bloom-error"),
    ],
)
def test_cli_bad_arguments_are_one_line_errors(tmp_path, monkeypatch, argv, message) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.txt").write_text("an item\n")
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "an item", "meta": {"pile_set_name": "ArXiv"}}\n')
    code, _, err = _cli(str(data), *argv, "--out", str(tmp_path / "out"))
    assert code == 2 and message in err.strip().splitlines()[-1]
    assert "Traceback" not in err


def test_a_frame_without_text_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"no \['text'\] column"):
        contamination(pl.DataFrame({"subset": ["A"], "body": ["x"]}), ["an item"])
