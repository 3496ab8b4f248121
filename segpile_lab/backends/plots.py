"""Figures and the "backend card" for benchmark and accuracy results.

Like every domain's figures, each ``plot_*`` takes its results first and ``backend="plotly"``
(interactive) or ``"matplotlib"`` (drawn by `segpile_lab.backends.static_plots`, for PNG
files); `backend_figures` returns all of them by file stem. Figures made from untrained demo
weights carry "untrained demo weights: ranks backends only" in their title, read from the
results' `provenance` (`segpile_lab.provenance.title`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segpile_lab._figures import AnyFigure, Backend, check_backend
from segpile_lab.backends.accuracy import AccuracyReport
from segpile_lab.backends.benchmark import BenchmarkResult
from segpile_lab.provenance import Provenance, combine, title

if TYPE_CHECKING:
    import polars as pl

    from segpile_lab.report.display import HTMLBlock


def _title(text: str, provenance: Provenance) -> str:
    """`text` with the results' provenance note on a second line."""
    return title(text, provenance, sep="<br>")


def _say_if_empty(figure: Any, empty: bool, what: str) -> Any:
    """Write "no backend ... " across `figure` when it has nothing to draw."""
    if empty:
        figure.add_annotation(
            text=f"nothing to draw: no backend {what} (see the error rows of the card)",
            x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
        )  # fmt: skip
    return figure


def plot_latency(result: BenchmarkResult, *, backend: Backend = "plotly") -> AnyFigure:
    """Latency per image (ms) and throughput (images/s) against batch size, one line per backend."""
    check_backend(backend)
    if backend == "matplotlib":
        from segpile_lab.backends import static_plots

        return static_plots.latency(result)
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
    figure.update_layout(title=_title(f"Backend speed — {where}", result.provenance), height=450)
    return _say_if_empty(figure, ok.is_empty(), "ran")


def backend_card(
    bench: BenchmarkResult, accuracy: AccuracyReport | None = None, batch: int = 1
) -> pl.DataFrame:
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


CARD_COLUMNS: dict[str, tuple[str, str | None]] = {
    "backend": ("backend", None),
    "precision": ("precision", None),
    "status": ("status", None),
    "latency_p50_ms": ("latency p50 (ms)", "{:,.1f}"),
    "throughput_ips": ("throughput (images/s)", "{:,.2f}"),
    "speedup_vs_reference": ("speed-up vs reference (×)", "{:.2f}"),
    "peak_rss_mib": ("peak memory (MiB)", "{:,.0f}"),
    "model_mib": ("model size (MiB)", "{:,.1f}"),
    "setup_s": ("setup (s)", "{:.1f}"),
    "pixel_agreement": ("pixel agreement", "{:.2%}"),
    "miou_vs_reference": ("mIoU vs reference", "{:.1%}"),
    "sqnr_db": ("SQNR (dB)", "{:.1f}"),
    "max_abs_logit_error": ("max |logit error|", "{:.3g}"),
    "miou_vs_ground_truth": ("mIoU vs ground truth", "{:.1%}"),
    "error": ("error", None),
}
"""Backend-card column → (header with unit, format), shared by the HTML table and the figure."""


def show_backend_card(card: pl.DataFrame, note: str = "") -> HTMLBlock:
    """The backend card as a readable HTML table (every row, headers with units, wrapping
    error text); `note` goes above it."""
    from segpile_lab.report.display import show_table

    columns = {c: CARD_COLUMNS.get(c, (c, None)) for c in card.columns}
    return show_table(card, columns, caption=f"Backend card — {note}" if note else "Backend card")


