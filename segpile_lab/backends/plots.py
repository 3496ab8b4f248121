"""Plotly figures and the "backend card" for benchmark and accuracy results.

Figures made from untrained demo weights carry "untrained demo weights: ranks backends only"
in their title.
"""

from __future__ import annotations

from typing import Any

from segpile_lab.backends.accuracy import AccuracyReport
from segpile_lab.backends.benchmark import BenchmarkResult


def _title(text: str, note: str) -> str:
    return f"{text}<br><sup>{note}</sup>" if note else text


def _say_if_empty(figure: Any, empty: bool, what: str) -> Any:
    """Write "no backend ... " across `figure` when it has nothing to draw."""
    if empty:
        figure.add_annotation(
            text=f"nothing to draw: no backend {what} (see the error rows of the card)",
            x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
        )  # fmt: skip
    return figure


def latency_plot(result: BenchmarkResult) -> Any:
    """Latency per image (ms) and throughput (images/s) against batch size, one line per backend."""
    import plotly.colors
    import polars as pl
    from plotly.subplots import make_subplots

    ok = result.frame.filter(pl.col("status") == "ok").sort("backend", "batch")
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("latency per image, p50 (ms)", "throughput (images/s)")
    )
    palette = plotly.colors.qualitative.Plotly  # one colour per backend, in both panels
    for index, (name, group) in enumerate(ok.group_by("backend", maintain_order=True)):
        per_image = (group["latency_p50_ms"] / group["batch"]).to_list()
        color = palette[index % len(palette)]
        style = {
            "legendgroup": name[0],
            "mode": "lines+markers",
            "line": {"color": color},
            "marker": {"color": color},
        }
        figure.add_scatter(
            x=group["batch"].to_list(), y=per_image, name=name[0], row=1, col=1, **style
        )
        figure.add_scatter(
            x=group["batch"].to_list(),
            y=group["throughput_ips"].to_list(),
            name=name[0],
            showlegend=False,
            row=1,
            col=2,
            **style,
        )
    figure.update_xaxes(title_text="batch size", type="log", dtick=0.30103)
    figure.update_yaxes(type="log", row=1, col=1)
    env = result.environment
    where = f"{env.get('cpu', '')}, {env.get('threads')} threads, {env.get('device')}"
    figure.update_layout(title=_title(f"Backend speed — {where}", result.note), height=450)
    return _say_if_empty(figure, ok.is_empty(), "ran")


def backend_card(
    bench: BenchmarkResult, accuracy: AccuracyReport | None = None, batch: int = 1
) -> Any:
    """One row per backend at `batch`: speed, memory, size, setup, accuracy if given (Polars)."""
    import polars as pl

    speed = bench.frame.filter((pl.col("batch") == batch) | (pl.col("status") == "error")).select(
        "backend",
        "precision",
        "status",
        pl.col("latency_p50_ms").round(1),
        pl.col("throughput_ips").round(2),
        pl.col("speedup_vs_reference").round(2),
        pl.col("peak_rss_mib").round(0),
        pl.col("model_mib").round(1),
        pl.col("setup_s").round(1),
        "error",
    )
    if accuracy is None:
        return speed
    columns = ["backend", "pixel_agreement", "miou_vs_reference", "sqnr_db", "max_abs_logit_error"]
    if "miou_vs_ground_truth" in accuracy.frame.columns:
        columns.append("miou_vs_ground_truth")
    quality = accuracy.frame.filter(pl.col("status") == "ok").select(columns)
    return speed.join(quality, on="backend", how="left")


def backend_card_figure(card: Any, note: str = "") -> Any:
    """The backend card as a plotly table (renders in exported HTML reports)."""
    import plotly.graph_objects as go

    cells = [
        [
            f"{v:.4g}" if isinstance(v, float) else ("" if v is None else str(v))
            for v in card[c].to_list()
        ]
        for c in card.columns
    ]
    figure = go.Figure(go.Table(header={"values": card.columns}, cells={"values": cells}))
    figure.update_layout(title=_title("Backend card", note), height=120 + 30 * card.height)
    return figure


def pareto_plot(bench: BenchmarkResult, accuracy: AccuracyReport, batch: int = 1) -> Any:
    """Latency p50 (ms, log) against pixel agreement with the reference; the Pareto front joined."""
    import plotly.graph_objects as go
    import polars as pl

    card = backend_card(bench, accuracy, batch).filter(
        pl.col("pixel_agreement").is_not_null() & pl.col("latency_p50_ms").is_not_null()
    )
    points = card.sort("latency_p50_ms")
    front, best = [], -1.0
    for row in points.iter_rows(named=True):
        if row["pixel_agreement"] > best:
            front.append(row)
            best = row["pixel_agreement"]
    figure = go.Figure()
    figure.add_scatter(
        x=points["latency_p50_ms"].to_list(),
        y=(points["pixel_agreement"] * 100).to_list(),
        mode="markers+text",
        text=points["backend"].to_list(),
        textposition="top center",
        name="backends",
    )
    figure.add_scatter(
        x=[r["latency_p50_ms"] for r in front],
        y=[r["pixel_agreement"] * 100 for r in front],
        mode="lines",
        line={"dash": "dot"},
        name="Pareto front",
    )
    figure.update_xaxes(title_text=f"latency p50 at batch {batch} (ms)", type="log")
    figure.update_yaxes(title_text=f"pixel agreement with {accuracy.reference} (%)")
    figure.update_layout(title=_title("Speed against agreement", accuracy.note), height=450)
    return _say_if_empty(figure, points.is_empty(), "has both a latency and an agreement")


def delta_iou_plot(accuracy: AccuracyReport, top: int = 15) -> Any:
    """Per-class ΔIoU bars (candidate − reference) for the `top` classes that lose the most."""
    import plotly.express as px
    import polars as pl

    worst = (
        accuracy.per_class.group_by("class_name")
        .agg(pl.col("delta_iou").min().alias("_worst"))
        .sort("_worst")
        .head(top)["class_name"]
    )
    data = accuracy.per_class.filter(pl.col("class_name").is_in(worst.to_list()))
    figure = px.bar(
        data, x="class_name", y="delta_iou", color="backend", barmode="group",
        category_orders={"class_name": worst.to_list()},
        labels={"delta_iou": "ΔIoU", "class_name": "class"},
    )  # fmt: skip
    target = (
        "ground truth" if "miou_vs_ground_truth" in accuracy.frame.columns else accuracy.reference
    )
    figure.update_layout(
        title=_title(f"Per-class ΔIoU against {target} (worst {top} classes)", accuracy.note),
        height=450,
    )
    return _say_if_empty(figure, data.is_empty(), "was compared")
