"""segpile-lab bench end to end (tiny), and the figures built from its results."""

from __future__ import annotations

import json

import polars as pl
import pytest

from segpile_lab.backends import plots
from segpile_lab.backends.accuracy import compare_accuracy
from segpile_lab.backends.benchmark import benchmark
from segpile_lab.cli import build_parser, main
from segpile_lab.errors import UntrainedModelWarning

SIZE = 64

UNTRAINED_NOTE = "untrained demo weights: ranks backends only"  # what users read


def test_bench_command_writes_tables_and_plots(tmp_path, capsys):
    out = tmp_path / "bench"
    with pytest.warns(UntrainedModelWarning):
        code = main(
            [
            "bench", "--model", "demo-b0", "--backends", "torch-fp32,torch-fp32+fold", "nope",
            "--batch-size", "1,2", "--image-size", str(SIZE), "--repeats", "1", "--warmup", "1",
            "--threads", "1", "--out", str(out), "--cache-dir", str(tmp_path / "cache"),
            ]
        )  # fmt: skip
    assert code == 0
    expected = {"benchmark.csv", "benchmark.json", "accuracy.csv", "accuracy.json", "per_class.csv"}
    expected |= {"latency.html", "pareto.html", "delta_iou.html", "card.html"}
    assert expected <= {p.name for p in out.iterdir()}
    bench = pl.read_csv(out / "benchmark.csv")
    assert set(bench["backend"]) == {"torch-fp32", "torch-fp32+fold", "nope"}
    accuracy = json.loads((out / "accuracy.json").read_text())
    assert accuracy["note"] == UNTRAINED_NOTE
    rows = {row["backend"]: row for row in accuracy["rows"]}
    assert rows["torch-fp32+fold"]["pixel_agreement"] > 0.999
    assert rows["nope"]["status"] == "error"
    assert UNTRAINED_NOTE in (out / "pareto.html").read_text()
    printed = capsys.readouterr().out
    assert "torch-fp32+fold" in printed and UNTRAINED_NOTE in printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "--images", "/nonexistent-dir"], "--images: /nonexistent-dir: no such folder"),
        (["bench", "--annotations", "/tmp"], "--annotations needs --images"),
        (["bench", "--images", "/tmp", "--annotations", "/tmp"], "are the same folder"),
        (["bench", "--batch-size", "1,x"], "expected an integer, got 'x'"),
        (["bench", "--batch-sizes", "0,2"], "must be at least 1, got 0"),  # the old name
        (["bench", "--repeats", "0"], "--repeats: must be at least 1"),
        (["bench", "--image-size", "8"], "--image-size: must be at least 32"),
    ],
)
def test_bench_command_bad_arguments_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("segpile-lab bench: error: ")
    assert message in err and "Traceback" not in err


def test_bench_batch_sizes_is_a_hidden_alias_of_batch_size(capsys):
    assert build_parser().parse_args(["bench", "--batch-sizes", "2,4"]).batch_size == [2, 4]
    assert build_parser().parse_args(["bench", "--batch-size", "1"]).batch_size == [1]
    assert main(["bench", "--help"]) == 0
    assert "--batch-sizes" not in capsys.readouterr().out


@pytest.mark.parametrize("backends", [["torch-fp32"], ["nope"], ["nope", "torch-fp32"]])
def test_bench_with_only_the_reference_or_no_working_backend(tmp_path, capsys, backends):
    out = tmp_path / "bench"
    argv = ["bench", "--model", "demo-b0", "--backends", *backends, "--batch-size", "1",
            "--image-size", str(SIZE), "--repeats", "1", "--warmup", "1", "--threads", "1",
            "--out", str(out)]  # fmt: skip
    with pytest.warns(UntrainedModelWarning):
        assert main(argv) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    rows = {r["backend"]: r for r in json.loads((out / "benchmark.json").read_text())["rows"]}
    assert set(rows) == set(backends)
    if "nope" in backends:
        assert rows["nope"]["status"] == "error" and "unknown backend 'nope'" in captured.out
    accuracy = pl.read_csv(out / "accuracy.csv")
    assert "pixel_agreement" in accuracy.columns  # the schema holds even with no row
    assert accuracy["backend"].to_list() == [b for b in backends if b != "torch-fp32"]
    figures = {"latency", "card", "pareto", "delta_iou"}
    assert {p.name for p in out.glob("*.html")} == {f"{name}.html" for name in figures}
    pngs = {p.name: p.read_bytes()[:4] for p in out.glob("*.png")}
    assert pngs == {f"{name}.png": b"\x89PNG" for name in figures}
    assert "nothing to draw" in (out / "delta_iou.html").read_text()
    assert len(list(out.glob("*.js"))) == 1  # one plotly.js for the folder
    assert f"wrote {len(list(out.iterdir()))} files to {out}" in captured.out


