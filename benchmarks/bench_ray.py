"""Benchmark: the Pile audit and BPB on local Ray (1 and 2 workers) against the in-process path.

Generates `--shards` Pile-like ``.jsonl.zst`` shards of `--mb` uncompressed megabytes each (the
synthetic demo generators at full published document sizes, each document given a unique
first line so that exact duplicates stay rare, as in the real Pile), then times in one run:

  audit  in_process          ``sl.audit_pile(folder, sample_per_subset=...)``, library defaults
                             (Polars and torch on every core)
  audit  in_process_1_cpu    the same in a child process limited to one CPU (``SEGPILE_CPUS=1``
                             and the thread variables of `segpile_lab._cpus.thread_env`)
  audit  ray_1_worker        ``engine="ray"`` on ``ray.init(num_cpus=1)``: one 1-CPU worker
  audit  ray_2_workers       the same on ``ray.init(num_cpus=2)``: two 1-CPU workers
  bpb    the same four for ``sl.evaluate_bpb`` with a small untrained GPT-2 (documents/s);
         in_process_1_cpu is ``torch.set_num_threads(1)`` in this process

Each audit configuration is timed twice: the whole ``audit_pile`` call (``end_to_end``), and its
shard pass alone (``shard_pass``: reading every shard, composition, exact duplicates and the
sample; the only part Ray spreads over workers; the text audits of the merged sample then run on
the driver as in-process), the fastest of ``--repeats`` passes (every pass's seconds in
``seconds_each``). Ray's start-up (``ray.init``) and one warm-up call (worker processes,
imports) are timed apart and not counted in any rate; each run writes a fresh run folder. BPB's
Ray runs start their scorer actors and ship the model inside the call: ``actor_start_seconds``
times a call that does only that (one short document per actor), and ``steady_state_seconds`` is
the run minus it (an estimate). BPB scores 512 documents by default (about 100 s on one CPU) in
8 balanced units: the actors' start, a fixed ~5 s per call in which a fresh process imports
torch and transformers and unpickles the model, is then the small part of a call that it is in a
corpus-sized run (at 128 documents it was a fifth of the call). Every Ray result is checked
against the in-process one. Each run records wall seconds, the CPU-seconds the whole machine
spent (``/proc/stat``: this benchmark, Ray's daemons and anyone else's jobs), the driver's own,
for the audit on Ray those of its workers and daemons (``/proc/PID/stat`` of Ray's processes),
and the 1-minute load average before and after; the audit's ``own_cpu_seconds_per_gb`` counts
this benchmark's processes alone (driver, Ray workers and daemons), which other people's jobs
disturb less than wall time. MB/s are uncompressed megabytes (10^6 bytes) per second; the
speed-ups are wall-time ratios; ``cores`` says how many cores each configuration may keep busy.

Usage::

    python benchmarks/bench_ray.py                   # 8 × 64 MB, writes results/ray.json
    python benchmarks/bench_ray.py --mb 4 --bpb-docs 16   # quick (the JSON records the sizes)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).resolve().parent / "results" / "ray.json"


def make_shards(folder: Path, shards: int, megabytes: float, seed: int = 0) -> dict[str, Any]:
    """`shards` zstd shards of about `megabytes` MB of JSON lines each."""
    import zstandard

    from segpile_lab.pile.demo import generate_demo_records

    records = generate_demo_records(documents=2000, seed=seed, scale=1.0)
    folder.mkdir(parents=True, exist_ok=True)
    target, raw_total, compressed_total, docs = megabytes * 1e6, 0, 0, 0
    for shard in range(shards):
        lines, size, index = [], 0, 0
        while size < target:
            record = records[(shard * 7919 + index) % len(records)]
            text = f"document {shard}-{index}\n" + record["text"]
            line = json.dumps({"text": text, "meta": record["meta"]}, ensure_ascii=False) + "\n"
            lines.append(line.encode())
            size += len(lines[-1])
            index += 1
        data = b"".join(lines)
        compressed = zstandard.ZstdCompressor(level=3).compress(data)
        (folder / f"{shard:02d}.jsonl.zst").write_bytes(compressed)
        raw_total, compressed_total, docs = (
            raw_total + len(data),
            compressed_total + len(compressed),
            docs + index,
        )
    return {
        "shards": shards,
        "uncompressed_bytes": raw_total,
        "compressed_bytes": compressed_total,
        "documents": docs,
    }


def machine_cpu_seconds() -> float:
    """CPU-seconds every process of this machine has used since boot (``/proc/stat``)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def ray_cpu_seconds() -> dict[tuple[str, int], float]:
    """CPU-seconds so far of each process of the local Ray instance this process started (its
    descendants: another session's Ray on the same machine is not counted), by (kind, pid):
    ``workers`` (task and actor processes) or ``daemons`` (raylet, GCS, agents, the rest)."""
    tick, parent, seconds, command = os.sysconf("SC_CLK_TCK"), {}, {}, {}
    for folder in Path("/proc").iterdir():
        if not folder.name.isdigit():
            continue
        try:
            text = (folder / "cmdline").read_bytes().replace(b"\0", b" ")
            fields = (folder / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended
            continue
        pid = int(folder.name)
        parent[pid], command[pid] = int(fields[1]), text.decode("utf-8", "replace")
        seconds[pid] = (int(fields[11]) + int(fields[12])) / tick
    found = {}
    for pid, cpu in seconds.items():
        ancestor = parent.get(pid)
        while ancestor not in (None, 0, 1, os.getpid()):
            ancestor = parent.get(ancestor)
        if ancestor != os.getpid() or "ray" not in command[pid]:
            continue
        name = command[pid].split(" ", 1)[0]
        is_worker = name.startswith("ray::") and not name.endswith("Agent")
        found["workers" if is_worker else "daemons", pid] = cpu
    return found


def timed(fn: Any, ray_processes: bool = False) -> tuple[Any, dict[str, Any]]:
    """`fn()`, its wall seconds, CPU-seconds (machine, this process and, with `ray_processes`,
    the Ray instance's workers and daemons) and load averages. Ray processes that end during
    the call are not counted (their time is lost with them): the audit's workers live on, BPB's
    actors are killed at the end of each call, so BPB's rows go without."""
    load_before = os.getloadavg()[0]
    ray_before = ray_cpu_seconds() if ray_processes else {}
    machine, mine = machine_cpu_seconds(), os.times()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    after = os.times()
    ray_after = ray_cpu_seconds() if ray_processes else {}
    row = {
        "seconds": seconds,
        "machine_cpu_seconds": machine_cpu_seconds() - machine,
        "driver_cpu_seconds": after.user - mine.user + after.system - mine.system,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }
    if ray_after:  # a Ray instance is up: its workers' and daemons' CPU during the run
        for kind in ("workers", "daemons"):
            row[f"ray_{kind}_cpu_seconds"] = sum(
                cpu - ray_before.get(key, 0.0) for key, cpu in ray_after.items() if key[0] == kind
            )
    return result, row


def fastest(repeats: int, run: Any) -> dict[str, Any]:
    """The row of the fastest of `repeats` calls ``run(i)`` (each returns `timed`'s row), with
    every call's seconds: on a shared machine the fastest is the least disturbed."""
    rows = [run(i) for i in range(repeats)]
    return min(rows, key=lambda row: row["seconds"]) | {
        "seconds_each": [row["seconds"] for row in rows]
    }


def own_cpu_seconds(row: dict[str, Any]) -> float:
    """The CPU-seconds this benchmark's processes spent in a run: the driver, Ray's workers
    and daemons (an in-process run: the process alone)."""
    return (
        row["driver_cpu_seconds"]
        + row.get("ray_workers_cpu_seconds", 0.0)
        + row.get("ray_daemons_cpu_seconds", 0.0)
    )


def start_ray(cpus: int, warm_up: Any) -> dict[str, Any]:
    import ray

    ray.shutdown()
    start = time.perf_counter()
    for attempt in range(5):  # a busy machine can miss Ray's 30 s node start-up deadline
        try:
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
            break
        except Exception:
            ray.shutdown()
            if attempt == 4:
                raise
    init = time.perf_counter() - start
    start = time.perf_counter()
    warm_up()
    return {"ray_init_seconds": init, "warm_up_seconds": time.perf_counter() - start}


def in_process_pass(folder: Path, sample: int) -> Any:
    """The in-process audit's shard pass: `read_pile` counting composition and duplicates."""
    import segpile_lab as sl
    from segpile_lab.pile.composition import CompositionStats
    from segpile_lab.pile.dedup import ExactDuplicates

    stats, duplicates = CompositionStats(), ExactDuplicates()

    def count(frame: Any) -> None:
        stats.update(frame)
        duplicates.update(frame)

    df = sl.read_pile(folder, sample_per_subset=sample, progress=False, on_frame=count)
    return df, stats.to_frame(), duplicates.to_frame()


def audit_options(sample: int) -> dict[str, Any]:
    return {"sample_per_subset": sample, "near_duplicate_sample": sample, "progress": False}


def audit_in_process(
    folder: Path, warm: Path, sample: int, repeats: int
) -> tuple[Any, dict[str, Any]]:
    """The in-process audit of `folder`, timed: its shard pass (fastest of `repeats`), then
    the whole call."""
    import segpile_lab as sl

    options = audit_options(sample)
    sl.audit_pile(warm, **options)  # warm-up: imports, models and caches, as for Ray below
    shard_pass = fastest(repeats, lambda _i: timed(lambda: in_process_pass(folder, sample))[1])
    result, end_to_end = timed(lambda: sl.audit_pile(folder, **options))
    return result, {"shard_pass": shard_pass, "end_to_end": end_to_end}


def audit_child(folder: Path, warm: Path, sample: int, repeats: int) -> dict[str, Any]:
    """`audit_in_process` in a child process limited to one CPU (set before Polars loads)."""
    import subprocess

    from segpile_lab._cpus import thread_env

    command = [sys.executable, __file__, "--child-audit", str(folder), str(warm), str(sample),
               str(repeats)]  # fmt: skip
    env = os.environ | thread_env(1)
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def audit_case(folder: Path, warm: Path, args: argparse.Namespace, total: int) -> dict[str, Any]:
    import ray

    import segpile_lab as sl
    from segpile_lab.distributed.audit import read_shards_on_ray

    options = audit_options(args.sample)
    local, row = audit_in_process(folder, warm, args.sample, args.repeats)
    rows = {"in_process": row | {"cores": os.cpu_count()}}
    rows["in_process_1_cpu"] = audit_child(folder, warm, args.sample, args.repeats) | {"cores": 1}
    for workers in (1, 2):
        tmp = Path(tempfile.mkdtemp(prefix="bench-ray-", dir=folder.parent))  # goes with the data
        setup = start_ray(workers, lambda: sl.audit_pile(warm, engine="ray", **options))
        shard_pass = fastest(
            args.repeats,
            lambda i, t=tmp: timed(  # a fresh run folder each time: nothing to resume
                lambda: read_shards_on_ray(
                    folder, run_dir=t / f"pass{i}", sample_per_subset=args.sample, progress=False
                ),
                ray_processes=True,
            )[1],
        )
        on_ray, end_to_end = timed(
            lambda t=tmp: sl.audit_pile(folder, engine="ray", run_dir=t / "all", **options),
            ray_processes=True,
        )
        rows[f"ray_{workers}_worker{'s' * (workers > 1)}"] = setup | {
            "shard_pass": shard_pass,
            "end_to_end": end_to_end,
            "equal_to_in_process": on_ray.summary() == local.summary(),
            "cores": f"{workers} worker(s) of 1 CPU; the driver merges and runs the text "
            "audits of the sample",
        }
    ray.shutdown()  # no idle Ray in the next runs' CPU-seconds
    for row in rows.values():
        for part in ("shard_pass", "end_to_end"):
            run = row[part]
            run["mb_per_s"] = total / 1e6 / run["seconds"]
            run["machine_cpu_seconds_per_gb"] = run["machine_cpu_seconds"] / (total / 1e9)
            run["own_cpu_seconds_per_gb"] = own_cpu_seconds(run) / (total / 1e9)
    return rows


def bpb_case(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import polars as pl
    import torch

    import segpile_lab as sl
    from segpile_lab.bpb.demo_lm import demo_causal_lm
    from segpile_lab.bpb.hf_scorer import HFCausalLMScorer
    from segpile_lab.distributed import bpb as ray_bpb

    df = sl.read_pile(folder, sample_per_subset=args.bpb_docs, progress=False)
    df = df.head(args.bpb_docs).with_columns(pl.col("text").str.slice(0, args.bpb_chars))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.UntrainedModelWarning)
        model, tokenizer = demo_causal_lm("gpt2", layers=4, hidden_size=256, heads=4)
    scorer = HFCausalLMScorer(model, tokenizer, name="demo-gpt2", max_length=args.bpb_length)
    # 8 balanced units, 4 per worker: sized from the texts scored (n_bytes is the uncut size)
    scored_bytes = sum(len(text.encode("utf-8")) for text in df["text"].to_list())
    ray_bpb.UNIT_BYTES = -(-scored_bytes // (4 * 2))
    warm = df.head(2)
    sl.evaluate_bpb(warm, scorer, bootstrap=0, progress=False)  # warm-up
    threads = torch.get_num_threads()
    local, row = timed(lambda: sl.evaluate_bpb(df, scorer, bootstrap=100, progress=False))
    rows = {"in_process": row | {"cores": threads, "torch_threads": threads}}
    torch.set_num_threads(1)
    try:
        _, row = timed(lambda: sl.evaluate_bpb(df, scorer, bootstrap=100, progress=False))
    finally:
        torch.set_num_threads(threads)
    rows["in_process_1_cpu"] = row | {"cores": 1, "torch_threads": 1}
    short = [text[:200] for text in warm["text"].to_list()]
    for workers in (1, 2):
        tmp = Path(tempfile.mkdtemp(prefix="bench-ray-bpb-", dir=folder.parent))
        setup = start_ray(
            workers,
            lambda: sl.evaluate_bpb(warm, scorer, bootstrap=0, engine="ray", progress=False),
        )
        _, actors = timed(  # a call that only starts the actors and ships them the model
            lambda n=workers: ray_bpb.score_on_ray(scorer, short[:n], unit_bytes=1, progress=False)
        )
        on_ray, row = timed(
            lambda t=tmp: sl.evaluate_bpb(
                df, scorer, bootstrap=100, engine="ray", run_dir=t, progress=False
            )
        )
        a, b = local.documents["nll_nats"].to_numpy(), on_ray.documents["nll_nats"].to_numpy()
        rows[f"ray_{workers}_worker{'s' * (workers > 1)}"] = (
            row
            | setup
            | {
                "actor_start_seconds": actors["seconds"],
                "steady_state_seconds": row["seconds"] - actors["seconds"],
                "max_relative_nll_difference": float(np.max(np.abs(a - b) / np.abs(a))),
                "cores": f"{workers} scorer actor(s) of 1 CPU, torch on 1 thread each",
            }
        )
    for row in rows.values():
        row["documents_per_s"] = df.height / row["seconds"]
        if "steady_state_seconds" in row:
            row["steady_state_documents_per_s"] = df.height / row["steady_state_seconds"]
    return {
        "documents": df.height,
        "chars_per_document_max": args.bpb_chars,
        "max_length": args.bpb_length,
        "model": "untrained demo GPT-2, 4 layers, width 256 (demo_causal_lm)",
        "units": len(ray_bpb.bpb_units(df["text"].to_list(), scorer)),
        "runs": rows,
    }


def summarise(rows: dict[str, Any], seconds: Any, rate: str) -> dict[str, Any]:
    """Speed-ups and overheads from `seconds(row)` of each configuration."""
    base, one_cpu = seconds(rows["in_process"]), seconds(rows["in_process_1_cpu"])
    one, two = seconds(rows["ray_1_worker"]), seconds(rows["ray_2_workers"])
    return {
        "two_vs_one_worker": one / two,
        "scaling_efficiency": one / two / 2,
        "ray_overhead_1_worker_vs_in_process_1_cpu": one / one_cpu - 1,
        "ray_overhead_1_worker_vs_in_process": one / base - 1,
        "speed_up_2_workers_vs_in_process": base / two,
        "in_process_all_cores_vs_1_cpu": one_cpu / base,
        "rate": rate,
    }


def loads(tree: Any) -> list[float]:
    """Every ``load_before``/``load_after`` value in a nested dict of runs."""
    if not isinstance(tree, dict):
        return []
    own = [v for k, v in tree.items() if k in ("load_before", "load_after")]
    return own + [x for v in tree.values() for x in loads(v)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--mb", type=float, default=64.0, help="uncompressed MB per shard")
    parser.add_argument("--sample", type=int, default=200, help="sample_per_subset of the audit")
    parser.add_argument("--bpb-docs", type=int, default=512)
    parser.add_argument("--bpb-chars", type=int, default=4000)
    parser.add_argument("--bpb-length", type=int, default=256)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--repeats", type=int, default=3, help="shard passes per configuration (the fastest counts)"
    )
    parser.add_argument("--child-audit", nargs=4, help=argparse.SUPPRESS)  # FOLDER WARM SAMPLE N
    args = parser.parse_args()
    if args.child_audit:  # audit_child's process: one JSON line on stdout
        folder, warm, sample, repeats = args.child_audit
        _, row = audit_in_process(Path(folder), Path(warm), int(sample), int(repeats))
        print(json.dumps(row))
        return

    with tempfile.TemporaryDirectory(prefix="bench-ray-data-") as tmp:
        folder, warm = Path(tmp) / "shards", Path(tmp) / "warm"
        data = make_shards(folder, args.shards, args.mb)
        make_shards(warm, 2, 0.2, seed=1)  # two shards: the warm-up starts both workers
        audit = audit_case(folder, warm, args, data["uncompressed_bytes"])
        bpb = bpb_case(folder, args)
    seen = loads(audit) + loads(bpb)
    before = [r["load_before"] for r in audit.values() for r in (r["shard_pass"],)]
    before += [r["load_before"] for r in bpb["runs"].values()]
    busy = max(before) > 0.8
    result = {
        "benchmark": "bench_ray.py",
        "data": data | {"mb_per_shard_requested": args.mb},
        "audit": {
            "runs": audit,
            "sample_per_subset": args.sample,
            "shard_pass": summarise(audit, lambda r: r["shard_pass"]["seconds"], "MB/s"),
            "end_to_end": summarise(audit, lambda r: r["end_to_end"]["seconds"], "MB/s"),
        },
        "bpb": bpb
        | {
            "whole_call": summarise(bpb["runs"], lambda r: r["seconds"], "documents/s"),
            "steady_state": summarise(
                bpb["runs"], lambda r: r.get("steady_state_seconds", r["seconds"]), "documents/s"
            ),
        },
        "goals": {"two_vs_one_worker": ">= 1.7", "ray_overhead_1_worker": "<= 0.10"},
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "load_average_max": max(seen),
        "load_average_before_max": max(before),
        "note": (
            f"shared machine: a run started at load average {max(before):.2f} (> 0.8)"
            if busy
            else "quiet machine: every run started at load average <= 0.8"
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{'case':<18}{'pass MB/s':>10}{'all MB/s':>10}{'CPU-s/GB':>10}{'own':>6}{'bpb docs/s':>12}"
    )
    for name in audit:
        a, b = audit[name], bpb["runs"][name]
        print(
            f"{name:<18}{a['shard_pass']['mb_per_s']:>10.1f}{a['end_to_end']['mb_per_s']:>10.1f}"
            f"{a['shard_pass']['machine_cpu_seconds_per_gb']:>10.1f}"
            f"{a['shard_pass']['own_cpu_seconds_per_gb']:>6.1f}"
            f"{b.get('steady_state_documents_per_s', b['documents_per_s']):>12.2f}"
        )
    for case, part in (("audit", "shard_pass"), ("audit", "end_to_end"), ("bpb", "steady_state"),
                       ("bpb", "whole_call")):  # fmt: skip
        s = result[case][part]
        print(
            f"{case} {part}: 2 vs 1 worker {s['two_vs_one_worker']:.2f}x (goal >= 1.7); Ray 1 "
            f"worker overhead {s['ray_overhead_1_worker_vs_in_process_1_cpu']:+.0%} vs in-process "
            f"on 1 CPU, {s['ray_overhead_1_worker_vs_in_process']:+.0%} vs in-process on all "
            "cores (goal <= +10%)"
        )
    print(
        f"load average up to {result['load_average_max']:.1f}: {result['note']}; wrote {args.out}"
    )


if __name__ == "__main__":
    main()
