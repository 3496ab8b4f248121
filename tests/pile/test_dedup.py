"""Exact duplicates after normalisation; MinHash/LSH near-duplicates against exact Jaccard."""

from __future__ import annotations

import random
import unicodedata

import numpy as np
import polars as pl
import pytest
from audit_reference import (
    CATALOG,
    demo_frame,
    real_frame,
    reference_near_pairs,
    reference_shingle_sets,
)

from segpile_lab.pile.dedup import (
    ExactDuplicates,
    duplicate_stats,
    jaccard,
    minhash_signatures,
    near_duplicates,
    normalized_text,
    shingle_hashes,
    shingle_sets,
    shingles,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Caf\u00e9 au lait", "Cafe\u0301 au lait"),  # NFC: composed vs decomposed é
        ("Hello World", "hello world"),  # case
        ("hello \t\n  world", "hello world"),  # whitespace runs
        ("  hello world\n", "hello world"),  # leading and trailing whitespace
    ],
)
def test_normalisation_makes_these_equal(a: str, b: str) -> None:
    out = pl.DataFrame({"t": [a, b]}).select(normalized_text(pl.col("t")))["t"]
    assert out[0] == out[1]


def test_normalisation_agrees_with_a_python_reference() -> None:
    texts = ["a\u00a0b", " A \r\n\t B ", "Cafe\u0301\u2003\u2003x", "", "ÉCOLE  Ünï", "x\u3000y"]
    out = pl.DataFrame({"t": texts}).select(normalized_text(pl.col("t")))["t"].to_list()
    assert out == [" ".join(unicodedata.normalize("NFC", t).lower().split()) for t in texts]


def test_normalisation_keeps_different_words_apart() -> None:
    out = pl.DataFrame({"t": ["hello world", "hello  worlds"]}).select(normalized_text(pl.col("t")))
    assert out["t"][0] != out["t"][1]


def test_exact_duplicate_rate_by_hand() -> None:
    df = pl.DataFrame(
        {
            "subset": ["A", "A", "A", "A", "B", "B"],
            "text": ["x y", "X  y", "x y\n", "other", "x y", "unique"],
        }
    )
    stats = duplicate_stats(df)
    a = stats.filter(pl.col("subset") == "A").row(0, named=True)
    b = stats.filter(pl.col("subset") == "B").row(0, named=True)
    assert (a["documents"], a["unique_texts"], a["duplicate_documents"]) == (4, 2, 2)
    assert a["exact_duplicate_rate"] == 0.5
    assert b["exact_duplicate_rate"] == 0.0
    # "x y" occurs in both subsets: 3 documents of A and 1 of B share it
    assert (a["cross_subset_duplicates"], b["cross_subset_duplicates"]) == (3, 1)


@pytest.mark.parametrize("compact_rows", [1, 1 << 20])
def test_exact_duplicates_merged_by_batch_and_shard_equal_one_pass(
    demo_path, monkeypatch, compact_rows
) -> None:
    from polars.testing import assert_frame_equal

    from segpile_lab.pile.reader import read_pile

    monkeypatch.setattr(ExactDuplicates, "_COMPACT_ROWS", compact_rows)  # 1: compact often
    df = read_pile(demo_path)
    shards = [ExactDuplicates(), ExactDuplicates()]
    for i, batch in enumerate(df.iter_slices(97)):
        shards[i % 2].update(batch)
    merged = shards[0].merge(shards[1])
    assert_frame_equal(merged.to_frame(), duplicate_stats(df))
    assert merged.to_frame()["documents"].sum() == df.height


def test_exact_duplicates_of_the_demo_sample(demo_path) -> None:
    from segpile_lab.pile.reader import read_pile

    stats = duplicate_stats(read_pile(demo_path))
    rate = dict(stats.select("subset", "duplicate_documents").iter_rows())
    # planted: one exact copy in each of these, plus one case/whitespace copy in Enron
    assert rate["Github"] == 1 and rate["Pile-CC"] == 1 and rate["Enron Emails"] == 2
    assert rate["StackExchange"] == 1  # the normalisation-only copy
    assert rate["Books3"] == 0


