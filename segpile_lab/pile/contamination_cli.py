"""``segpile-lab pile contamination``: which Pile documents share n-grams with an evaluation set."""

from __future__ import annotations

import argparse
from typing import Any

from segpile_lab._cli_options import (
    add_command,
    add_out,
    default_out,
    format_table,
    fraction,
    int_at_least,
    prepare_out,
    written_line,
)

TABLE_HEADERS = {
    "subset": "subset",
    "documents": "docs",
    "bytes": "bytes",
    "contaminated_documents": "docs overlapping",
    "contaminated_bytes": "bytes overlapping",
    "contaminated_document_share": "doc share",
    "contaminated_items": "items",
}


def register_pile_command(pile_subparsers: Any) -> None:
    """Add ``pile contamination`` to the ``pile`` group."""
    command = add_command(
        pile_subparsers,
        "contamination",
        help="Pile documents sharing word n-grams with an evaluation set",
        description="Scan Pile shards (streamed, bounded memory) for word n-grams of an "
        "evaluation set, as GPT-3's decontamination did (13-grams of normalised words: NFKC, "
        "lowercase, punctuation ignored). Without PATH the built-in synthetic demo sample is "
        "scanned.",
    )
    command.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=".jsonl.zst/.jsonl.gz/.jsonl files, folders or globs (none: the demo sample)",
    )
    command.add_argument(
        "--benchmark",
        required=True,
        metavar="FILE",
        help="the evaluation set: a .jsonl file (see --field) or a text file, one item a line",
    )
    command.add_argument(
        "--field", metavar="F", help="the JSONL field holding each item's text (default: text)"
    )
    command.add_argument(
        "--n", type=int_at_least(1), default=13, metavar="N", help="words per n-gram"
    )
    command.add_argument(
        "--bloom-error",
        type=fraction,
        metavar="P",
        help="hold the benchmark's n-grams in a Bloom filter with this false-positive rate "
        "(for evaluation sets too large for memory; hits are confirmed exactly)",
    )
    add_out(command, default_out("pile", "contamination"))
    command.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from segpile_lab.pile.contamination import contamination
    from segpile_lab.pile.demo import demo_pile_sample

    prepare_out(args.out)  # fail before reading
    report = contamination(
        args.paths or demo_pile_sample(),
        args.benchmark,
        n=args.n,
        field=args.field,
        bloom_error=args.bloom_error,
    )
    items = report.parameters["benchmark_items"]
    print(
        f"{args.n}-gram overlap with {args.benchmark}: {report.items.height} of {items} "
        f"items contaminated, {report.documents.height} documents overlapping"
    )
    print(format_table(report.table.select(list(TABLE_HEADERS)), headers=TABLE_HEADERS))
    print(written_line(args.out, report.write(args.out)))
    return 0
