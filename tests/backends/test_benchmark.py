"""benchmark(): the frame's columns and invariants, the environment, and the failure path."""

from __future__ import annotations

import json

import polars as pl
import pytest

from segpile_lab.backends import onnx_export
from segpile_lab.backends.benchmark import COLUMNS, benchmark

SIZE = 64


@pytest.fixture(scope="module")
def result(seg_b0, tmp_path_factory):
    return benchmark(
        seg_b0,
        backends=["torch-fp32", "ort-fp32+fold"],
        batch_sizes=(1, 2),
        image_size=SIZE,
        warmup=1,
        repeats=3,
        threads=1,
        options={"cache_dir": str(tmp_path_factory.mktemp("cache"))},
    )


def test_one_row_per_backend_and_batch_with_every_column(result):
    frame = result.frame
    assert frame.columns == [*COLUMNS, "speedup_vs_reference"]
    assert frame.select("backend", "batch").rows() == [
        ("torch-fp32", 1), ("torch-fp32", 2), ("ort-fp32+fold", 1), ("ort-fp32+fold", 2)
    ]  # fmt: skip
    assert frame["status"].to_list() == ["ok"] * 4
    assert frame["repeats"].to_list() == [3] * 4


def test_latency_percentiles_and_throughput_are_consistent(result):
    for row in result.frame.iter_rows(named=True):
        assert 0 < row["latency_p50_ms"] <= row["latency_p90_ms"] <= row["latency_p99_ms"]
        assert row["throughput_ips"] == pytest.approx(row["batch"] / row["latency_p50_ms"] * 1000)
        assert row["peak_rss_mib"] > 50 and row["model_mib"] > 1
        assert row["first_call_s"] > 0


def test_speedup_is_relative_to_the_reference_at_the_same_batch(result):
    frame = result.frame
    assert frame.filter(pl.col("backend") == "torch-fp32")["speedup_vs_reference"].to_list() == [
        1.0,
        1.0,
    ]
    onnx = frame.filter(pl.col("backend") == "ort-fp32+fold").row(0, named=True)
    ref = frame.filter((pl.col("backend") == "torch-fp32") & (pl.col("batch") == 1)).row(
        0, named=True
    )
    assert onnx["speedup_vs_reference"] == pytest.approx(
        ref["latency_p50_ms"] / onnx["latency_p50_ms"]
    )
    assert onnx["export_s"] > 0 and onnx["folded"]


def test_environment_is_recorded_and_json_round_trips(result, tmp_path):
    env = result.environment
    assert env["threads"] == 1 and env["device"] == "cpu"
    assert {"cpu", "torch", "onnxruntime", "transformers", "ort_providers"} <= set(env)
    result.to_json(tmp_path / "bench.json")
    payload = json.loads((tmp_path / "bench.json").read_text())
    assert payload["note"] == "untrained demo weights: ranks backends only"
    assert len(payload["rows"]) == 4 and payload["environment"]["torch"] == env["torch"]


def test_thread_setting_is_restored(seg_b0):
    import torch

    before = torch.get_num_threads()
    benchmark(
        seg_b0, backends=["torch-fp32"], batch_sizes=(1,), image_size=SIZE, repeats=1, threads=2
    )
    assert torch.get_num_threads() == before


def test_failed_export_is_recorded_and_other_backends_continue(seg_b0, tmp_path, monkeypatch):
    """bad-inputs item 40: an operator that cannot be exported fails only its backend."""

    def unsupported(*args, **kwargs):
        raise RuntimeError("Exporting the operator 'aten::upsample_bicubic2d_aa' is not supported")

    monkeypatch.setitem(onnx_export._EXPORTERS, "torchscript", unsupported)
    monkeypatch.setitem(onnx_export._EXPORTERS, "dynamo", unsupported)
    frame = benchmark(
        seg_b0,
        backends=["ort-fp32", "torch-fp32", "ort-int8-dynamic"],
        batch_sizes=(1,),
        image_size=SIZE,
        repeats=1,
        options={"cache_dir": str(tmp_path)},
    ).frame
    status = dict(zip(frame["backend"], frame["status"], strict=True))
    assert status == {"ort-fp32": "error", "torch-fp32": "ok", "ort-int8-dynamic": "error"}
    errors = frame.filter(pl.col("status") == "error")["error"].to_list()
    assert all("ONNX export failed" in e and "upsample_bicubic2d_aa" in e for e in errors)
