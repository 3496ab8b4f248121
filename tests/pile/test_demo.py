"""The synthetic demo sample: format, coverage, determinism, realism of each subset."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import zstandard

from segpile_lab.pile.composition import published_table
from segpile_lab.pile.demo import demo_allocation, demo_pile_sample, generate_demo_records
from segpile_lab.pile.subsets import PILE_SUBSETS


def _records(path: Path) -> list[dict]:
    """Decode independently of our reader: stream-decompress, one JSON object per line."""
    with path.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as reader:
        text = reader.read().decode("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def _texts(records: list[dict], subset: str) -> list[str]:
    return [r["text"] for r in records if r["meta"]["pile_set_name"] == subset]


def test_demo_covers_all_22_subsets_with_at_least_the_floor(demo_path: Path) -> None:
    counts = Counter(r["meta"]["pile_set_name"] for r in _records(demo_path))
    assert set(counts) == set(PILE_SUBSETS)
    assert min(counts.values()) >= 2
    assert 800 <= sum(counts.values()) <= 850  # ~800 generated + floors + planted copies


def _published() -> dict[str, tuple[float, float]]:
    table = published_table()
    columns = ("subset", "published_weight_percent", "published_mean_doc_bytes")
    return {name: (w, m) for name, w, m in table.select(columns).iter_rows()}


def test_allocation_gives_each_subset_its_published_weight_in_expectation() -> None:
    published = _published()
    allocation = demo_allocation(1000, min_docs_per_subset=2, scale=0.125)
    expected = {name: count * mean for name, (count, mean) in allocation.items()}
    total = sum(expected.values())
    for name, (weight, published_mean) in published.items():
        count, mean = allocation[name]
        assert expected[name] / total == pytest.approx(weight / 100, rel=1e-9), name
        assert count >= 2
        # documents ∝ weight / mean size: Pile-CC (18.11 %, 4.3 KiB) gets 247 of 1000
        unrounded = 1000 * (weight / published_mean) / sum(w / m for w, m in published.values())
        if unrounded >= 2:
            assert abs(count - unrounded) <= 0.5, name
            assert mean == pytest.approx(published_mean * 0.125, rel=0.5 / count), name
        else:  # raised to the floor: shorter documents keep the share
            assert count == 2 and mean < published_mean * 0.125, name
    assert allocation["Pile-CC"][0] == 247 and allocation["Books3"][0] == 2


def test_observed_byte_shares_sit_near_the_published_weights() -> None:
    records = generate_demo_records(documents=3000, seed=1)
    published = _published()
    sizes: Counter = Counter()
    counts: Counter = Counter()
    for r in records:
        sizes[r["meta"]["pile_set_name"]] += len(r["text"].encode())
        counts[r["meta"]["pile_set_name"]] += 1
    total = sum(sizes.values())
    # subsets with >= 100 documents: the mean's relative s.d. (lognormal σ = 0.8) is <= 9.4 %
    big = [name for name in PILE_SUBSETS if counts[name] >= 100]
    assert len(big) >= 6
    for name in big:
        assert 0.7 < 100 * sizes[name] / total / published[name][0] < 1.4, name


def test_every_demo_row_is_marked_synthetic(demo_path: Path) -> None:
    records = _records(demo_path)
    assert all(r["meta"]["synthetic"] is True for r in records)
    assert all(set(r) == {"text", "meta"} and r["text"] for r in records)


def test_demo_is_byte_identical_for_the_same_seed(tmp_path: Path) -> None:
    a = demo_pile_sample(tmp_path / "a.jsonl.zst", documents=60, seed=7)
    b = demo_pile_sample(tmp_path / "b.jsonl.zst", documents=60, seed=7)
    c = demo_pile_sample(tmp_path / "c.jsonl.zst", documents=60, seed=8)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_default_path_is_the_user_cache_and_is_reused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = demo_pile_sample(documents=40)
    assert path.is_relative_to(tmp_path / "cache")
    stamp = path.stat().st_mtime_ns
    assert demo_pile_sample(documents=40) == path
    assert path.stat().st_mtime_ns == stamp


def test_mean_document_sizes_follow_the_allocation() -> None:
    scale = 1 / 16
    records = generate_demo_records(documents=4000, seed=1, scale=scale)
    allocation = demo_allocation(4000, scale=scale)
    ratios = []
    for name in PILE_SUBSETS:
        count, mean = allocation[name]
        if count < 30:
            continue
        sizes = [len(t.encode()) for t in _texts(records, name)[:count]]
        ratios.append(np.mean(sizes) / mean)
    # lognormal σ = 0.8, >= 30 draws: a mean's relative s.d. is <= 0.17; allow 3 s.d. per subset
    assert len(ratios) >= 10
    assert min(ratios) > 0.5 and max(ratios) < 1.5, ratios
    assert abs(np.exp(np.mean(np.log(ratios))) - 1) < 0.12
    # the order of sizes follows the paper: Books3 documents dwarf Wikipedia's
    means = {name: np.mean([len(t) for t in _texts(records, name)]) for name in PILE_SUBSETS}
    assert means["Books3"] > 100 * means["Wikipedia (en)"]


def test_dm_mathematics_answers_are_correct() -> None:
    lines = "\n".join(_texts(generate_demo_records(documents=800), "DM Mathematics")).split("\n")
    checked = 0
    for question, answer in itertools.pairwise(lines):
        if m := re.fullmatch(r"Solve (-?\d+)\*z \+ (-?\d+) = (-?\d+) for z\.", question):
            a, b, c = map(int, m.groups())
            assert a * int(answer) + b == c
        elif m := re.fullmatch(r"What is (-?\d+) \+ (-?\d+) - (-?\d+)\?", question):
            a, b, c = map(int, m.groups())
            assert a + b - c == int(answer)
        elif m := re.fullmatch(
            r"Calculate the remainder when (\d+) is divided by (\d+)\.", question
        ):
            assert int(m[1]) % int(m[2]) == int(answer)
        else:
            continue
        checked += 1
    assert checked > 20


@pytest.mark.parametrize(
    ("subset", "pattern"),
    [
        ("Github", r"^(def |static int )"),
        ("Enron Emails", r"Message-ID: .*\nFrom:\s+[a-z]+\.[a-z]+@enron\.com"),
        ("Ubuntu IRC", r"^\[\d\d:\d\d\] <[^>]+> "),
        ("StackExchange", r"^\s*Q:\n\n"),
        ("USPTO Backgrounds", r"^BACKGROUND OF THE INVENTION"),
        ("FreeLaw", r"^UNITED STATES COURT OF APPEALS"),
        ("ArXiv", r"\\section\{Introduction\}"),
        ("OpenSubtitles", r"^- "),
        ("EuroParl", r"[äéñ]"),
    ],
)
def test_subset_text_resembles_its_source(subset: str, pattern: str) -> None:
    texts = _texts(generate_demo_records(documents=800), subset)
    # re.I: the planted normalisation-only copies are upper-cased
    assert all(re.search(pattern, t, re.MULTILINE | re.IGNORECASE) for t in texts), texts


def test_planted_exact_duplicates_exist() -> None:
    records = generate_demo_records(documents=800)
    for subset in ("Pile-CC", "Github", "OpenSubtitles", "Enron Emails"):
        texts = _texts(records, subset)
        assert len(texts) > len(set(texts)), subset


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"documents": 0}, "documents"),
        ({"min_docs_per_subset": 0}, "min_docs_per_subset"),
        ({"scale": 0}, "scale"),
        ({"scale": 2}, "scale"),
    ],
)
def test_bad_parameters_raise(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        generate_demo_records(**kwargs)
