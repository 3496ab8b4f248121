"""Benchmark: SegFormer inference, HF as shipped vs. segpile_lab's `predict`, same weights.

Baselines: "hf" = ``SegformerImageProcessor`` (what it resolves to here: the PIL backend) →
``SegformerForSemanticSegmentation`` forward → ``post_process_semantic_segmentation`` with each
image's size, the documented HF recipe, timed in its three steps; "hf-pipeline" =
``pipeline("image-segmentation")`` on the same model and processor (end to end only; it also
builds one mask per class). Ours: `Segmenter.predict` as it runs by default (torch
preprocessing, the folded decode head ``torch-fp32+fold``, bounded-memory post-processing),
once labels only and once with the uncertainty maps; the unfolded eager path
(``backend=None``, bit-identical to HF's forward) is timed as one whole `predict` call beside
it. Each is timed split into pre-processing, model and
post-processing (medians over repeats; HF and ours alternate so that load on a shared
machine hits both alike), and end to end, in wall-clock seconds and in process CPU seconds
(CPU time is less sensitive to other jobs on a shared machine); label agreement with both
baselines is checked pixel by pixel.

The demo weights are seeded random (no pretrained weights on these machines); speed does not
depend on the weights, and label agreement is checked on the same weights on both sides.

Usage::

    python benchmarks/bench_segmentation.py                 # B2, batch 1 and 8, 5 repeats
    python benchmarks/bench_segmentation.py --small         # B0, batch 1 and 2, 2 repeats
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "segmentation.json"


def _images(count: int) -> list[np.ndarray]:
    """Real photos of several sizes: matplotlib's samples and, when present, ADE20K's."""
    import segpile_lab as sl

    pictures = [np.asarray(im) for im in sl.demo_images().values()]
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "ade20k" / "images"
    pictures += [np.asarray(sl.load_image(p)) for p in sorted(shared.glob("*.jpg"))]
    return [pictures[i % len(pictures)] for i in range(count)]


def _pipeline(pipe, images, label2id, batch) -> tuple[list[np.ndarray], dict[str, float]]:
    """HF's image-segmentation pipeline; its per-class masks are folded back into label maps."""
    from PIL import Image

    pictures = [Image.fromarray(im) for im in images]
    t0, c0 = time.perf_counter(), time.process_time()
    outputs = pipe(pictures, batch_size=batch)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    labels = []
    for image, segments in zip(images, outputs, strict=True):
        label_map = np.zeros(image.shape[:2], dtype=np.int64)
        for segment in segments:
            label_map[np.asarray(segment["mask"]) > 0] = label2id[segment["label"]]
        labels.append(label_map)
    return labels, {"total": wall, "cpu": cpu}


def _hf(processor, model, images, torch) -> tuple[list[np.ndarray], dict[str, float]]:
    c0 = time.process_time()
    t0 = time.perf_counter()
    inputs = processor(images, return_tensors="pt")
    t1 = time.perf_counter()
    with torch.inference_mode():
        outputs = model(**inputs)
    t2 = time.perf_counter()
    maps = processor.post_process_semantic_segmentation(
        outputs, target_sizes=[im.shape[:2] for im in images]
    )
    labels = [m.numpy() for m in maps]
    t3 = time.perf_counter()
    timing = {"pre": t1 - t0, "model": t2 - t1, "post": t3 - t2, "total": t3 - t0}
    return labels, {**timing, "cpu": time.process_time() - c0}


def _ours(segmenter, images) -> tuple[list[np.ndarray], dict[str, float]]:
    """Our default pipeline split in pieces; post-processing timed labels-only and with
    uncertainty."""
    from segpile_lab.seg.inference import AUTO, _forward_fn, result_from_logits
    from segpile_lab.seg.preprocess import preprocess_arrays

    forward = _forward_fn(segmenter, AUTO)  # what predict() runs by default

    c0 = time.process_time()
    t0 = time.perf_counter()
    pixel_values = preprocess_arrays(images)
    t1 = time.perf_counter()
    logits = forward(pixel_values)
    t2 = time.perf_counter()
    labels = [
        result_from_logits(segmenter, logits[i], im.shape[:2], uncertainty=False).labels
        for i, im in enumerate(images)
    ]
    t3, c3 = time.perf_counter(), time.process_time()
    for i, im in enumerate(images):
        result_from_logits(segmenter, logits[i], im.shape[:2], uncertainty=True)
    t4, c4 = time.perf_counter(), time.process_time()
    return labels, {
        "pre": t1 - t0,
        "model": t2 - t1,
        "post": t3 - t2,
        "post_uncertainty": t4 - t3,
        "cpu": c3 - c0,
        "cpu_post_uncertainty": c4 - c3,
    }


