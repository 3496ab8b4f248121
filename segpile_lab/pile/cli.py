"""``segpile-lab pile …``: the command group for The Pile.

``pile audit`` is defined here. Other domains add commands to the same group by appending their
module to `PILE_COMMAND_MODULES`; each such module defines
``register_pile_command(pile_subparsers)`` that adds its parser(s) to the group with
``set_defaults(func=handler)`` (e.g. ``segpile_lab.bpb.cli`` adds ``pile bpb``).
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from segpile_lab._cli_options import (
    UsageError,
    add_command,
    add_engine,
    add_out,
    add_seed,
    add_strict,
    default_out,
    engine_options,
    format_table,
    int_at_least,
    prepare_out,
    written_line,
)

PILE_COMMAND_MODULES: list[str] = [
    # modules that add `segpile-lab pile <command>` via register_pile_command(pile_subparsers)
    "segpile_lab.bpb.cli",
    "segpile_lab.pile.reader_cli",
    "segpile_lab.pile.contamination_cli",
]

# the printed table: column → short header (the CSV keeps the full names)
TABLE_HEADERS = {
    "subset": "subset",
    "documents": "docs",
    "bytes": "bytes",
    "byte_share": "share %",
    "published_weight_percent": "paper %",
    "observed_published_ratio": "obs/paper",
    "mean_doc_bytes": "mean B",
    "median_doc_bytes": "median B",
    "p90_doc_bytes": "p90 B",
    "published_mean_doc_bytes": "paper mean B",
    "exact_duplicate_rate": "dup rate",
    "documents_with_pii": "PII docs",
    "bytes_per_token": "B/token",
    "main_language": "language",
    "english_share": "English",
    "note": "note",
}


def register(subparsers: Any) -> None:
    """Add the ``pile`` group and every command of `PILE_COMMAND_MODULES` to it."""
    pile = add_command(subparsers, "pile", help="read, verify, audit and score The Pile's shards")
    pile_subparsers = pile.add_subparsers(
        dest="pile_command", required=True, metavar="PILE_COMMAND"
    )
    register_audit(pile_subparsers)
    for module_name in PILE_COMMAND_MODULES:
        importlib.import_module(module_name).register_pile_command(pile_subparsers)


def add_input_arguments(parser: argparse.ArgumentParser, *, sample_help: str) -> None:
    """The input arguments of the ``pile`` commands that read documents: PATH...,
    --sample-per-subset, --limit, --strict."""
    paths_help = (
        ".jsonl.zst/.jsonl.gz/.jsonl files, folders or globs "
        "(none: the built-in synthetic demo sample)"
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help=paths_help)
    parser.add_argument("--sample-per-subset", type=int_at_least(1), metavar="N", help=sample_help)
    parser.add_argument(
        "--limit", type=int_at_least(1), metavar="N", help="read at most N documents"
    )
    add_strict(parser)


def register_audit(pile_subparsers: Any) -> None:
    audit = add_command(
        pile_subparsers,
        "audit",
        help="composition, duplicates, PII and quality of Pile shards (default: demo sample)",
        description="Audit Pile shards against the published composition. Without PATH the "
        "built-in synthetic demo sample is audited (and every output says so). For whole "
        "shards give --sample-per-subset: the text audits then hold only the sample in memory "
        "while the composition streams over every document.",
    )
    sample_help = (
        "audit the text of a seeded sample of at most N documents per subset "
        "(the composition still counts every document)"
    )
    add_input_arguments(audit, sample_help=sample_help)
    add_out(audit, default_out("pile", "audit"))
    audit.add_argument(
        "--tokenizer", metavar="FILE", help="a tokenizer.json: adds bytes per token per subset"
    )
    add_seed(audit, "the per-subset sample")
    add_engine(audit, "shard file")
    audit.set_defaults(func=run_audit)


def run_audit(args: argparse.Namespace) -> int:
    import polars as pl

    from segpile_lab.pile.audit import audit_pile

    if args.limit is not None and args.engine is not None:
        raise UsageError("--limit reads the first N documents in file order, which does not "
                         "split into shard units; with --engine ray use --sample-per-subset")
    prepare_out(args.out)  # fail before reading
    result = audit_pile(
        args.paths or None,
        sample_per_subset=args.sample_per_subset,
        limit=args.limit,
        strict=args.strict,
        tokenizer=args.tokenizer,
        seed=args.seed,
        **engine_options(args),
    )
    print(f"Pile composition audit — {result.label}")
    print(result.load_report)
    table = result.table().with_columns(pl.col("byte_share") * 100)
    shown = table.select(c for c in TABLE_HEADERS if c in table.columns)
    print(format_table(shown, headers=TABLE_HEADERS))
    print("share % = observed byte share; paper = The Pile paper (Table 1); B = bytes")
    print(written_line(args.out, result.write(args.out)))
    return 0