def plot_backend_card(
    bench: BenchmarkResult,
    accuracy: AccuracyReport | None = None,
    *,
    batch: int = 1,
    backend: Backend = "plotly",
) -> AnyFigure:
    """The backend card (`backend_card` at `batch`) as a table figure: plotly (renders in
    exported HTML reports; every row, headers with units, column widths from their content,
    text wrapped) or a matplotlib picture (errors left to the CSV/JSON)."""
    check_backend(backend)
    card = backend_card(bench, accuracy, batch)
    provenance = combine(bench, *([accuracy] if accuracy is not None else []))
    if backend == "matplotlib":
        from segpile_lab.backends import static_plots

        return static_plots.card(card, provenance)
    import plotly.graph_objects as go

    from segpile_lab.report.display import format_value

    headers = [CARD_COLUMNS.get(c, (c, None))[0] for c in card.columns]
    cells = [
        [format_value(v, CARD_COLUMNS.get(c, (c, None))[1]) for v in card[c].to_list()]
        for c in card.columns
    ]
    # width: the longest cell, or the longest header word (headers wrap between words)
    widths = [
        max([len(word) for word in header.split()] + [min(len(v), 40) for v in column] + [6])
        for header, column in zip(headers, cells, strict=True)
    ]
    lines = [  # rows grow when a cell wraps (error messages)
        max([1] + [-(-len(column[row]) // 40) for column in cells]) for row in range(card.height)
    ]
    figure = go.Figure(
        go.Table(
            columnwidth=widths,
            header={"values": [f"<b>{h}</b>" for h in headers], "align": "left", "height": 44},
            cells={"values": cells, "align": "left", "height": 26},
        )
    )
    width = max(700, min(1400, 9 * sum(widths) + 80))
    height = 130 + 50 + 26 * sum(lines) + 10 * card.height
    figure.update_layout(
        title=_title("Backend card", provenance), height=height, width=width,
        margin={"l": 20, "r": 20, "t": 80, "b": 20},
    )  # fmt: skip
    return figure


def plot_pareto(
    bench: BenchmarkResult,
    accuracy: AccuracyReport,
    *,
    batch: int = 1,
    backend: Backend = "plotly",
) -> AnyFigure:
    """Latency p50 (ms, log) against pixel agreement with the reference; the Pareto front joined."""
    check_backend(backend)
    if backend == "matplotlib":
        from segpile_lab.backends import static_plots

        return static_plots.pareto(bench, accuracy, batch)
    import plotly.graph_objects as go

    points, front = pareto_points(bench, accuracy, batch)
    figure = go.Figure()
    # one legend entry per backend instead of text beside each point: labels of backends
    # with almost the same speed and agreement would pile into one unreadable blob
    symbols = ("circle", "diamond", "square", "triangle-up", "x", "star", "cross", "hexagon")
    for index, row in enumerate(points.iter_rows(named=True)):
        figure.add_scatter(
            x=[row["latency_p50_ms"]],
            y=[row["pixel_agreement"] * 100],
            mode="markers",
            marker={"size": 11, "symbol": symbols[index % len(symbols)]},
            name=row["backend"],
            hovertemplate=f"{row['backend']}<br>%{{x:.1f}} ms, %{{y:.2f}} %<extra></extra>",
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
    figure.update_layout(
        title=_title("Speed against agreement", combine(bench, accuracy)), height=450
    )
    return _say_if_empty(figure, points.is_empty(), "has both a latency and an agreement")


def pareto_points(
    bench: BenchmarkResult, accuracy: AccuracyReport, batch: int = 1
) -> tuple[Any, list[dict[str, Any]]]:
    """The card rows with both a latency and an agreement, fastest first (Polars), and the
    Pareto front among them (rows that agree better than every faster one)."""
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
    return points, front


def worst_classes(accuracy: AccuracyReport, top: int = 15) -> tuple[Any, list[str], str]:
    """The per-class rows of the `top` classes whose ΔIoU falls most (Polars), those classes in
    that order, and what ΔIoU is measured against (ground truth or the reference)."""
    import polars as pl

    worst = (
        accuracy.per_class.group_by("class_name")
        .agg(pl.col("delta_iou").min().alias("_worst"))
        .sort("_worst")
        .head(top)["class_name"]
        .to_list()
    )
    data = accuracy.per_class.filter(pl.col("class_name").is_in(worst))
    target = (
        "ground truth" if "miou_vs_ground_truth" in accuracy.frame.columns else accuracy.reference
    )
    return data, worst, target


def plot_delta_iou(
    accuracy: AccuracyReport, *, top: int = 15, backend: Backend = "plotly"
) -> AnyFigure:
    """Per-class ΔIoU bars (candidate − reference) for the `top` classes that lose the most."""
    check_backend(backend)
    if backend == "matplotlib":
        from segpile_lab.backends import static_plots

        return static_plots.delta_iou(accuracy, top)
    import plotly.express as px

    data, worst, target = worst_classes(accuracy, top)
    figure = px.bar(
        data, x="class_name", y="delta_iou", color="backend", barmode="group",
        category_orders={"class_name": worst},
        labels={"delta_iou": "ΔIoU", "class_name": "class"},
    )  # fmt: skip
    figure.update_layout(
        title=_title(f"Per-class ΔIoU against {target} (worst {top} classes)", accuracy.provenance),
        height=450,
    )
    return _say_if_empty(figure, data.is_empty(), "was compared")


def backend_figures(
    bench: BenchmarkResult,
    accuracy: AccuracyReport | None = None,
    *,
    batch: int = 1,
    backend: Backend = "plotly",
) -> dict[str, AnyFigure]:
    """Every figure the results can draw, by file stem (as ``segpile-lab bench`` writes them)."""
    figures = {
        "latency": plot_latency(bench, backend=backend),
        "card": plot_backend_card(bench, accuracy, batch=batch, backend=backend),
    }
    if accuracy is not None:
        figures["pareto"] = plot_pareto(bench, accuracy, batch=batch, backend=backend)
        figures["delta_iou"] = plot_delta_iou(accuracy, backend=backend)
    return figures