def _compiled(segmenter, torch, repeats: int) -> dict[str, float]:
    """Seconds to compile and per forward (batch 1) of HF's model and of our logits function,
    each wrapped in ``torch.compile`` (inductor), to check the fast head does not hurt it."""
    from segpile_lab.seg.decode_head import fast_decode_head

    model = segmenter.model

    def ours(pixels):
        states = model.segformer(pixels, output_hidden_states=True).hidden_states
        return fast_decode_head(model.decode_head, states)

    pixels = torch.randn(1, 3, 512, 512)
    out = {}
    for name, function in (("hf", lambda p: model(pixel_values=p).logits), ("ours", ours)):
        compiled = torch.compile(function)
        with torch.inference_mode():
            start = time.perf_counter()
            compiled(pixels)
            out[f"{name}_compile_s"] = time.perf_counter() - start
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                compiled(pixels)
                times.append(time.perf_counter() - start)
        out[f"{name}_compiled_forward_s"] = statistics.median(times)
    print(f"torch.compile: {out}")
    return out


def _predict_backend(
    segmenter, images, reference_labels, backend: str, repeats: int
) -> tuple[float, float]:
    """Median seconds of a whole `predict(..., backend=)` call (labels only) and the minimum
    per-image label agreement with HF's labels; the first call (ONNX export) is not timed."""
    segmenter.predict(images, batch_size=len(images), uncertainty=False, backend=backend)
    seconds, agreement = [], 1.0
    for _ in range(repeats):
        start = time.perf_counter()
        results = segmenter.predict(
            images, batch_size=len(images), uncertainty=False, progress=False, backend=backend
        )
        seconds.append(time.perf_counter() - start)
    for result, reference in zip(results, reference_labels, strict=True):
        agreement = min(agreement, float((result.labels == reference).mean()))
    return statistics.median(seconds), agreement


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="B0, batches 1 and 2, 2 repeats")
    parser.add_argument("--model", default=None, help="demo-b2 (default) or demo-b0")
    parser.add_argument("--batch-sizes", default=None, help="comma-separated (default 1,8)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument(
        "--compile",
        action="store_true",
        help="also time torch.compile of HF's forward vs ours (batch 1; compiling takes minutes)",
    )
    args = parser.parse_args(argv)
    model_name = args.model or ("demo-b0" if args.small else "demo-b2")
    batch_sizes = [
        int(b) for b in (args.batch_sizes or ("1,2" if args.small else "1,8")).split(",")
    ]
    repeats = args.repeats or (2 if args.small else 5)

    import torch
    from transformers import SegformerImageProcessor, pipeline

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import segpile_lab as sl

    torch.set_num_threads(args.threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # untrained-weights and torchvision-fallback notices
        segmenter = sl.load_segmenter(model_name, device="cpu")
        processor = SegformerImageProcessor()
        pipe = pipeline("image-segmentation", model=segmenter.model, image_processor=processor)
    model = segmenter.model
    label2id = {name: index for index, name in segmenter.id2label.items()}
    rows = []
    for batch in batch_sizes:
        images = _images(batch)
        _hf(processor, model, images, torch)  # warm-up
        _ours(segmenter, images)
        _pipeline(pipe, images, label2id, batch)
        hf_runs, pipe_runs, ours_runs, agreement, pipe_agreement = [], [], [], [], []
        for _ in range(repeats):
            hf_labels, timing = _hf(processor, model, images, torch)
            hf_runs.append(timing)
            pipe_labels, timing = _pipeline(pipe, images, label2id, batch)
            pipe_runs.append(timing)
            labels, timing = _ours(segmenter, images)
            ours_runs.append(timing)
            agreement += [float((a == b).mean()) for a, b in zip(hf_labels, labels, strict=True)]
            pipe_agreement += [
                float((a == b).mean()) for a, b in zip(pipe_labels, labels, strict=True)
            ]
        hf, hf_pipe, ours = _median(hf_runs), _median(pipe_runs), _median(ours_runs)
        ort_seconds, ort_agreement = _predict_backend(
            segmenter, images, hf_labels, "ort-fp32", repeats
        )
        unfolded_seconds, unfolded_agreement = _predict_backend(
            segmenter, images, labels, None, repeats
        )
        total = ours["pre"] + ours["model"] + ours["post"]
        total_unc = total - ours["post"] + ours["post_uncertainty"]
        start = time.perf_counter()
        segmenter.predict(images, batch_size=batch, progress=False)
        row = {
            "batch": batch,
            "hf_s": hf,
            "hf_pipeline_s": hf_pipe,
            "ours_s": {**ours, "total": total, "total_with_uncertainty": total_unc},
            "ours_predict_call_s": time.perf_counter() - start,
            "hf_images_per_s": batch / hf["total"],
            "hf_pipeline_images_per_s": batch / hf_pipe["total"],
            "ours_images_per_s": batch / total,
            "ours_with_uncertainty_images_per_s": batch / total_unc,
            "speedup_end_to_end": hf["total"] / total,
            "speedup_end_to_end_with_uncertainty": hf["total"] / total_unc,
            "speedup_vs_pipeline": hf_pipe["total"] / total,
            "speedup_vs_pipeline_with_uncertainty": hf_pipe["total"] / total_unc,
            "speedup_cpu_seconds": hf["cpu"] / ours["cpu"],
            "speedup_cpu_seconds_vs_pipeline": hf_pipe["cpu"] / ours["cpu"],
            "speedup_pre": hf["pre"] / ours["pre"],
            "speedup_model": hf["model"] / ours["model"],
            "speedup_post": hf["post"] / ours["post"],
            "uncertainty_overhead_vs_model": (ours["post_uncertainty"] - ours["post"])
            / ours["model"],
            "label_agreement_min": min(agreement),
            "label_agreement_mean": statistics.fmean(agreement),
            "label_agreement_with_pipeline_min": min(pipe_agreement),
            "ort_fp32_predict_s": ort_seconds,
            "ort_fp32_speedup_end_to_end": hf["total"] / ort_seconds,
            "ort_fp32_label_agreement_min": ort_agreement,
            "unfolded_predict_s": unfolded_seconds,
            "unfolded_speedup_end_to_end": hf["total"] / unfolded_seconds,
            "default_vs_unfolded_label_agreement_min": unfolded_agreement,
        }
        rows.append(row)
        _print_row(row)
    compiled = _compiled(segmenter, torch, repeats) if args.compile else None
    record = {
        "benchmark": "segmentation",
        "model": f"{model_name} (SegFormer architecture, seeded random weights)",
        "input": "real photos (matplotlib samples, ADE20K val when present) resized to 512x512",
        "threads": args.threads,
        "repeats": repeats,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "note": "load_average_at_end says how busy the 2-core machine was; HF and ours "
        "alternate within each repeat so the ratios are fair. 'ours, predict(ort-fp32)' is the "
        "same predict() call with backend='ort-fp32' (ONNX Runtime, fp32, exported once and "
        "cached; the export is not timed). 'ours' is predict()'s default path (folded decode head, "
        "torch-fp32+fold); 'unfolded predict' is predict(backend=None), the previous default, "
        "and its label agreement is with the default path's labels",
        "rows": rows,
        "compile": compiled,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


def _print_row(row: dict) -> None:
    hf, ours = row["hf_s"], row["ours_s"]
    print(f"\nbatch {row['batch']}  (seconds per batch, medians)")
    print(f"{'':26}{'pre':>8}{'model':>8}{'post':>8}{'total':>8}{'img/s':>8}{'vs HF':>8}")
    print(
        f"{'HF processor+model+post':26}{hf['pre']:8.3f}{hf['model']:8.3f}{hf['post']:8.3f}"
        f"{hf['total']:8.3f}{row['hf_images_per_s']:8.2f}{1.0:8.2f}"
    )
    pipe = row["hf_pipeline_s"]
    print(
        f"{'HF pipeline':26}{'':24}{pipe['total']:8.3f}{row['hf_pipeline_images_per_s']:8.2f}"
        f"{hf['total'] / pipe['total']:8.2f}"
    )
    for label, post, total in (
        ("ours, labels only", ours["post"], ours["total"]),
        ("ours, + uncertainty", ours["post_uncertainty"], ours["total_with_uncertainty"]),
    ):
        print(
            f"{label:26}{ours['pre']:8.3f}{ours['model']:8.3f}{post:8.3f}{total:8.3f}"
            f"{row['batch'] / total:8.2f}{hf['total'] / total:8.2f}"
        )
    print(
        f"{'ours, predict(ort-fp32)':26}{'':24}{row['ort_fp32_predict_s']:8.3f}"
        f"{row['batch'] / row['ort_fp32_predict_s']:8.2f}{row['ort_fp32_speedup_end_to_end']:8.2f}"
        f"   label agreement {row['ort_fp32_label_agreement_min']:.4%}"
    )
    print(
        f"{'unfolded predict(None)':26}{'':24}{row['unfolded_predict_s']:8.3f}"
        f"{row['batch'] / row['unfolded_predict_s']:8.2f}{row['unfolded_speedup_end_to_end']:8.2f}"
        f"   label agreement with default {row['default_vs_unfolded_label_agreement_min']:.4%}"
    )
    print(
        f"speed-up: pre {row['speedup_pre']:.2f}x, model {row['speedup_model']:.2f}x, post "
        f"{row['speedup_post']:.2f}x; uncertainty adds {row['uncertainty_overhead_vs_model']:.1%} "
        f"of model time; label agreement min {row['label_agreement_min']:.4%} (HF recipe), "
        f"{row['label_agreement_with_pipeline_min']:.4%} (pipeline); CPU-seconds speed-up "
        f"{row['speedup_cpu_seconds']:.2f}x vs HF recipe, "
        f"{row['speedup_cpu_seconds_vs_pipeline']:.2f}x vs pipeline; one predict() call "
        f"{row['ours_predict_call_s']:.3f} s"
    )


if __name__ == "__main__":
    raise SystemExit(main())
