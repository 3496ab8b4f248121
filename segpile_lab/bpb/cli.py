"""``segpile-lab pile bpb``: bits per byte per Pile subset from the command line."""

from __future__ import annotations

import argparse
from typing import Any

SCORER_HELP = (
    "a hub id or local model directory (causal LM), 'zstd', 'zstd-dict' (dictionary trained on "
    "the fit split), 'ngram' (byte n-gram fitted on the fit split), or 'demo-gpt2' / "
    "'demo-gpt-neox' (untrained demo weights); repeat for several (default: zstd and ngram)"
)


def register_pile_command(pile_subparsers: Any) -> None:
    """Add ``bpb`` to the ``segpile-lab pile`` group."""
    from segpile_lab.pile.cli import add_input_arguments

    bpb = pile_subparsers.add_parser(
        "bpb",
        help="bits per byte per subset for a causal LM or a model-free baseline",
        description="Pooled bits per byte per Pile subset with document-bootstrap intervals. "
        "Without PATH the built-in synthetic demo sample is scored (and every output says so).",
    )
    sample_help = "score a seeded sample of at most N documents per subset"
    add_input_arguments(bpb, sample_help=sample_help)
    bpb.add_argument("--scorer", action="append", metavar="MODEL_ID|PATH|zstd|ngram",
                     help=SCORER_HELP)  # fmt: skip
    bpb.add_argument("--max-length", type=int, metavar="L",
                     help="tokens per window (default: the model's maximum)")  # fmt: skip
    bpb.add_argument("--stride", type=int, metavar="S",
                     help="sliding windows, S new tokens each (default: disjoint)")  # fmt: skip
    bpb.add_argument("--tokenizer", metavar="FILE|DIR|ID",
                     help="tokenizer for a model without one (a tokenizer.json)")  # fmt: skip
    bpb.add_argument("--batch-size", type=int, default=32, help="windows per forward pass")
    bpb.add_argument("--device", default="auto", help="auto, cpu, cuda, ... (default auto)")
    bpb.add_argument("--dtype", choices=["fp32", "bf16", "fp16"],
                     help="bf16/fp16: autocast on CUDA, weights held in that dtype on CPU "
                          "(~2x faster where the CPU has bf16 units); default fp32 on CPU, "
                          "autocast bf16 on CUDA")  # fmt: skip
    bpb.add_argument("--zstd-level", type=int, default=19, help="zstd level (default 19)")
    bpb.add_argument("--ngram-order", type=int, default=4, help="byte n-gram order 1-8 (default 4)")
    bpb.add_argument("--fit-fraction", type=float, default=0.5,
                     help="share of each subset used to fit ngram/zstd-dict, excluded from "
                     "evaluation (default 0.5)")  # fmt: skip
    bpb.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates")
    bpb.add_argument("--seed", type=int, default=0, help="sampling and bootstrap seed")
    bpb.add_argument("--out", default="pile-bpb", metavar="DIR",
                     help="output folder (default: ./pile-bpb)")  # fmt: skip
    bpb.set_defaults(func=run_bpb)


def make_scorer(spec: str, args: argparse.Namespace, fit_texts: list[str]) -> Any:
    """One scorer from a ``--scorer`` value."""
    from segpile_lab.bpb.demo_lm import demo_causal_lm
    from segpile_lab.bpb.hf_scorer import HFCausalLMScorer
    from segpile_lab.bpb.ngram import NGramByteScorer
    from segpile_lab.bpb.zstd_scorer import ZstdScorer
    from segpile_lab.errors import DataError

    if spec in ("ngram", "zstd-dict") and not fit_texts:
        raise DataError(f"--scorer {spec} needs documents to fit on: the fit split is empty")
    if spec == "zstd":
        return ZstdScorer(args.zstd_level)
    if spec == "zstd-dict":
        return ZstdScorer.train(fit_texts, level=args.zstd_level)
    if spec == "ngram":
        return NGramByteScorer(args.ngram_order).fit(fit_texts)
    options = {
        "max_length": args.max_length,
        "stride": args.stride,
        "batch_size": args.batch_size,
        "device": args.device,
        "dtype": args.dtype,
    }
    if spec in ("demo-gpt2", "demo-gpt-neox"):
        model, tokenizer = demo_causal_lm(spec.removeprefix("demo-"), args.tokenizer)
        return HFCausalLMScorer(model, tokenizer, name=spec, **options)
    return HFCausalLMScorer(spec, args.tokenizer, **options)


def run_bpb(args: argparse.Namespace) -> int:
    import polars as pl

    from segpile_lab.bpb.evaluate import evaluate_bpb, fit_split
    from segpile_lab.pile.demo import demo_pile_sample
    from segpile_lab.pile.reader import read_pile

    specs = args.scorer or ["zstd", "ngram"]
    df = read_pile(
        args.paths or demo_pile_sample(),
        sample_per_subset=args.sample_per_subset,
        limit=args.limit,
        seed=args.seed,
    )
    fit, evaluate = df.head(0), df
    if {"ngram", "zstd-dict"} & set(specs):
        fit, evaluate = fit_split(df, args.fit_fraction, seed=args.seed)
    scorers = [make_scorer(spec, args, fit["text"].to_list()) for spec in specs]
    result = evaluate_bpb(evaluate, scorers, bootstrap=args.bootstrap, seed=args.seed)
    print("Bits per byte per subset" + (f" — {result.label}" if result.label else ""))
    for row in result.scorers.iter_rows(named=True):
        print(f"  {row['description']}")
    if fit.height:
        print(f"  fitted on {fit.height} documents, evaluated on {evaluate.height} others")
    columns = ["scorer", "subset", "documents", "bytes", "bpb", "ci_low", "ci_high", "note"]
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, float_precision=4,
                   tbl_hide_dataframe_shape=True, fmt_str_lengths=50):  # fmt: skip
        print(result.subsets.select(columns))
    for note in result.notes:
        print(f"note: {note}")
    written = result.write(args.out)
    print(f"wrote {len(written)} files to {args.out}: " + ", ".join(p.name for p in written))
    return 0