def test_shingles_are_word_5_grams_of_the_normalised_text() -> None:
    assert np.array_equal(shingles("a b c d e f"), shingles("A  b c D e\nf"))
    assert len(shingles("a b c d e f")) == 2
    assert len(shingles("too short")) == 1  # shorter than 5 words: the whole text
    assert len(shingles("a b c d e a b c d e")) == 5  # distinct 5-grams only


def test_shingles_of_many_texts_match_one_by_one() -> None:
    texts = ["one two three four five six", "", "x", "Ünï code  here and there again"]
    sets = shingle_sets(pl.Series(texts))
    assert all(np.array_equal(a, shingles(t)) for a, t in zip(sets, texts, strict=True))
    assert shingle_sets(pl.Series([], dtype=pl.String)) == []


@pytest.mark.parametrize("words", [1, 3, 5])
def test_column_shingles_equal_the_per_text_loop_on_the_catalog_and_demo(words: int) -> None:
    texts = [*CATALOG, *demo_frame()["text"].to_list(), "a b", "a b c d", "a b c d e"]
    sets = shingle_sets(pl.Series(texts, dtype=pl.String), words)
    expected = reference_shingle_sets(texts, words)
    assert all(np.array_equal(a, b) for a, b in zip(sets, expected, strict=True))


def test_shingle_hashes_keep_text_order_and_repeats() -> None:
    hashes, offsets = shingle_hashes(pl.Series(["a b c d e a b c d e", "x"]))
    assert offsets.tolist() == [0, 6, 7]
    assert hashes[0] == hashes[5] and len(set(hashes[:5].tolist())) == 5


def test_near_duplicate_pairs_equal_the_previous_minhash_on_the_demo_sample() -> None:
    df = demo_frame()
    pairs, _ = near_duplicates(df, sample_per_subset=None)
    found = set(zip(pairs["row_a"], pairs["row_b"], strict=True))
    expected = reference_near_pairs(df["text"].to_list())
    assert found == expected and len(found) >= 5  # the planted near copies


@pytest.mark.shared
def test_near_duplicate_pairs_equal_the_previous_minhash_on_real_documents(shared_data) -> None:
    real = real_frame(shared_data)
    df = pl.concat([real, real.with_columns(pl.col("text").str.replace(r"\w+", "changed"))])
    pairs, _ = near_duplicates(df, sample_per_subset=None)
    found = set(zip(pairs["row_a"], pairs["row_b"], strict=True))
    assert found == reference_near_pairs(df["text"].to_list())
    assert {(i, i + 10) for i in range(10)} & found  # a one-word edit of a long document


def test_jaccard_by_hand() -> None:
    assert jaccard(np.array([1, 2, 3]), np.array([2, 3, 4])) == 0.5
    assert jaccard(np.array([], np.uint64), np.array([], np.uint64)) == 1.0


def _documents(n: int, words: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(5000)]
    return [" ".join(rng.choice(vocab) for _ in range(words)) for _ in range(n)]


def _edit(text: str, edits: int, rng: random.Random) -> str:
    words = text.split()
    for index in rng.sample(range(len(words)), edits):
        words[index] = "changed"
    return " ".join(words)


def test_minhash_estimate_is_close_to_the_exact_jaccard() -> None:
    rng = random.Random(3)
    base = _documents(30, 300, seed=3)
    errors = []
    for doc in base:
        edited = _edit(doc, rng.randint(1, 30), rng)
        a, b = shingles(doc), shingles(edited)
        flat, offsets = np.concatenate([a, b]), np.array([0, len(a), len(a) + len(b)])
        signatures = minhash_signatures(flat, offsets, 128, seed=0)
        estimate = np.mean(signatures[0] == signatures[1])
        errors.append(estimate - jaccard(a, b))
    # 128 permutations: standard error sqrt(J(1-J)/128) <= 0.045
    assert np.max(np.abs(errors)) < 0.15
    assert abs(np.mean(errors)) < 0.03


