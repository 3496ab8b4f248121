"""The ``segpile-lab`` command: one entry point, one sub-command module per domain.

Each domain module in `COMMAND_MODULES` exposes ``register(subparsers)`` that adds its
sub-commands (shared options and checks: `segpile_lab._cli_options`); their handlers import
heavy libraries lazily so ``--help`` stays fast. `main` guards every command: a bad option is
a usage line (exit 2), a `SegpileError` or a file-system error one line naming the command
(exit 2), anything else one line plus the file where the full traceback was saved (exit 1).
Warnings print as one line each, without Python source lines.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from segpile_lab import __version__
from segpile_lab._cli_options import CommandParser
from segpile_lab.errors import SegpileError

COMMAND_MODULES: list[str] = [
    # one line per domain, e.g. "segpile_lab.pile.cli"
    "segpile_lab.seg.cli",
    "segpile_lab.pile.cli",
    "segpile_lab.report.cli",
    "segpile_lab.backends.cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="segpile-lab",
        description="Segment images with SegFormer, compare inference backends, audit The Pile.",
        epilog="Offline: --model demo-b0 (segment, evaluate, bench) and --scorer demo-gpt2 (pile "
        "bpb) use seeded untrained demo weights; the pile commands without PATH read a synthetic "
        "demo sample. Exit codes: 0 done, 2 a usage or data error, 1 a bug (its traceback is "
        "saved and the file named). COMMAND --help lists every option with its default.",
    )
    parser.add_argument("--version", action="version", version=f"segpile-lab {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code (0 ok, 1 bug, 2 user error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse has printed
        return exc.code if isinstance(exc.code, int) else 2
    prog = command_prog(parser, args)
    with one_line_warnings(prog):
        try:
            return int(args.func(args) or 0)
        except SegpileError as exc:
            print(f"{prog}: error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:  # a path the user gave: missing, unreadable, disk full
            print(f"{prog}: error: {_os_message(exc)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"{prog}: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:  # a bug: one line here, the traceback in a file
            saved = save_traceback(exc, argv)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            print(
                f"{prog}: error: unexpected {type(exc).__name__}"
                + (f": {first}" if first else "")
                + f" (full traceback: {saved}; please report it)",
                file=sys.stderr,
            )
            return 1


def command_prog(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """The full command that `args` selected, e.g. ``segpile-lab pile audit``."""
    current = parser
    while True:
        action = next(
            (a for a in current._actions if isinstance(a, argparse._SubParsersAction)), None
        )
        chosen = None if action is None else getattr(args, action.dest, None)
        if action is None or chosen not in action.choices:
            return current.prog
        current = action.choices[chosen]


def _os_message(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def error_log_dir() -> Path:
    """Where unexpected errors' tracebacks go: ``$SEGPILE_LAB_CACHE/errors``, else the user
    cache dir (platformdirs), else the temporary folder."""
    root = os.environ.get("SEGPILE_LAB_CACHE")
    if root:
        return Path(root) / "errors"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("segpile-lab")) / "errors"


def save_traceback(exc: BaseException, argv: Sequence[str] | None) -> Path:
    """Write the command line and `exc`'s full traceback to a new file; returns its path."""
    command = " ".join(["segpile-lab", *(sys.argv[1:] if argv is None else argv)])
    text = f"{command}\nsegpile-lab {__version__}, Python {sys.version.split()[0]}\n\n"
    text += "".join(traceback.format_exception(exc))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for folder in (error_log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f"segpile-lab-{stamp}-", suffix=".txt", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            return Path(name)
        except OSError:
            continue
    return Path("<not saved: no writable cache or temporary folder>")


@contextlib.contextmanager
def one_line_warnings(prog: str) -> Iterator[None]:
    """While a command runs, each warning prints as ``PROG: warning: message [Category]``
    (yellow on a terminal unless ``NO_COLOR``), without the file and source line."""
    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    label = "\033[33mwarning:\033[0m" if color else "warning:"

    def format_warning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        line: str | None = None,
    ) -> str:
        text = " ".join(str(message).split())
        return f"{prog}: {label} {text} [{category.__name__}]\n"

    original = warnings.formatwarning
    warnings.formatwarning = format_warning
    try:
        yield
    finally:
        warnings.formatwarning = original


if __name__ == "__main__":
    sys.exit(main())
