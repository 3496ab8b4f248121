"""The matplotlib side of the backend figures, for PNG files beside the interactive HTML.

Called by `segpile_lab.backends.plots` (``plot_*(..., backend="matplotlib")``), whose
`pareto_points` and `worst_classes` choose what is drawn; names are drawn literally. A figure
with nothing to draw says so in its middle.
"""

from __future__ import annotations

from typing import Any

from segpile_lab._figures import literal, matplotlib_figure
from segpile_lab.backends.accuracy import AccuracyReport
from segpile_lab.backends.benchmark import BenchmarkResult
from segpile_lab.backends.plots import CARD_COLUMNS, pareto_points, worst_classes
from segpile_lab.provenance import Provenance, combine, title


def _plain_log(ax: Any, *names: str) -> None:
    """Log scale on the axes `names` ("x", "y") with plain numbers (12, 40), not 4×10¹."""
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda value, _: f"{value:g}")
    for name in names:
        getattr(ax, f"set_{name}scale")("log")
        axis = getattr(ax, f"{name}axis")
        axis.set_major_formatter(plain)
        if name == "y":  # x: the ticks are set where the data are
            axis.set_minor_formatter(plain)


def _title(fig: Any, text: str, provenance: Provenance) -> None:
    fig.suptitle(title(text, provenance, sep="\n"), fontsize=11)


def _say_if_empty(ax: Any, empty: bool, what: str) -> None:
    if empty:
        ax.text(0.5, 0.5, f"nothing to draw: no backend {what}", ha="center", va="center",
                transform=ax.transAxes, color="grey")  # fmt: skip


def latency(result: BenchmarkResult) -> Any:
    """Latency per image (ms, p50) and throughput (images/s) against batch size, one colour
    per backend in both panels."""
    import polars as pl

    ok = result.frame.filter(pl.col("status") == "ok").sort("backend", "batch")
    fig, (left, right) = matplotlib_figure(11, 4.2, ncols=2, sharey=False)
    for index, ((name,), group) in enumerate(ok.group_by("backend", maintain_order=True)):
        batch = group["batch"].to_list()
        style = {"color": f"C{index % 10}", "marker": "o"}
        left.plot(batch, (group["latency_p50_ms"] / group["batch"]).to_list(), **style,
                  label=literal(name))  # fmt: skip
        right.plot(batch, group["throughput_ips"].to_list(), **style)
    for ax, label in ((left, "latency per image, p50 (ms)"), (right, "throughput (images/s)")):
        ax.set_xlabel("batch size")
        ax.set_ylabel(label)
        if not ok.is_empty():
            _plain_log(ax, "x", "y")
            ax.set_xticks(sorted(set(ok["batch"].to_list())), minor=False)
            ax.set_xticks([], minor=True)
    _say_if_empty(left, ok.is_empty(), "ran")
    if not ok.is_empty():
        left.legend(fontsize=8)
    env = result.environment
    where = f"{env.get('cpu', '')}, {env.get('threads')} threads, {env.get('device')}"
    _title(fig, f"Backend speed — {where}", result.provenance)
    return fig


def pareto(bench: BenchmarkResult, accuracy: AccuracyReport, batch: int) -> Any:
    """Latency p50 (ms, log) against pixel agreement with the reference; the front dotted."""
    points, front = pareto_points(bench, accuracy, batch)
    fig, ax = matplotlib_figure(7.5, 4.8)
    ax.scatter(points["latency_p50_ms"].to_list(), (points["pixel_agreement"] * 100).to_list())
    for row in points.iter_rows(named=True):
        ax.annotate(literal(row["backend"]), (row["latency_p50_ms"], row["pixel_agreement"] * 100),
                    textcoords="offset points", xytext=(4, 4), fontsize=8)  # fmt: skip
    ax.plot([r["latency_p50_ms"] for r in front], [r["pixel_agreement"] * 100 for r in front],
            ":", color="grey", label="Pareto front")  # fmt: skip
    if not points.is_empty():
        _plain_log(ax, "x")
        ax.xaxis.set_minor_formatter(ax.xaxis.get_major_formatter())
        ax.margins(x=0.2, y=0.1)  # room for the names beside the points
        ax.legend(fontsize=8)
    ax.set_xlabel(f"latency p50 at batch {batch} (ms)")
    ax.set_ylabel(f"pixel agreement with {accuracy.reference} (%)")
    _say_if_empty(ax, points.is_empty(), "has both a latency and an agreement")
    _title(fig, "Speed against agreement", combine(bench, accuracy))
    return fig


def delta_iou(accuracy: AccuracyReport, top: int) -> Any:
    """Per-class ΔIoU bars, one colour per backend, for the `top` classes that lose the most."""
    import polars as pl

    data, worst, target = worst_classes(accuracy, top)
    backends = data["backend"].unique(maintain_order=True).to_list()
    fig, ax = matplotlib_figure(max(7.0, 0.5 * len(worst) * max(1, len(backends))), 4.8)
    width = 0.8 / max(1, len(backends))
    for index, name in enumerate(backends):
        part = data.filter(pl.col("backend") == name)
        x = [worst.index(c) + (index - (len(backends) - 1) / 2) * width for c in part["class_name"]]
        ax.bar(x, part["delta_iou"].to_list(), width, label=literal(name), color=f"C{index % 10}")
    ax.set_xticks(range(len(worst)), [literal(c) for c in worst], rotation=45, ha="right")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("ΔIoU")
    if backends:
        ax.legend(fontsize=8)
    _say_if_empty(ax, data.is_empty(), "was compared")
    _title(fig, f"Per-class ΔIoU against {target} (worst {top} classes)", accuracy.provenance)
    return fig


def card(table: Any, provenance: Provenance) -> Any:
    """The backend card (`backend_card`) as a table picture; errors stay in the CSV/JSON."""
    shown = table.drop("error") if "error" in table.columns else table
    formats = [CARD_COLUMNS.get(c, (c, None))[1] for c in shown.columns]
    cells = [
        [
            "" if v is None else literal(f.format(v) if f else v)
            for v, f in zip(row, formats, strict=True)
        ]
        for row in shown.iter_rows()
    ]
    headers = [literal(CARD_COLUMNS.get(c, (c, None))[0]) for c in shown.columns]
    chars = sum(max(len(text) for text in column) for column in zip(headers, *cells, strict=True))
    fig, ax = matplotlib_figure(min(1 + 0.075 * chars, 30), 0.9 + 0.25 * (len(cells) + 1))
    ax.axis("off")
    if cells:
        drawn = ax.table(cellText=cells, colLabels=headers, loc="center", cellLoc="left")
        drawn.auto_set_font_size(False)
        drawn.set_fontsize(8)
        drawn.auto_set_column_width(list(range(len(headers))))
    _say_if_empty(ax, not cells, "ran")
    _title(fig, "Backend card", provenance)
    return fig
