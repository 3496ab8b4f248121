"""Python API papercuts of issue 13: errors that come at once and results that print usefully."""

from __future__ import annotations

import re

import polars as pl
import pytest

import segpile_lab as sl
from segpile_lab.errors import DataError


@pytest.mark.parametrize("texts", [[], [""], ["", ""]])
def test_ngram_fit_without_text_raises_at_once(texts):
    with pytest.raises(ValueError, match=r"ngram-3\.fit: no text to fit on"):
        sl.NGramByteScorer(3).fit(texts)


@pytest.mark.parametrize(
    ("subsets", "fraction", "message"),
    [
        (["A"], 0.5, "1 document\\(s\\), fraction 0.5 per subset leaves nothing to fit on"),
        (["A", "B", "C"], 0.5, "nothing to fit on"),  # one document in each subset
        (["A", "A"], 0.9, "nothing left to evaluate"),
    ],
)
def test_fit_split_that_leaves_a_part_empty_says_so(subsets, fraction, message):
    frame = pl.DataFrame({"subset": subsets, "text": [f"doc {i}" for i in range(len(subsets))]})
    with pytest.raises(DataError, match=message):
        sl.fit_split(frame, fraction)


def test_fit_split_keeps_every_document_once():
    frame = pl.DataFrame({"subset": ["A"] * 4 + ["B"] * 2, "text": list("abcdef")})
    fit, held_out = sl.fit_split(frame, 0.5, seed=1)
    assert sorted(fit["text"].to_list() + held_out["text"].to_list()) == list("abcdef")
    assert fit["subset"].value_counts().sort("subset")["count"].to_list() == [2, 1]


def test_cli_bpb_on_one_document_fails_before_any_model_runs(tmp_path, capsys, monkeypatch):
    from segpile_lab.bpb import cli as bpb_cli
    from segpile_lab.cli import main

    shard = tmp_path / "one.jsonl"
    shard.write_text('{"text": "only one", "meta": {"pile_set_name": "ArXiv"}}\n')
    monkeypatch.setattr(bpb_cli, "make_scorer", lambda *a: pytest.fail("a scorer was built"))
    argv = ["pile", "bpb", str(shard), "--scorer", "demo-gpt2", "--scorer", "ngram",
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("segpile-lab pile bpb: error: fit_split: 1 document(s)")


def test_print_of_a_bpb_result_is_a_summary(demo_frame):
    result = sl.evaluate_bpb(demo_frame, [sl.ZstdScorer(3)], bootstrap=20, seed=0)
    text = repr(result)
    overall = result.overall().row(0, named=True)
    assert text.startswith("BPBResult(synthetic demo data, bootstrap 20, seed 0)")
    assert f"zstd-3: {overall['bpb']:.4f} bits/byte [{overall['ci_low']:.4f}, " in text
    assert f"over {demo_frame.height:,} documents" in text and " at 0x" not in text
    assert len(text.splitlines()) <= 5


def test_print_of_an_audit_is_a_summary(demo_frame, tmp_path):
    path = tmp_path / "demo.jsonl"
    demo_frame.select("text", meta=pl.struct(pile_set_name="subset")).write_ndjson(path)
    audit = sl.audit_pile(path, progress=False)
    text = repr(audit)
    first = text.splitlines()[0]
    assert first.startswith(f"PileAudit(real data: {demo_frame.height:,} documents, ")
    top = audit.composition.sort("bytes", descending=True).row(0, named=True)
    assert f"  {top['subset']}: {top['byte_share']:.2%} of bytes (paper " in text
    assert len(text.splitlines()) == 7 and not re.search(r"at 0x[0-9a-f]+", text)


@pytest.fixture(scope="module")
def demo_frame() -> pl.DataFrame:
    return sl.read_pile(sl.demo_pile_sample(), progress=False)
