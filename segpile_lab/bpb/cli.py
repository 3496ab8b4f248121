"""``segpile-lab pile bpb``: bits per byte per Pile subset from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from segpile_lab._cli_options import (
    UsageError,
    add_batch_size,
    add_command,
    add_device,
    add_engine,
    add_out,
    add_seed,
    default_out,
    engine_options,
    format_table,
    fraction,
    int_at_least,
    int_in_range,
    prepare_out,
    written_line,
)

SCORER_HELP = (
    "a hub id or local model directory (causal LM), 'zstd', 'zstd-dict' (dictionary trained on "
    "the fit split), 'ngram' (byte n-gram fitted on the fit split), or 'demo-gpt2' / "
    "'demo-gpt-neox' (untrained demo weights); repeat for several (default: zstd and ngram)"
)


def register_pile_command(pile_subparsers: Any) -> None:
    """Add ``bpb`` to the ``segpile-lab pile`` group."""
    from segpile_lab.pile.cli import add_input_arguments

    bpb = add_command(
        pile_subparsers,
        "bpb",
        help="bits per byte per subset for a causal LM or a model-free baseline",
        description="Pooled bits per byte per Pile subset with document-bootstrap intervals. "
        "Without PATH the built-in synthetic demo sample is scored (and every output says so). "
        "Offline, --scorer demo-gpt2 scores with a tiny model of untrained demo weights.",
    )
    sample_help = "score a seeded sample of at most N documents per subset"
    add_input_arguments(bpb, sample_help=sample_help)
    bpb.add_argument("--scorer", action="append", metavar="MODEL_ID|PATH|zstd|ngram",
                     help=SCORER_HELP)  # fmt: skip
    bpb.add_argument("--max-length", type=int_at_least(2), metavar="L",
                     help="tokens per window (default: the model's maximum)")  # fmt: skip
    bpb.add_argument("--stride", type=int_at_least(1), metavar="S",
                     help="sliding windows, S new tokens each (default: disjoint)")  # fmt: skip
    bpb.add_argument("--tokenizer", metavar="FILE|DIR|ID",
                     help="tokenizer for a model without one (a tokenizer.json)")  # fmt: skip
    bpb.add_argument("--revision", metavar="REV",
                     help="branch, tag (Pythia's step143000 ...), refs/pr/N or commit of the "
                          "hub model ids in --scorer (default: main)")  # fmt: skip
    add_batch_size(bpb, default=32, what="windows per forward pass")
    add_device(bpb)
    bpb.add_argument("--dtype", choices=["fp32", "bf16", "fp16"],
                     help="bf16/fp16: autocast on CUDA, weights held in that dtype on CPU "
                          "(~2x faster where the CPU has bf16 units); default fp32 on CPU, "
                          "autocast bf16 on CUDA")  # fmt: skip
    bpb.add_argument("--zstd-level", type=int_in_range(1, 22, "zstd levels"), default=19,
                     metavar="LEVEL", help="zstd compression level, 1-22")  # fmt: skip
    bpb.add_argument("--ngram-order", type=int_in_range(1, 8, "n-gram orders"), default=4,
                     metavar="N", help="byte n-gram order, 1-8")  # fmt: skip
    bpb.add_argument("--fit-fraction", type=fraction, default=0.5, metavar="F",
                     help="share of each subset used to fit ngram/zstd-dict, excluded from "
                     "evaluation (between 0 and 1)")  # fmt: skip
    bpb.add_argument("--bootstrap", type=int_at_least(0), default=1000, metavar="N",
                     help="bootstrap replicates for the 95%% intervals (0: none)")  # fmt: skip
    add_seed(bpb, "sampling, the fit split and the bootstrap")
    add_out(bpb, default_out("pile", "bpb"))
    add_engine(bpb, "batch of documents (one scorer actor per CPU, or per GPU)")
    bpb.set_defaults(func=run_bpb)


def make_scorer(spec: str, args: argparse.Namespace, fit_texts: list[str]) -> Any:
    """One scorer from a ``--scorer`` value."""
    from segpile_lab.bpb.demo_lm import demo_causal_lm
    from segpile_lab.bpb.hf_scorer import HFCausalLMScorer
    from segpile_lab.bpb.ngram import NGramByteScorer
    from segpile_lab.bpb.zstd_scorer import ZstdScorer

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
    return HFCausalLMScorer(spec, args.tokenizer, revision=args.revision, **options)


def run_bpb(args: argparse.Namespace) -> int:
    from segpile_lab.bpb.evaluate import evaluate_bpb, fit_split
    from segpile_lab.pile.demo import demo_pile_sample
    from segpile_lab.pile.reader import read_pile

    specs = args.scorer or ["zstd", "ngram"]
    if args.stride and args.max_length and args.stride > args.max_length:
        raise UsageError(f"--stride {args.stride} is longer than --max-length {args.max_length}")
    prepare_out(args.out)  # fail before reading
    df = read_pile(
        args.paths or demo_pile_sample(),
        sample_per_subset=args.sample_per_subset,
        limit=args.limit,
        seed=args.seed,
        strict=args.strict,
    )
    fit, evaluate = df.head(0), df
    if {"ngram", "zstd-dict"} & set(specs):
        fit, evaluate = fit_split(df, args.fit_fraction, seed=args.seed)
    scorers = [make_scorer(spec, args, fit["text"].to_list()) for spec in specs]
    result = evaluate_bpb(
        evaluate, scorers, bootstrap=args.bootstrap, seed=args.seed, **engine_options(args)
    )
    print("Bits per byte per subset" + (f" — {result.label}" if result.label else ""))
    for row in result.scorers.iter_rows(named=True):
        print(f"  {row['description']}")
    if fit.height:
        print(f"  fitted on {fit.height} documents, evaluated on {evaluate.height} others")
    columns = ["scorer", "subset", "documents", "bytes", "bpb", "ci_low", "ci_high", "note"]
    print(format_table(result.subsets.select(columns)))
    for note in result.notes:
        print(f"note: {note}")
    print(written_line(args.out, result.write(args.out)))
    return 0
