"""Every inference backend against HF eager as shipped, in one run, with accuracy next to speed.

SegFormer-B2 architecture (demo weights: seeded random, untrained), 512×512, fixed threads.
The baseline is Hugging Face's forward exactly as shipped (``model(pixel_values=x).logits``),
measured in the same run with the same hygiene as every backend (`sl.benchmark`: warm-up,
repeats, percentiles). The fp32 compute floor is the model's FLOPs (counted with
``torch.utils.flop_counter.FlopCounterMode``) divided by the fp32 matmul rate measured in this run
(best of several 2048³ GEMMs), so "× floor" = latency / floor.

Pixel agreement, SQNR and the max logit error are measured against ``torch-fp32`` on the two
photos of ``sl.demo_images()``; static INT8 is calibrated on *other* images (the two real ADE20K
validation images in ../shared/data when present, else synthetic ones — the JSON says which).
Untrained demo weights: agreement ranks backends only.

    python benchmarks/bench_backends.py                      # full run (B2, 512², 2 threads)
    python benchmarks/bench_backends.py --model demo-b0 --image-size 256 --repeats 3 --skip-compile
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import segpile_lab as sl
from segpile_lab.backends._runner import Runner
from segpile_lab.errors import BackendError, UntrainedModelWarning

RESULTS = Path(__file__).resolve().parent / "results" / "backends.json"
SHARED_ADE = Path(__file__).resolve().parents[2] / "shared" / "data" / "ade20k" / "images"
BACKENDS = [
    "torch-fp32",
    "torch-fp32+fold",
    "torch-bf16+fold",
    "torch-compile+fold",
    "torch-compile-bf16+fold",
    "ort-fp32",
    "ort-fp32+fold",
    "ort-int8-dynamic",
    "ort-int8-dynamic-default-ops",
    "ort-int8-static",
    "ort-int8-static+fold",
    "ort-int8-static+fold/sensitive-float",
]
TARGET_EXACT_SPEEDUP, TARGET_EXACT_FLOOR, TARGET_LOW_SPEEDUP = 2.8, 1.6, 8.0


def matmul_gflops(threads: int, size: int = 2048, repeats: int = 5) -> float:
    """Best fp32 GEMM rate, GFLOP/s, with `threads` torch threads."""
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def model_gflop(model: torch.nn.Module, image_size: int) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        model(torch.zeros(1, 3, image_size, image_size))
    return counter.get_total_flops() / 1e9


def hf_as_shipped(segmenter) -> Runner:
    model = segmenter.model

    def forward(pixels: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return model(pixel_values=pixels).logits

    return Runner("hf-eager-as-shipped", forward, "cpu", "fp32", exact=True, folded=False)


def calibration_pixels(segmenter, image_size: int) -> tuple[np.ndarray | None, str]:
    files = sorted(SHARED_ADE.glob("*.jpg")) if SHARED_ADE.is_dir() else []
    if not files:
        return None, "synthetic smooth-noise images (../shared/data absent)"
    pixels = segmenter.preprocess(files)
    if image_size != pixels.shape[-1]:
        pixels = torch.nn.functional.interpolate(
            pixels, size=(image_size, image_size), mode="bilinear"
        )
    return pixels.numpy(), f"{len(files)} real ADE20K validation images"


def build(segmenter, name: str, options: dict) -> Runner:
    base, _, variant = name.partition("/")
    extra = {"exclude": "sensitive"} if variant == "sensitive-float" else {}
    runner = sl.create_runner(segmenter, base, **options, **extra)
    runner.name = name
    return runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="demo-b2")
    parser.add_argument("--image-size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--backends", nargs="+", default=BACKENDS)
    parser.add_argument("--skip-compile", action="store_true", help="leave out torch.compile")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--note", default="", help="free text stored in the JSON (e.g. machine load)"
    )
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        segmenter = sl.load_segmenter(args.model, device="cpu")
    size = args.image_size
    gflop = model_gflop(segmenter.model, size)
    gemm = matmul_gflops(args.threads)
    floor_ms = gflop / gemm * 1000
    from segpile_lab.backends.fold import FoldedSegformer

    folded_gflop = model_gflop(FoldedSegformer(segmenter.model), size)
    calibration, calibration_label = calibration_pixels(segmenter, size)
    options = {"image_size": size, "threads": args.threads}
    if calibration is not None:
        options.update(calibration=calibration, calibration_label=calibration_label)

    photos = list(sl.demo_images().values())
    eval_pixels = segmenter.preprocess(photos)
    if size != eval_pixels.shape[-1]:
        eval_pixels = torch.nn.functional.interpolate(
            eval_pixels, size=(size, size), mode="bilinear"
        )
    reference_logits = segmenter.logits(eval_pixels)
    # the reference's logits are computed once; compare_accuracy receives them as a Runner
    reference = Runner(
        "torch-fp32", lambda p: reference_logits, "cpu", "fp32", exact=True, folded=False
    )

    names = [n for n in args.backends if not (args.skip_compile and "compile" in n)]
    rows = []
    for runner_name in ["hf-eager-as-shipped", *names]:
        print(f"… {runner_name}", file=sys.stderr, flush=True)
        try:
            runner = (
                hf_as_shipped(segmenter)
                if runner_name == "hf-eager-as-shipped"
                else build(segmenter, runner_name, options)
            )
        except BackendError as exc:
            rows.append({"backend": runner_name, "status": "error", "error": str(exc)})
            continue
        bench = sl.benchmark(
            segmenter,
            [runner],
            batch_sizes=(args.batch,),
            image_size=size,
            warmup=args.warmup,
            repeats=args.repeats,
            threads=args.threads,
            progress=False,
        )
        row = bench.frame.row(0, named=True)
        if runner_name != "hf-eager-as-shipped" and row["status"] == "ok":
            accuracy = sl.compare_accuracy(
                segmenter,
                reference=reference,
                candidates=[runner],
                images=eval_pixels,
                batch_size=len(eval_pixels),
                progress=False,
            )
            row.update(
                {
                    k: v
                    for k, v in accuracy.frame.row(0, named=True).items()
                    if k in ("pixel_agreement", "sqnr_db", "max_abs_logit_error")
                }
            )
        row["conversion"] = runner.details.get("conversion", {}).get("notes", "")
        rows.append(row)
        environment = bench.environment
        del runner

    baseline = next(r for r in rows if r["backend"] == "hf-eager-as-shipped")["latency_p50_ms"]
    for row in rows:
        if row.get("latency_p50_ms"):
            row["speedup_vs_hf_eager"] = baseline / row["latency_p50_ms"]
            row["x_fp32_floor"] = row["latency_p50_ms"] / floor_ms
            # folded backends do fewer FLOPs: their own floor is folded_gflop at the same rate
            own_gflop = folded_gflop if row.get("folded") else gflop
            row["x_own_floor"] = row["latency_p50_ms"] / (own_gflop / gemm * 1000)
    report = summarise(rows)
    print_table(rows, baseline, floor_ms, gflop, folded_gflop, gemm)
    for line in report["lines"]:
        print(line)
    payload = {
        "what": f"{args.model} (untrained demo weights), {size}x{size}, batch {args.batch}, "
        f"{args.threads} threads",
        "machine_note": args.note,  # how busy the machine was: environment.load_average_1min
        "environment": environment,
        "model_gflop": gflop,
        "folded_model_gflop": folded_gflop,
        "fp32_matmul_gflops": gemm,
        "fp32_floor_ms": floor_ms,
        "folded_fp32_floor_ms": folded_gflop / gemm * 1000,
        "calibration": calibration_label,
        "accuracy_images": "the 2 photos of sl.demo_images(); untrained demo weights: ranks "
        "backends only",
        "targets": report["targets"],
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1, default=str))
    print(f"wrote {args.out}")
    return 0


def summarise(rows: list[dict]) -> dict:
    ok = [r for r in rows if r.get("latency_p50_ms") and r["backend"] != "hf-eager-as-shipped"]
    exact = [r for r in ok if r["exact"]]
    low = [r for r in ok if not r["exact"]]
    targets, lines = {}, []
    if exact:
        best = max(exact, key=lambda r: r["speedup_vs_hf_eager"])
        faithful = max(
            (r for r in exact if not r["folded"]),
            key=lambda r: r["speedup_vs_hf_eager"],
            default=None,
        )
        targets["best_exact_fp32"] = {
            "backend": best["backend"],
            "speedup_vs_hf_eager": best["speedup_vs_hf_eager"],
            "x_fp32_floor": best["x_fp32_floor"],
            "met": best["speedup_vs_hf_eager"] >= TARGET_EXACT_SPEEDUP
            and best["x_fp32_floor"] <= TARGET_EXACT_FLOOR,
        }
        lines.append(
            f"best exact fp32: {best['backend']} {best['speedup_vs_hf_eager']:.2f}× HF eager "
            f"(target ≥ {TARGET_EXACT_SPEEDUP}), {best['x_fp32_floor']:.2f}× the fp32 floor "
            f"(target ≤ {TARGET_EXACT_FLOOR})"
        )
        if faithful is not None:
            targets["best_unfolded_fp32"] = {
                k: faithful[k] for k in ("backend", "speedup_vs_hf_eager", "x_fp32_floor")
            }
            lines.append(
                f"best fp32 without folding: {faithful['backend']} "
                f"{faithful['speedup_vs_hf_eager']:.2f}× HF eager, "
                f"{faithful['x_fp32_floor']:.2f}× floor"
            )
    if low:
        best = max(low, key=lambda r: r["speedup_vs_hf_eager"])
        targets["best_bf16_or_int8"] = {
            "backend": best["backend"],
            "speedup_vs_hf_eager": best["speedup_vs_hf_eager"],
            "pixel_agreement": best.get("pixel_agreement"),
            "met": best["speedup_vs_hf_eager"] >= TARGET_LOW_SPEEDUP,
        }
        lines.append(
            f"best bf16/INT8: {best['backend']} {best['speedup_vs_hf_eager']:.2f}× HF eager "
            f"(target ≥ {TARGET_LOW_SPEEDUP}), "
            f"pixel agreement {100 * (best.get('pixel_agreement') or float('nan')):.2f}%"
        )
    return {"targets": targets, "lines": lines}


def print_table(
    rows: list[dict], baseline: float, floor_ms: float, gflop: float, folded: float, gemm: float
) -> None:
    print(
        f"\nmodel {gflop:.1f} GFLOP (folded head: {folded:.1f}); fp32 GEMM {gemm:.0f} GFLOP/s "
        f"→ floor {floor_ms:.0f} ms; HF eager {baseline:.0f} ms"
    )
    header = (
        f"{'backend':40} {'prec':5} {'p50 ms':>8} {'×HF':>6} {'×floor':>7} {'agree %':>8} "
        f"{'SQNR dB':>8} {'setup s':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        if not r.get("latency_p50_ms"):
            print(f"{r['backend']:40} error: {r.get('error', '')[:80]}")
            continue
        agree = f"{100 * r['pixel_agreement']:.2f}" if r.get("pixel_agreement") is not None else "—"
        sqnr = f"{r['sqnr_db']:.1f}" if r.get("sqnr_db") is not None else "—"
        print(
            f"{r['backend']:40} {r['precision']:5} {r['latency_p50_ms']:8.0f} "
            f"{r['speedup_vs_hf_eager']:6.2f} "
            f"{r['x_fp32_floor']:7.2f} {agree:>8} {sqnr:>8} {r['setup_s'] or 0:8.1f}"
        )


if __name__ == "__main__":
    sys.exit(main())