@pytest.fixture(scope="module")
def results(seg_b0, pixels):
    import torch

    small = torch.nn.functional.interpolate(pixels, size=(SIZE, SIZE), mode="bilinear")
    bench = benchmark(
        seg_b0,
        backends=["torch-fp32", "torch-bf16", "torch-fp32+fold"],
        batch_sizes=(1, 2),
        image_size=SIZE,
        repeats=1,
        threads=1,
    )
    accuracy = compare_accuracy(seg_b0, candidates=["torch-bf16", "torch-fp32+fold"], images=small)
    return bench, accuracy


def test_plot_latency_has_two_traces_per_backend(results):
    figure = plots.plot_latency(results[0])
    assert len(figure.data) == 6
    assert list(figure.data[0].x) == [1, 2]
    assert UNTRAINED_NOTE in figure.layout.title.text
    # each backend keeps its colour in both panels (the legend names the left-hand trace only)
    colors = {}
    for trace in figure.data:
        colors.setdefault(trace.name, set()).add(trace.line.color)
    assert all(len(c) == 1 for c in colors.values()) and len(set.union(*colors.values())) == 3


def test_plot_pareto_front_and_labels(results):
    bench, accuracy = results
    figure = plots.plot_pareto(bench, accuracy)
    *points, front = figure.data
    # one legend entry per backend, no text beside the points (labels piled up)
    assert {trace.name for trace in points} == {"torch-bf16", "torch-fp32+fold"}
    assert all(trace.mode == "markers" and trace.text is None for trace in points)
    assert front.name == "Pareto front"
    assert list(front.x) == sorted(front.x) and len(front.x) >= 1
    assert UNTRAINED_NOTE in figure.layout.title.text


def test_backend_card_joins_speed_and_accuracy(results):
    bench, accuracy = results
    card = plots.backend_card(bench, accuracy, batch=1)
    assert card.height == 3
    assert {"latency_p50_ms", "peak_rss_mib", "model_mib", "pixel_agreement", "sqnr_db"} <= set(
        card.columns
    )
    table = plots.plot_backend_card(bench, accuracy, batch=1)
    headers = [h.removeprefix("<b>").removesuffix("</b>") for h in table.data[0].header.values]
    assert headers == [plots.CARD_COLUMNS[c][0] for c in card.columns]
    assert "latency p50 (ms)" in headers and "pixel agreement" in headers
    assert all(len(column) == 3 for column in table.data[0].cells.values)  # every backend
    # every column at least as wide as its longest header word (no clipped header text)
    for header, width in zip(headers, table.data[0].columnwidth, strict=True):
        assert width >= max(len(word) for word in header.split())
    assert table.layout.height >= 130 + 50 + 3 * 26
    html = plots.show_backend_card(card, accuracy.note)._repr_html_()
    assert 'data-rows="3"' in html and "speed-up vs reference (×)" in html


def test_plot_delta_iou_shows_the_worst_classes(results):
    figure = plots.plot_delta_iou(results[1], top=5)
    classes = {x for trace in figure.data for x in trace.x}
    assert 1 <= len(classes) <= 5
    assert UNTRAINED_NOTE in figure.layout.title.text


@pytest.mark.shared
def test_bench_command_scores_against_real_ade20k_ground_truth(shared_data, tmp_path):
    out = tmp_path / "bench"
    ade = shared_data / "ade20k"
    with pytest.warns(UntrainedModelWarning):
        code = main(
            [
            "bench", "--model", "demo-b0", "--backends", "torch-fp32,torch-fp32+fold",
            "--batch-size", "1",
            "--image-size", str(SIZE), "--repeats", "1", "--warmup", "1", "--threads", "1",
            "--images", str(ade / "images"), "--annotations", str(ade / "annotations"),
            "--out", str(out),
            ]
        )  # fmt: skip
    assert code == 0
    (row,) = json.loads((out / "accuracy.json").read_text())["rows"]
    assert 0 <= row["miou_vs_ground_truth"] < 0.2  # untrained weights: near chance
    assert row["miou_vs_ground_truth"] == pytest.approx(
        row["reference_miou_vs_ground_truth"], abs=1e-3
    )
    per_class = pl.read_csv(out / "per_class.csv")
    assert per_class["delta_iou"].abs().max() < 0.05


