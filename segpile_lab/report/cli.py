"""``segpile-lab report``: run the curated notebooks and write the offline HTML report."""

from __future__ import annotations

import argparse
from typing import Any

from segpile_lab._cli_options import add_command, add_out, positive_seconds
from segpile_lab.report import DEFAULT_CELL_TIMEOUT_S, DEFAULT_OUT_DIR


def register(subparsers: Any) -> None:
    """Add the ``report`` sub-command."""
    parser = add_command(
        subparsers,
        "report",
        help="execute the notebooks and write an offline HTML report",
        description=(
            "Execute the curated notebooks headless and write one self-contained HTML page "
            "per notebook, index.html and summary.json. Exits 2 naming each failing notebook "
            "and cell (the pages that worked are still written)."
        ),
    )
    add_out(parser, str(DEFAULT_OUT_DIR))
    parser.add_argument(
        "--notebooks",
        nargs="+",
        metavar="NAME",
        help="run only these notebooks (names such as 01_pile_composition, or .ipynb paths)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=(
            "set a notebook parameter; VALUE is a Python literal or else a string; "
            "KEY alone sets it in every notebook that declares it, NOTEBOOK:KEY in that one "
            "(04_pile_bpb:lm_model=gpt2) (repeatable)"
        ),
    )
    parser.add_argument("--smoke", action="store_true", help="small, fast runs (smoke = True)")
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_CELL_TIMEOUT_S,
        metavar="S",
        help="limit per notebook cell in seconds",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from segpile_lab.report.params import parse_params
    from segpile_lab.report.runner import build_report

    report = build_report(
        args.out,
        notebooks=args.notebooks,
        params=parse_params(args.param),
        smoke=args.smoke,
        timeout=args.timeout,
        progress=True,
    )
    count = len(report.notebooks)
    print(f"report: {report.index_html} ({count} notebooks, {report.seconds:.0f} s)")
    return 0
