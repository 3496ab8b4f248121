"""``segpile-lab bench``: benchmark and compare inference backends; CSV/JSON and HTML plots."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from segpile_lab._cli_options import (
    PAIRING_RULE,
    UsageError,
    add_command,
    add_device,
    add_image_folders,
    add_model,
    add_out,
    check_distinct_folders,
    default_out,
    format_table,
    int_at_least,
    int_list,
    out_dir,
    prepare_out,
    written_line,
)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def register(subparsers: Any) -> None:
    """Add the ``bench`` sub-command."""
    parser = add_command(
        subparsers,
        "bench",
        help="benchmark inference backends and compare their outputs with fp32",
        description=(
            "Time each backend (latency percentiles, throughput, memory, model size, setup) and "
            "compare its labels and logits with the torch-fp32 reference on images (default: "
            "the demo photos). Writes benchmark.csv/json, accuracy.csv/json, per_class.csv and "
            "the figures as HTML and PNG to --out. A backend that fails is a row with its reason; "
            f"the others still run. With --annotations, {PAIRING_RULE}. Offline, --model demo-b0 "
            "works without downloads (untrained demo weights: ranks backends only)."
        ),
    )
    add_model(parser)
    add_device(parser)
    parser.add_argument(
        "--backends", nargs="+", metavar="NAME",
        help="backend names, space or comma separated (default: all that run here)",
    )  # fmt: skip
    for flag, shown in (("--batch-size", "1,8"), ("--batch-sizes", argparse.SUPPRESS)):
        parser.add_argument(
            flag, dest="batch_size", type=int_list, default=[1, 8], metavar="N[,N...]",
            help=shown if shown == argparse.SUPPRESS else "batch sizes to time, comma separated",
        )  # fmt: skip
    parser.add_argument(
        "--image-size", type=int_at_least(32), default=512, metavar="S",
        help="square input size in pixels (SegFormer-ADE: 512)",
    )  # fmt: skip
    add_image_folders(parser, required=False)
    add_out(parser, default_out("bench"))
    parser.add_argument(
        "--threads", type=int_at_least(1), help="intra-op threads (default: torch's setting)"
    )
    parser.add_argument("--warmup", type=int_at_least(1), default=2, help="untimed calls per case")
    parser.add_argument("--repeats", type=int_at_least(1), default=10, help="timed calls per case")
    parser.add_argument(
        "--cache-dir", type=out_dir, metavar="DIR", help="ONNX cache (default: user cache)"
    )
    parser.set_defaults(func=_run)


def _image_pairs(args: argparse.Namespace) -> tuple[list[Path] | None, list[Path] | None]:
    """The accuracy images and, with --annotations, their ground truth (`PAIRING_RULE`)."""
    from segpile_lab.seg.ade20k import pair_images_with_annotations

    if args.images is None:
        if args.annotations is not None:
            raise UsageError("--annotations needs --images")
        return None, None
    if args.annotations is not None:
        check_distinct_folders(args.images, args.annotations)
        pairs = list(pair_images_with_annotations(args.images, args.annotations))
        return [p[0] for p in pairs], [p[1] for p in pairs]
    files = sorted(p for p in Path(args.images).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UsageError(f"--images {args.images}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return files, None


def _run(args: argparse.Namespace) -> int:
    import polars as pl

    from segpile_lab.backends.accuracy import compare_accuracy
    from segpile_lab.backends.benchmark import benchmark
    from segpile_lab.backends.plots import CARD_COLUMNS, backend_card
    from segpile_lab.backends.registry import REFERENCE
    from segpile_lab.errors import BackendError
    from segpile_lab.seg.images import demo_images, load_image
    from segpile_lab.seg.model import load_segmenter

    names = [n for item in args.backends or [] for n in item.split(",") if n] or None
    images, annotations = _image_pairs(args)
    # an unreadable image fails now, not after the timings
    pictures = None if images is None else [load_image(path) for path in images]
    out = prepare_out(args.out)
    segmenter = load_segmenter(args.model, revision=args.revision, device=args.device)
    options = {"cache_dir": args.cache_dir} if args.cache_dir else {}
    bench = benchmark(
        segmenter,
        backends=names,
        batch_sizes=args.batch_size,
        image_size=args.image_size,
        warmup=args.warmup,
        repeats=args.repeats,
        threads=args.threads,
        options=options,
    )
    written = [out / "benchmark.csv", out / "benchmark.json"]
    bench.frame.write_csv(written[0])
    bench.to_json(written[1])
    candidates = [
        n
        for n in (names or bench.frame["backend"].unique(maintain_order=True).to_list())
        if n != REFERENCE
    ]
    try:
        accuracy = compare_accuracy(
            segmenter,
            candidates=candidates,
            images=pictures if pictures is not None else list(demo_images().values()),
            annotations=annotations,
            options=options,
        )
    except BackendError as exc:  # the reference itself failed: nothing to compare with
        accuracy = None
        print(f"accuracy not compared: {exc}")
    else:
        written += _write_accuracy(accuracy, out)
    written += _figures(bench, accuracy, out, batch=args.batch_size[0])
    card = backend_card(bench, accuracy, batch=args.batch_size[0])
    headers = {column: header for column, (header, _) in CARD_COLUMNS.items()}
    print(format_table(card.drop("error"), headers=headers))
    for row in card.filter(pl.col("status") == "error").iter_rows(named=True):
        print(f"{row['backend']}: error: {row['error']}")
    if bench.note:
        print(bench.note)
    print(written_line(out, written))
    return 0


def _write_accuracy(accuracy: Any, out: Path) -> list[Path]:
    written = [out / "accuracy.csv", out / "per_class.csv", out / "accuracy.json"]
    accuracy.frame.write_csv(written[0])
    accuracy.per_class.write_csv(written[1])
    payload = {"note": accuracy.note, "rows": accuracy.frame.to_dicts()}
    written[2].write_text(json.dumps(payload, indent=1, default=str))
    return written


def _figures(bench: Any, accuracy: Any, out: Path, *, batch: int) -> list[Path]:
    """Every figure the results can draw: interactive HTML (plotly.js once in the folder) and
    PNG, as the pile commands write them."""
    from segpile_lab._figures import save_figures
    from segpile_lab.backends.plots import backend_figures

    return save_figures(
        lambda kind: backend_figures(bench, accuracy, batch=batch, backend=kind), out
    )
