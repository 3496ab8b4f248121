"""What the segmentation viewer sends to the browser, and how long building it takes.

    python benchmarks/bench_viewer.py            # the demo photo at 1x, 2x and 4x its size
    python benchmarks/bench_viewer.py --small    # 1x only

One demo-b0 prediction per size (not timed), then, on the same result:
- ours: ``SegmentationViewer(...)`` (transport grid, packed uint8/uint16 buffers, legend at full
  resolution) plus ``get_state()`` (what ipywidgets serialises); bytes = the synced state;
- baseline: the naive widget payload — the photo, labels and the three float maps at full
  resolution as JSON lists (``json.dumps`` of ``.tolist()``), as a widget without binary
  traits would send them;
- the static fallback (`_repr_mimebundle_`: picture + HTML legend) is timed too, and its size
  in a saved notebook (the JSON of the bundle) is compared with the earlier fallback, a PNG
  beside an HTML copy of the same PNG (base64 twice).
Prints one table (MB sent, ms, ratio baseline / ours, saved KB) and writes JSON to
``benchmarks/results/viewer.json``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import segpile_lab as sl

RESULTS = Path(__file__).resolve().parent / "results" / "viewer.json"


def _best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _state_bytes(state: dict[str, Any]) -> int:
    binary = sum(len(v) for v in state.values() if isinstance(v, bytes))
    text = json.dumps({k: v for k, v in state.items() if not isinstance(v, bytes)})
    return binary + len(text.encode())


def _naive_payload(photo: np.ndarray, result: Any) -> int:
    payload = {
        name: getattr(result, name).tolist()
        for name in ("labels", "confidence", "entropy", "margin")
    }
    payload["image"] = photo.tolist()
    return len(json.dumps(payload).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="only the photo at its own size")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.UntrainedModelWarning)
        segmenter = sl.load_segmenter("demo-b0")
    base = sl.demo_images()["grace_hopper"]
    rows = []
    for scale in [1] if args.small else [1, 2, 4]:
        photo_img = base.resize((base.width * scale, base.height * scale), Image.Resampling.BICUBIC)
        photo = np.asarray(photo_img)
        result = segmenter.predict(photo_img)

        def ours(photo=photo, result=result) -> tuple[Any, int]:
            viewer = sl.SegmentationViewer(photo, result)
            return viewer, _state_bytes(viewer.get_state())

        t_ours, (viewer, ours_bytes) = _best_of(args.repeats, ours)
        t_base, base_bytes = _best_of(args.repeats, lambda p=photo, r=result: _naive_payload(p, r))
        t_static, (bundle, _) = _best_of(args.repeats, viewer._repr_mimebundle_)
        saved = len(json.dumps(bundle).encode())
        png_twice = 2 * len(base64.b64encode(viewer.to_png()))
        rows.append(
            {
                "size": f"{photo.shape[1]}x{photo.shape[0]}",
                "factor": viewer.meta["factor"],
                "ours_mb": ours_bytes / 1e6,
                "ours_ms": t_ours * 1e3,
                "baseline_mb": base_bytes / 1e6,
                "baseline_ms": t_base * 1e3,
                "bytes_ratio": base_bytes / ours_bytes,
                "time_ratio": t_base / t_ours,
                "static_fallback_ms": t_static * 1e3,
                "saved_output_kb": saved / 1e3,
                "png_plus_html_copy_kb": png_twice / 1e3,
                "saved_ratio": png_twice / saved,
            }
        )
    head = (
        f"{'image':>10} {'f':>2} {'ours MB':>8} {'ours ms':>8} {'naive MB':>9} "
        f"{'naive ms':>9} {'MB ratio':>8} {'ms ratio':>8} {'static ms':>9} {'saved KB':>8} "
        f"{'PNG×2 KB':>8} {'ratio':>5}"
    )
    print(head)
    for r in rows:
        print(
            f"{r['size']:>10} {r['factor']:>2} {r['ours_mb']:8.2f} {r['ours_ms']:8.0f} "
            f"{r['baseline_mb']:9.2f} {r['baseline_ms']:9.0f} {r['bytes_ratio']:8.1f} "
            f"{r['time_ratio']:8.1f} {r['static_fallback_ms']:9.0f} {r['saved_output_kb']:8.0f} "
            f"{r['png_plus_html_copy_kb']:8.0f} {r['saved_ratio']:5.1f}"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "viewer transport (demo-b0 result of matplotlib's grace_hopper photo)",
                "baseline": "full-resolution photo, labels, confidence, entropy, margin"
                " as JSON lists",
                "machine": f"{platform.machine()}, {platform.python_version()}",
                "load_average_at_end": os.getloadavg()[0],
                "repeats_best_of": args.repeats,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
