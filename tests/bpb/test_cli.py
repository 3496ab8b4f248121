"""`segpile-lab pile bpb` end to end on small inputs."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from segpile_lab.cli import main


@pytest.fixture()
def shard(tmp_path):
    rows = [
        {"text": "alpha beta gamma " * (i + 3), "meta": {"pile_set_name": "Pile-CC"}}
        for i in range(6)
    ] + [
        {"text": f"def f{i}(x):\n    return x * {i}\n" * 4, "meta": {"pile_set_name": "Github"}}
        for i in range(6)
    ]
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_cli_writes_tables_summary_and_plots(shard, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["pile", "bpb", str(shard), "--scorer", "zstd", "--scorer", "ngram",
                 "--bootstrap", "50", "--out", str(out)])  # fmt: skip
    assert code == 0
    subsets = pl.read_csv(out / "subsets.csv")
    assert set(subsets["scorer"]) == {"zstd-19", "ngram-4"}
    assert set(subsets["subset"]) == {"Pile-CC", "Github", "ALL"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["subsets"]["ngram-4"]["ALL"]["documents"] == 6  # the other 6 fitted it
    documents = pl.read_csv(out / "documents.csv")
    zstd = documents.filter(pl.col("scorer") == "zstd-19")
    expected = zstd["nll_bits"].sum() / zstd["n_bytes"].sum()
    assert summary["overall_bpb"]["zstd-19"] == pytest.approx(expected)
    for name in ("bpb_by_subset.html", "bpb_by_subset.png", "bpb_per_document.png"):
        assert (out / name).stat().st_size > 0
    assert "fitted on 6 documents" in capsys.readouterr().out


def test_cli_with_untrained_demo_model_labels_its_output(shard, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.warns(Warning, match="untrained demo weights"):
        code = main(["pile", "bpb", str(shard), "--scorer", "demo-gpt2", "--max-length", "32",
                     "--stride", "16", "--bootstrap", "0", "--out", str(out)])  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["label"] == "untrained demo weights"
    assert "stride 16" in summary["scorers"][0]["description"]
    assert not math.isnan(summary["overall_bpb"]["demo-gpt2"])
    assert (out / "loss_by_position.csv").exists()
    assert "untrained demo weights" in capsys.readouterr().out


def test_cli_missing_model_is_one_line_error_exit_2(shard, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = main(["pile", "bpb", str(shard), "--scorer", str(tmp_path / "no" / "model"),
                 "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 2
    assert "no such local directory" in capsys.readouterr().err
