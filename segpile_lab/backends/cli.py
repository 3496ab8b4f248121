"""``segpile-lab bench``: benchmark and compare inference backends; CSV/JSON and HTML plots."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from segpile_lab.errors import SegpileError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"batch sizes must be positive integers, got {text!r}")
    return values


def register(subparsers: Any) -> None:
    """Add the ``bench`` sub-command."""
    parser = subparsers.add_parser(
        "bench",
        help="benchmark inference backends and compare their outputs with fp32",
        description=(
            "Time each backend (latency percentiles, throughput, memory, model size, setup) and "
            "compare its labels and logits with the torch-fp32 reference on images. Writes "
            "benchmark.csv/json, accuracy.csv/json, per_class.csv and HTML plots to --out. "
            "A backend that fails is recorded with its reason; the others still run."
        ),
    )
    parser.add_argument("--model", default="demo-b0", help="hub id, local dir or demo name")
    parser.add_argument(
        "--backends",
        nargs="+",
        metavar="NAME",
        help="backend names (space or comma separated; default: all that run here)",
    )
    parser.add_argument("--batch-sizes", type=_int_list, default=[1, 8], metavar="1,8")
    parser.add_argument("--image-size", type=int, default=512, metavar="S")
    parser.add_argument("--images", metavar="DIR", help="images for the accuracy comparison")
    parser.add_argument(
        "--annotations", metavar="DIR", help="ground-truth PNGs named like the images"
    )
    parser.add_argument("--out", default="segpile-bench", metavar="DIR")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--cache-dir", metavar="DIR", help="ONNX cache (default: user cache)")
    parser.set_defaults(func=_run)


def _images(folder: str | None) -> list[Path] | None:
    if folder is None:
        return None
    path = Path(folder)
    if not path.is_dir():
        raise SegpileError(f"--images {folder}: not a directory")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SegpileError(f"--images {folder}: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def _annotations(folder: str | None, images: list[Path] | None) -> list[Path] | None:
    if folder is None:
        return None
    if images is None:
        raise SegpileError("--annotations needs --images")
    paths = [Path(folder) / f"{image.stem}.png" for image in images]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise SegpileError(f"--annotations {folder}: no annotation for {', '.join(missing[:5])}")
    return paths


def _run(args: argparse.Namespace) -> int:
    import segpile_lab as sl
    from segpile_lab.backends.plots import (
        backend_card,
        backend_card_figure,
        delta_iou_plot,
        latency_plot,
        pareto_plot,
    )

    names = [n for item in args.backends or [] for n in item.split(",") if n] or None
    images = _images(args.images)
    annotations = _annotations(args.annotations, images)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    segmenter = sl.load_segmenter(args.model)
    options = {"cache_dir": args.cache_dir} if args.cache_dir else {}
    bench = sl.benchmark(
        segmenter,
        backends=names,
        batch_sizes=args.batch_sizes,
        image_size=args.image_size,
        warmup=args.warmup,
        repeats=args.repeats,
        threads=args.threads,
        options=options,
    )
    bench.frame.write_csv(out / "benchmark.csv")
    bench.to_json(out / "benchmark.json")
    candidates = [
        n
        for n in (names or bench.frame["backend"].unique(maintain_order=True).to_list())
        if n != "torch-fp32"
    ]
    accuracy = sl.compare_accuracy(
        segmenter,
        candidates=candidates,
        images=images if images is not None else list(sl.demo_images().values()),
        annotations=annotations,
        options=options,
    )
    accuracy.frame.write_csv(out / "accuracy.csv")
    accuracy.per_class.write_csv(out / "per_class.csv")
    (out / "accuracy.json").write_text(
        json.dumps(
            {"note": accuracy.note, "rows": accuracy.frame.to_dicts()}, indent=1, default=str
        )
    )
    card = backend_card(bench, accuracy, batch=args.batch_sizes[0])
    figures = {
        "latency": latency_plot(bench),
        "pareto": pareto_plot(bench, accuracy, batch=args.batch_sizes[0]),
        "delta_iou": delta_iou_plot(accuracy),
        "card": backend_card_figure(card, accuracy.note),
    }
    for name, figure in figures.items():
        figure.write_html(out / f"{name}.html", include_plotlyjs=True)
    import polars as pl

    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, fmt_str_lengths=40):
        print(card.drop("error"))
    if accuracy.note:
        print(accuracy.note)
    pages = ", ".join(f"{name}.html" for name in figures)
    print(f"wrote {out}/: benchmark.csv/json, accuracy.csv/json, per_class.csv, {pages}")
    return 0
