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

PILE_COMMAND_MODULES: list[str] = [
    # modules that add `segpile-lab pile <command>` via register_pile_command(pile_subparsers)
    "segpile_lab.bpb.cli",
    "segpile_lab.pile.reader_cli",
]

TABLE_COLUMNS = (
    "subset",
    "documents",
    "bytes",
    "byte_share",
    "published_weight_percent",
    "observed_published_ratio",
    "mean_doc_bytes",
    "median_doc_bytes",
    "p90_doc_bytes",
    "published_mean_doc_bytes",
    "exact_duplicate_rate",
    "documents_with_pii",
    "bytes_per_token",
    "note",
)


def register(subparsers: Any) -> None:
    """Add the ``pile`` group and every command of `PILE_COMMAND_MODULES` to it."""
    pile = subparsers.add_parser("pile", help="read and audit The Pile's shards")
    pile_subparsers = pile.add_subparsers(
        dest="pile_command", required=True, metavar="PILE_COMMAND"
    )
    register_audit(pile_subparsers)
    for module_name in PILE_COMMAND_MODULES:
        importlib.import_module(module_name).register_pile_command(pile_subparsers)


def add_input_arguments(parser: argparse.ArgumentParser, *, sample_help: str) -> None:
    """The input arguments every ``pile`` command shares: PATH..., --sample-per-subset, --limit."""
    paths_help = (
        ".jsonl.zst/.jsonl.gz/.jsonl files, folders or globs "
        "(none: the built-in synthetic demo sample)"
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help=paths_help)
    parser.add_argument("--sample-per-subset", type=int, metavar="N", help=sample_help)
    parser.add_argument("--limit", type=int, metavar="N", help="read at most N documents")


def register_audit(pile_subparsers: Any) -> None:
    audit = pile_subparsers.add_parser(
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
    audit.add_argument(
        "--out", default="pile-audit", metavar="DIR", help="output folder (default: ./pile-audit)"
    )
    audit.add_argument("--strict", action="store_true", help="fail on the first bad record")
    audit.add_argument(
        "--tokenizer", metavar="FILE", help="a tokenizer.json: adds bytes per token per subset"
    )
    audit.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    audit.set_defaults(func=run_audit)


def run_audit(args: argparse.Namespace) -> int:
    import polars as pl

    from segpile_lab.pile.audit import audit_pile, output_folder

    output_folder(args.out)  # fail before reading
    result = audit_pile(
        args.paths or None,
        sample_per_subset=args.sample_per_subset,
        limit=args.limit,
        strict=args.strict,
        tokenizer=args.tokenizer,
        seed=args.seed,
    )
    print(f"Pile composition audit — {result.label}")
    print(result.load_report)
    table = result.table()
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_width_chars=250,
        float_precision=3,
        tbl_hide_dataframe_shape=True,
        fmt_str_lengths=60,
    ):
        print(table.select(c for c in TABLE_COLUMNS if c in table.columns))
    written = result.write(args.out)
    print(f"wrote {len(written)} files to {args.out}: " + ", ".join(p.name for p in written))
    return 0
