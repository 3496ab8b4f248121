"""``segpile-lab pile verify`` and ``segpile-lab pile read``: check shards before an audit.

``pile verify DIR`` checks the files against the folder's ``SHA256SUMS.txt``; ``pile read
PATH...`` streams the files through the reader and prints its load report (rows, skipped,
fixed and flagged records, how each file ended) without keeping the text.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from segpile_lab._cli_options import (
    add_command,
    add_strict,
    existing_file,
    existing_folder,
    int_at_least,
)


def register_pile_command(pile_subparsers: Any) -> None:
    """Add ``pile verify`` and ``pile read`` to the ``pile`` group."""
    verify = add_command(
        pile_subparsers, "verify", help="check Pile files against their SHA256SUMS.txt"
    )
    verify.add_argument(
        "folder", type=existing_folder, help="the folder the sums file's paths are relative to"
    )
    verify.add_argument(
        "--sums",
        type=existing_file,
        metavar="FILE",
        help="the sums file (default: FOLDER/SHA256SUMS.txt)",
    )
    verify.set_defaults(func=_verify)

    read = add_command(
        pile_subparsers,
        "read",
        help="stream Pile files and print the load report (nothing is kept)",
    )
    read.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help=".jsonl[.zst|.gz|.bz2|.xz]/.ndjson files, folders or globs",
    )
    add_strict(read)
    read.add_argument(
        "--max-line-bytes",
        type=int_at_least(1),
        default=256 << 20,
        metavar="N",
        help="skip and count lines longer than N bytes (default: 256 MiB)",
    )
    read.add_argument(
        "--zstd-dict",
        type=_existing_file,
        metavar="FILE",
        help="the dictionary the zstd frames were compressed with (zstd -D FILE)",
    )
    read.add_argument(
        "--verify", action="store_true", help="check the folder's SHA256SUMS.txt first"
    )
    read.set_defaults(func=_read)


def _existing_file(text: str) -> str:
    """An argparse type: a file that exists."""
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return text


def _verify(args: argparse.Namespace) -> int:
    from segpile_lab.pile.manifests import verify_shards

    checked = verify_shards(args.folder, sums_file=args.sums)
    print(f"{len(checked)} file(s) match their SHA-256 sums")
    return 0


def _read(args: argparse.Namespace) -> int:
    from segpile_lab.pile.reader import iter_pile_batches

    batches = iter_pile_batches(
        args.paths,
        strict=args.strict,
        verify=args.verify,
        max_line_bytes=args.max_line_bytes,
        zstd_dict=args.zstd_dict,
    )
    for _ in batches:
        pass
    print(batches.report)
    return 0 if batches.report.ended_cleanly else 1
