"""``segpile-lab segment`` and ``segpile-lab evaluate``: the segmentation engine from a shell."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from segpile_lab._cli_options import (
    PAIRING_RULE,
    add_batch_size,
    add_command,
    add_device,
    add_image_folders,
    add_model,
    add_out,
    check_distinct_folders,
    default_out,
    existing_file,
    int_at_least,
    prepare_out,
    unit_interval,
)
from segpile_lab.provenance import UNTRAINED


def register(subparsers: Any) -> None:
    """Add the ``segment`` and ``evaluate`` sub-commands."""
    segment = add_command(
        subparsers,
        "segment",
        help="segment images; write overlays, palette label maps and a JSON summary",
        description=(
            "Segment each IMAGE with SegFormer and write, per image, an overlay PNG per layer "
            "(labels, confidence, entropy, margin; mutual_information with --mc-samples), the "
            "label map as a palette PNG and a legend, plus summary.json for all images. "
            "Offline, --model demo-b0 works without downloads (untrained demo weights)."
        ),
    )
    segment.add_argument(
        "images", nargs="+", type=existing_file, metavar="IMAGE", help="image files"
    )
    _model_options(segment)
    add_out(segment, default_out("segment"))
    segment.add_argument("--alpha", type=unit_interval, default=0.5, help="overlay opacity, 0-1")
    segment.set_defaults(func=_segment)

    evaluate = add_command(
        subparsers,
        "evaluate",
        help="score a model on images with ADE20K-style annotations",
        description=(
            f"Segment every image in --images and compare with its annotation: {PAIRING_RULE}. "
            "Writes metrics.json, per_class.csv and per_image.csv (one row per image: "
            "accuracy, mIoU, mean confidence/entropy, ECE, AURC, top confusions). Offline, "
            "--model demo-b0 works without downloads (untrained demo weights)."
        ),
    )
    add_image_folders(evaluate, required=True)
    _model_options(evaluate)
    add_out(evaluate, default_out("evaluate"))
    evaluate.set_defaults(func=_evaluate)


def _model_options(parser: argparse.ArgumentParser) -> None:
    add_model(parser)
    add_device(parser)
    add_batch_size(parser, default=8, what="images per forward pass")
    parser.add_argument(
        "--mc-samples", type=int_at_least(0), default=0, metavar="T",
        help="Monte-Carlo dropout passes for the uncertainty maps (0: off)",
    )  # fmt: skip


def _unique_stem(path: Path, used: set[str]) -> str:
    stem, number = path.stem, 2
    while stem in used:
        stem, number = f"{path.stem}-{number}", number + 1
    used.add(stem)
    return stem


def _save_label_map(labels: Any, palette: Any, path: Path) -> None:
    """Class ids as a palette PNG (8-bit, ADE20K colours) or a 16-bit PNG beyond 256 classes."""
    import numpy as np
    from PIL import Image

    if labels.dtype == np.uint8:
        picture = Image.fromarray(labels)
        picture = picture.convert("P") if picture.mode != "P" else picture
        picture.putpalette(np.asarray(palette, dtype=np.uint8).reshape(-1).tolist())
    else:
        picture = Image.fromarray(labels.astype(np.uint16))
    picture.save(path)


def _segment(args: argparse.Namespace) -> int:
    from segpile_lab.seg.images import load_image
    from segpile_lab.seg.model import load_segmenter
    from segpile_lab.seg.overlay import legend_image, overlay

    out = prepare_out(args.out)
    segmenter = load_segmenter(args.model, revision=args.revision, device=args.device)
    summary: dict[str, Any] = {
        "model": segmenter.name,
        "is_trained": segmenter.is_trained,
        "note": segmenter.provenance.note,
        "images": [],
    }
    used: set[str] = set()
    for path in map(Path, args.images):
        image = load_image(path)
        result = segmenter.predict(
            image, batch_size=args.batch_size, mc_samples=args.mc_samples, progress=False
        )
        stem = _unique_stem(path, used)
        files = {}
        for layer in ["labels", *[n for n in result.available_layers() if n in _LAYERS]]:
            files[layer] = f"{stem}.{layer}.png"
            overlay(image, result, layer=layer, alpha=args.alpha, names=layer == "labels").save(
                out / files[layer]
            )
        files["label_map"] = f"{stem}.label_map.png"
        _save_label_map(result.labels, segmenter.palette, out / files["label_map"])
        files["legend"] = f"{stem}.legend.png"
        legend_image(result).save(out / files["legend"])
        summary["images"].append(_image_summary(path, result, files))
        print(f"{path}: {result.image_size[1]}×{result.image_size[0]} → {out / files['labels']}")
    (out / "summary.json").write_text(json.dumps(_json_ready(summary), indent=2) + "\n")
    print(f"wrote {out / 'summary.json'}" + (f" ({UNTRAINED})" if not segmenter.is_trained else ""))
    return 0


_LAYERS = ("confidence", "entropy", "margin", "mutual_information")


def _image_summary(path: Path, result: Any, files: dict[str, str]) -> dict[str, Any]:
    shares = result.class_shares().head(10)
    means = {name: float(result.layer(name).mean()) for name in result.available_layers()}
    return {
        "source": str(path),
        "height": result.image_size[0],
        "width": result.image_size[1],
        "uncertainty_resolution": result.uncertainty_resolution,
        "mc_samples": result.mc_samples,
        "mean": means,
        "top_classes": shares.to_dicts(),
        "files": files,
    }


def _evaluate(args: argparse.Namespace) -> int:
    import polars as pl

    from segpile_lab.seg.dataset import load_dataset
    from segpile_lab.seg.metrics import evaluate
    from segpile_lab.seg.model import load_segmenter

    check_distinct_folders(args.images, args.annotations)
    dataset = load_dataset(args.images, args.annotations)  # pairing errors before the model
    out = prepare_out(args.out)
    segmenter = load_segmenter(args.model, revision=args.revision, device=args.device)
    metrics = evaluate(
        segmenter,
        replace(dataset, label_format=segmenter.preprocessing.label_format),
        batch_size=args.batch_size,
        mc_samples=args.mc_samples,
    )
    summary = metrics.summary()
    report = {
        "model": segmenter.name,
        "is_trained": segmenter.is_trained,
        "note": segmenter.provenance.note,
        "images_dir": str(args.images),
        "annotations_dir": str(args.annotations),
        "summary": summary,
        "reliability": metrics.reliability().to_dicts(),
    }
    (out / "metrics.json").write_text(json.dumps(_json_ready(report), indent=2) + "\n")
    provenance = {"model": segmenter.name, "is_trained": segmenter.is_trained}
    metrics.per_class().with_columns(
        **{key: pl.lit(value) for key, value in provenance.items()}
    ).write_csv(out / "per_class.csv")
    metrics.per_image().with_columns(
        pl.col("classes").list.join("; "),
        **{key: pl.lit(value) for key, value in provenance.items()},
    ).write_csv(out / "per_image.csv")
    note = f"  [{UNTRAINED}]" if not segmenter.is_trained else ""
    print(
        f"{summary['images']} images: mIoU {summary['miou']:.4f}, pixel accuracy "
        f"{summary['pixel_accuracy']:.4f}, ECE {summary.get('ece', float('nan')):.4f}{note}"
    )
    print(f"wrote {out / 'metrics.json'}, {out / 'per_class.csv'} and {out / 'per_image.csv'}")
    return 0


def _json_ready(value: Any) -> Any:
    """NaN (a class or score without data) becomes null: strict JSON has no NaN."""
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    if isinstance(value, float) and value != value:
        return None
    return value
