"""GPU check of the real-checkpoint path: hub-layout cache trees, loaded offline, run on CUDA.

Builds the same Hugging Face cache as the tests (`tests/models/hub_cache.py`: the nvidia
SegFormer repos with `.bin`-only main branches, Cityscapes at 1024², the encoder-only mit-b0,
GPT-2 / Pythia / Llama / sharded-bin language models; seeded random weights) and, with
``HF_HUB_OFFLINE=1``, runs the calls users make on CUDA, comparing each with the CPU:

* `load_segmenter()` (the default id) and the Cityscapes checkpoint: labels on CUDA fp32 vs CPU;
* `HFCausalLMScorer(id, device=device)` per layout: NLL vs CPU (bf16 autocast on CUDA, so a
  relative tolerance of 2 %).

Prints one line per check and writes ``real_checkpoints.json`` to the folder given as argument.
Exit code 1 when a check fails. Usage: ``python benchmarks/gpu_real_checkpoints.py OUT_DIR``
(``GPU_CHECK_DEVICE=cpu`` runs the same script without a GPU, to check the script itself).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "models"))


def main(out_dir: Path) -> int:
    cache = Path(tempfile.mkdtemp(prefix="hf-hub-cache-"))
    os.environ["HF_HUB_CACHE"] = str(cache)
    os.environ["HF_HUB_OFFLINE"] = "1"
    import numpy as np
    import torch
    from hub_cache import B0_CITYSCAPES, GPT2, LLAMA, NEOX_SHARDED_BIN, PYTHIA, build_hub_cache

    import segpile_lab as sl

    device = os.environ.get("GPU_CHECK_DEVICE", "cuda")
    where = torch.cuda.get_device_name(0) if device.startswith("cuda") else device
    build_hub_cache(cache)
    image = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    checks = []

    def check(name: str, ok: bool, **details: object) -> None:
        checks.append({"check": name, "ok": bool(ok), **details})
        print(f"{'ok  ' if ok else 'FAIL'} {name} {details}")

    for model_id in (None, B0_CITYSCAPES):
        args = () if model_id is None else (model_id,)
        start = time.perf_counter()
        gpu = sl.load_segmenter(*args, device=device)
        cpu = sl.load_segmenter(*args, device="cpu")
        same = float((gpu.predict(image).labels == cpu.predict(image).labels).mean())
        check(
            f"segment {gpu.name} on {where}",
            gpu.is_trained and same > 0.999,
            label_agreement=same,
            seconds=round(time.perf_counter() - start, 2),
        )
    texts = ["The Pile is a large corpus.", "def main():\n    return 0\n" * 5]
    for model_id in (GPT2, PYTHIA, LLAMA, NEOX_SHARDED_BIN):
        gpu_nll = sl.HFCausalLMScorer(model_id, device=device).score(texts, progress=False)
        cpu_nll = sl.HFCausalLMScorer(model_id, device="cpu").score(texts, progress=False)
        rel = float(np.max(np.abs(gpu_nll.nll_nats - cpu_nll.nll_nats) / cpu_nll.nll_nats))
        check(f"bpb {model_id}", rel < 0.02, max_relative_nll_difference=rel)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "real_checkpoints.json").write_text(json.dumps(checks, indent=2))
    return 0 if all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/gpu")))
