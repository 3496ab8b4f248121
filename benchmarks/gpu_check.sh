#!/usr/bin/env bash
# One prepared GPU check: the inference backends (benchmark + accuracy on CUDA), then the
# real-checkpoint loading path on CUDA (benchmarks/gpu_real_checkpoints.py), then BPB with one
# Ray actor per GPU. Each section is capped by its own timeout (240 + 180 + 150 s = 9.5 min), so
# the whole script fits one 10-minute call of the device tool.
#
#   benchmarks/gpu_check.sh            # results under $OUT (if set) else benchmarks/results/gpu/
#   GPU_CHECK_TENSORRT=1 benchmarks/gpu_check.sh   # also build a TensorRT engine (adds minutes)
#
# SegFormer-B2 architecture with untrained demo weights (numbers rank backends only), 512×512,
# batch 1 and 8: torch eager fp32 / fp16 / bf16 autocast (with and without the folded decode
# head), torch.compile bf16, ONNX Runtime fp32 and fp16 on the CUDA EP (and TensorRT when asked
# and present). Backends that cannot run (no CUDA EP in this onnxruntime build, no TensorRT) are
# recorded with their reason by `segpile-lab bench`; the others still run. The results table
# names the device (environment.cuda_device in benchmark.json).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${OUT:-benchmarks/results/gpu}"
mkdir -p "$OUT_DIR"
export TQDM_DISABLE=1
export SEGPILE_LAB_CACHE="${SEGPILE_LAB_CACHE:-$OUT_DIR/.cache}"

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true; } | tee "$OUT_DIR/nvidia-smi.txt"
python - <<'PY' | tee "$OUT_DIR/environment.txt"
import torch, onnxruntime as ort
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
print("device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")
print("onnxruntime", ort.__version__, ort.get_available_providers())
PY
python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)" \
  || { echo "no CUDA device visible to torch: nothing to check" | tee "$OUT_DIR/FAILED"; exit 3; }

BACKENDS="torch-fp32,torch-fp32+fold,torch-fp16,torch-fp16+fold,torch-bf16,torch-compile-bf16+fold,ort-fp32,ort-fp32+fold,ort-fp16,ort-fp16+fold"
if [[ "${GPU_CHECK_TENSORRT:-0}" == "1" ]]; then
  BACKENDS="$BACKENDS,ort-tensorrt"
fi

if [[ -d ../shared/data/ade20k/images ]]; then
  IMAGES=(--images ../shared/data/ade20k/images --annotations ../shared/data/ade20k/annotations)
else
  IMAGES=()
fi

# --threads 8: CPU threads for host-side work and ORT's CPU fallback nodes
timeout 240 python -m segpile_lab.cli bench \
  --model demo-b2 --backends "$BACKENDS" --batch-sizes 1,8 --image-size 512 \
  --warmup 3 --repeats 20 --threads 8 "${IMAGES[@]}" --out "$OUT_DIR" \
  | tee "$OUT_DIR/table.txt" || echo "backends section: exit $?" | tee -a "$OUT_DIR/FAILED"

# ---- real checkpoints: hub-layout cache trees (seeded weights) loaded offline, CUDA vs CPU ----
timeout 180 python benchmarks/gpu_real_checkpoints.py "$OUT_DIR" | tee "$OUT_DIR/real_checkpoints.txt" \
  || echo "real-checkpoint section: exit $?" | tee -a "$OUT_DIR/FAILED"

# ==== BPB on Ray, one actor per GPU (section added with segpile_lab/distributed) ==============
# The same evaluate_bpb call in-process and with engine="ray": each GPU gets one scorer actor
# (num_gpus=1) that unpickles the model once onto its GPU; GPT-2 small architecture, untrained
# weights, bf16 autocast. Writes $OUT_DIR/ray_bpb.json (documents/s, actors, max NLL difference).
timeout 150 python - "$OUT_DIR" <<'PY' | tee "$OUT_DIR/ray_bpb.txt"
import json, sys, time, warnings
from pathlib import Path
import numpy as np, polars as pl, ray, torch
import segpile_lab as sl
from segpile_lab.bpb.demo_lm import demo_causal_lm
from segpile_lab.bpb.hf_scorer import HFCausalLMScorer
from segpile_lab.distributed import bpb as ray_bpb
from segpile_lab.distributed.demo import demo_pile_shards

out = Path(sys.argv[1])
warnings.simplefilter("ignore", sl.UntrainedModelWarning)
gpus = torch.cuda.device_count()
ray.init(num_gpus=gpus, include_dashboard=False, log_to_driver=False)
df = sl.read_pile(demo_pile_shards(out / "ray_shards", shards=4, documents=400), progress=False)
model, tokenizer = demo_causal_lm("gpt2", layers=12, hidden_size=768, heads=12, max_length=1024)
scorer = HFCausalLMScorer(model, tokenizer, name="demo-gpt2", device="cuda")
ray_bpb.UNIT_BYTES = -(-int(df["n_bytes"].sum()) // (4 * gpus))  # 4 balanced units per GPU
rows = {}
for engine in (None, "ray"):
    start = time.perf_counter()
    result = sl.evaluate_bpb(df, scorer, bootstrap=100, engine=engine, progress=False)
    seconds = time.perf_counter() - start
    rows[engine or "in_process"] = {"seconds": seconds, "documents_per_s": df.height / seconds,
                                    "nll": result.documents["nll_nats"].to_numpy()}
a, b = rows["in_process"].pop("nll"), rows["ray"].pop("nll")
report = {"gpus": gpus, "actors": gpus, "documents": df.height, "runs": rows,
          "max_relative_nll_difference": float(np.max(np.abs(a - b) / np.abs(a))),
          "note": "ray run includes starting one actor per GPU and moving the model to it"}
(out / "ray_bpb.json").write_text(json.dumps(report, indent=2) + "\n")
print(json.dumps(report, indent=2))
PY
echo "results in $OUT_DIR"
if [[ -f "$OUT_DIR/FAILED" ]]; then exit 1; fi
