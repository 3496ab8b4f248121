"""The ``segpile-lab`` command: one entry point, one sub-command module per domain.

Each domain module in `COMMAND_MODULES` exposes ``register(subparsers)`` that adds its
sub-commands; their handlers import heavy libraries lazily so ``--help`` stays fast. Every
`SegpileError` ends as a one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from segpile_lab import __version__
from segpile_lab.errors import SegpileError

COMMAND_MODULES: list[str] = [
    # one line per domain, e.g. "segpile_lab.pile.cli"
    "segpile_lab.seg.cli",
    "segpile_lab.pile.cli",
    "segpile_lab.report.cli",
    "segpile_lab.backends.cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segpile-lab",
        description="Segment images with SegFormer, compare inference backends, audit The Pile.",
    )
    parser.add_argument("--version", action="version", version=f"segpile-lab {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SegpileError as exc:
        print(f"segpile-lab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