def test_near_duplicates_recall_planted_pairs_without_false_positives() -> None:
    rng = random.Random(5)
    base = _documents(60, 400, seed=5)
    planted = [_edit(doc, 4, rng) for doc in base[:40]]  # Jaccard ≈ 0.9 with its original
    df = pl.DataFrame({"subset": ["S"] * 100, "text": base + planted})
    pairs, per_subset = near_duplicates(df, sample_per_subset=None)
    expected = {(i, 60 + i) for i in range(40)}
    found = set(zip(pairs["row_a"], pairs["row_b"], strict=True))
    assert len(found & expected) / len(expected) >= 0.95
    assert found <= expected  # unrelated random documents never pair
    assert (pairs["jaccard"] >= 0.8).all()
    assert per_subset["near_duplicate_documents"][0] == 2 * len(found & expected)


def test_near_duplicates_sample_per_subset_limits_the_work() -> None:
    df = pl.DataFrame({"subset": ["A"] * 10 + ["B"] * 3, "text": _documents(13, 20, seed=1)})
    _, per_subset = near_duplicates(df, sample_per_subset=4)
    assert dict(per_subset.select("subset", "sampled_documents").iter_rows()) == {"A": 4, "B": 3}


def test_near_duplicates_of_an_empty_frame() -> None:
    pairs, per_subset = near_duplicates(
        pl.DataFrame({"subset": [], "text": []}, schema={"subset": pl.String, "text": pl.String})
    )
    assert pairs.height == 0 and per_subset.height == 0


def test_exact_duplicates_hold_about_40_bytes_per_distinct_text() -> None:
    texts = [f"document number {i}" for i in range(20_000)]
    df = pl.DataFrame({"subset": ["Pile-CC"] * 20_000 + ["ArXiv"] * 20_000, "text": texts * 2})
    counter = ExactDuplicates().update(df)
    held = counter._compact()
    assert held.height == 40_000  # one row per subset and distinct text
    assert held.estimated_size() / held.height <= 40  # the docstring's "about 40 bytes"


def _previous_normalisation(texts: list[str | None]) -> list[str | None]:
    """The expression `normalized_text` was: NFC of every row, lowercase, one regex for the
    whitespace runs, strip."""
    every_row = pl.Series(
        [None if t is None else unicodedata.normalize("NFC", t) for t in texts], dtype=pl.String
    )
    return (
        every_row.str.to_lowercase().str.replace_all(r"\s{2,}|[^\S ]", " ").str.strip_chars()
    ).to_list()


def _normalised(texts: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    return frame.select(normalized_text(pl.col("t")))["t"].to_list()


def test_normalisation_of_non_ascii_rows_only_equals_nfc_of_every_row() -> None:
    texts = [*CATALOG, *demo_frame()["text"].to_list()]
    assert _normalised(texts) == _previous_normalisation(texts)


WHITESPACE_CORNERS = [
    "",
    None,
    " ",
    "\n\n\n",
    "\t\x0b\x0c\r\n ",  # every ASCII whitespace character, nothing else
    "a\r\n\r\nb",
    "line\n   \n\t\nline",  # lines holding only whitespace
    "a \n b\t\tc\x0b\x0cd  ",
    "x\x1cy\x1fz",  # separators that regex \s does not count as whitespace
    "\u0085a\u00a0 \nb\u2003\u3000",  # Unicode whitespace beside ASCII whitespace
    "KELVIN \u212a and \u0130stanbul",  # lowercase turns them into (partly) ASCII
    "caf\u00e9\n\ncafe\u0301",
    "word " * 50_000 + "\n" * 1000 + "end",  # one long document
]


def test_normalisation_equals_the_previous_expression_on_whitespace_corners() -> None:
    assert _normalised(WHITESPACE_CORNERS) == _previous_normalisation(WHITESPACE_CORNERS)


@pytest.mark.shared
def test_normalisation_equals_the_previous_expression_on_real_documents(shared_data) -> None:
    texts = real_frame(shared_data)["text"].to_list()
    assert _normalised(texts) == _previous_normalisation(texts)