def test_print_of_benchmark_and_accuracy_results_is_a_summary(results):
    bench, accuracy = results
    text = repr(bench)
    assert text.startswith("BenchmarkResult(") and "1 threads" in text and UNTRAINED_NOTE in text
    row = bench.frame.filter((pl.col("backend") == "torch-bf16") & (pl.col("batch") == 2)).row(
        0, named=True
    )
    assert "  torch-bf16: batch 1 " in text and f"batch 2 {row['latency_p50_ms']:.1f} ms" in text
    assert len(text.splitlines()) == 5 and " at 0x" not in text
    text = repr(accuracy)
    agreement = accuracy.frame.filter(pl.col("backend") == "torch-fp32+fold")["pixel_agreement"]
    assert text.startswith("AccuracyReport(reference torch-fp32")
    assert f"torch-fp32+fold: pixel agreement {agreement[0]:.4%}, SQNR " in text


def test_bench_with_an_unreadable_image_fails_before_the_model_loads(tmp_path, capsys, monkeypatch):
    from segpile_lab.seg import model

    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.jpg").write_text("not a picture")
    monkeypatch.setattr(model, "load_segmenter", lambda *a, **k: pytest.fail("model loaded"))
    code = main(["bench", "--images", str(tmp_path / "imgs"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "a.jpg: not an image" in err and "Traceback" not in err


def test_bench_when_the_reference_cannot_run_writes_what_it_has(tmp_path, capsys, monkeypatch):
    from segpile_lab.backends import accuracy
    from segpile_lab.errors import BackendError

    def reference_fails(*args, **kwargs):
        raise BackendError("torch-fp32: out of memory")

    monkeypatch.setattr(accuracy, "compare_accuracy", reference_fails)
    out = tmp_path / "bench"
    argv = ["bench", "--model", "demo-b0", "--backends", "torch-fp32", "--batch-size", "1",
            "--image-size", str(SIZE), "--repeats", "1", "--warmup", "1", "--threads", "1",
            "--out", str(out)]  # fmt: skip
    with pytest.warns(UntrainedModelWarning):
        assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "accuracy not compared: torch-fp32: out of memory" in printed
    assert {p.name for p in out.glob("*.png")} == {"latency.png", "card.png"}
    assert not (out / "accuracy.csv").exists() and (out / "benchmark.csv").exists()
    assert f"wrote {len(list(out.iterdir()))} files" in printed


def test_every_backend_figure_takes_the_backend_argument(results):
    """One calling convention with the pile and BPB figures: ``backend="matplotlib"``."""
    from matplotlib.figure import Figure

    bench, accuracy = results
    figures = [
        plots.plot_latency(bench, backend="matplotlib"),
        plots.plot_pareto(bench, accuracy, backend="matplotlib"),
        plots.plot_delta_iou(accuracy, top=5, backend="matplotlib"),
        plots.plot_backend_card(bench, accuracy, backend="matplotlib"),
    ]
    for figure in figures:
        assert isinstance(figure, Figure)
        assert UNTRAINED_NOTE in figure.get_suptitle()
    with pytest.raises(ValueError, match="'plotly' or 'matplotlib'"):
        plots.plot_latency(bench, backend="bokeh")  # type: ignore[arg-type]
    stems = {"latency", "card", "pareto", "delta_iou"}
    for kind in ("plotly", "matplotlib"):
        assert set(plots.backend_figures(bench, accuracy, backend=kind)) == stems  # type: ignore[arg-type]
    assert set(plots.backend_figures(bench)) == {"latency", "card"}


def test_backend_figures_read_trained_from_the_results(results):
    """No default says "trained": the same results marked trained lose the note, and an
    untrained accuracy report alone marks the card."""
    import dataclasses

    from segpile_lab.provenance import Provenance

    bench, accuracy = results
    trained_bench = dataclasses.replace(bench, provenance=Provenance())
    trained_accuracy = dataclasses.replace(accuracy, provenance=Provenance())
    for kind in ("plotly", "matplotlib"):
        figures = plots.backend_figures(trained_bench, trained_accuracy, backend=kind)  # type: ignore[arg-type]
        titles = [_title(figure) for figure in figures.values()]
        assert all(UNTRAINED_NOTE not in text for text in titles), titles
        card = plots.plot_backend_card(trained_bench, accuracy, backend=kind)  # type: ignore[arg-type]
        assert UNTRAINED_NOTE in _title(card)


def _title(figure):
    return figure.get_suptitle() if hasattr(figure, "get_suptitle") else figure.layout.title.text
