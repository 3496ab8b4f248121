"""What every ``segpile-lab`` sub-command shares: one parser class, option types that check
their value at parse time, and the options that mean the same thing everywhere.

A domain's ``cli.py`` adds its parser with `add_command` (defaults shown in ``--help``, errors
prefixed with the full command, e.g. ``segpile-lab pile audit: error: ...``) and its options
with the ``add_*`` helpers or the types below. A type raises `argparse.ArgumentTypeError`, so a
bad value ends as one usage line and exit code 2 before any work starts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from segpile_lab.errors import SegpileError

DEFAULT_MODEL = "nvidia/segformer-b2-finetuned-ade-512-512"  # = seg.model.DEFAULT_MODEL (lazy)
MODEL_HELP = (
    "SegFormer hub id (read from the Hugging Face cache), local save_pretrained folder, or "
    "demo-b0 / demo-b2: seeded untrained demo weights that work offline"
)
PAIRING_RULE = (
    "each .jpg/.jpeg/.png image in --images is paired with the .png of the same stem in "
    "--annotations; mask values follow the checkpoint: 0 = ignore, k = class k-1 (ADE20K and "
    "the demo models: reduce_labels) or the class id with 255 = ignore (e.g. Cityscapes); "
    "the two folders must differ"
)


class UsageError(SegpileError):
    """A command-line value that cannot be used (exit code 2, one line)."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` for options with a meaningful default (not None, False or [])."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        default, text = action.default, action.help
        if not text or default is None or default is False or default == []:
            return text
        if default == argparse.SUPPRESS or "%(default)" in text:
            return text
        if isinstance(default, list | tuple):
            return f"{action.help} (default: {','.join(map(str, default))})"
        return super()._get_help_string(action)


class CommandParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose sub-parsers share `HelpFormatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def add_command(subparsers: Any, name: str, *, help: str, description: str = "") -> Any:
    """Add sub-command `name` to `subparsers`; it is a `CommandParser` when the root is."""
    return subparsers.add_parser(name, help=help, description=description or help)


def default_out(*command: str) -> str:
    """The default output folder of a command: ``segpile-`` and its words, joined by ``-``."""
    return "-".join(("segpile", *command))


# ---- option types: each checks its value at parse time --------------------------------------


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer ≥ `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = f"integer ≥ {minimum}"
    return parse


def int_in_range(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: an integer in ``[low, high]``; `what` names them ("zstd levels")."""

    def parse(text: str) -> int:
        value = int_at_least(low)(text)
        if value > high:
            raise argparse.ArgumentTypeError(f"{what} go from {low} to {high}, got {value}")
        return value

    parse.__name__ = what
    return parse


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def fraction(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    value = _number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def unit_interval(text: str) -> float:
    """An argparse type: a number from 0 to 1 inclusive (an opacity)."""
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {text}")
    return value


def positive_seconds(text: str) -> float:
    """An argparse type: a positive number of seconds."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def int_list(text: str) -> list[int]:
    """An argparse type: comma-separated integers ≥ 1 (``1,8``)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    try:
        return [int_at_least(1)(part) for part in parts]
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def device(text: str) -> str:
    """An argparse type: ``auto``, ``cpu`` or an accelerator present on this machine."""
    if text in ("auto", "cpu"):
        return text
    import torch

    try:
        parsed = torch.device(text)
    except (RuntimeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a device; use auto, cpu, cuda or cuda:N"
        ) from None
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise argparse.ArgumentTypeError(f"{text}: no CUDA device on this machine; use cpu")
        if (parsed.index or 0) >= count:
            raise argparse.ArgumentTypeError(f"{text}: this machine has {count} CUDA device(s)")
    elif parsed.type == "mps" and not torch.backends.mps.is_available():
        raise argparse.ArgumentTypeError(f"{text}: MPS is not available on this machine")
    elif parsed.type not in ("cuda", "mps", "cpu"):
        raise argparse.ArgumentTypeError(f"{text}: unsupported device; use auto, cpu or cuda")
    return text


def out_dir(text: str) -> str:
    """An argparse type: an output folder that exists or can be created, and is writable.

    Nothing is created here: the nearest existing folder on the way is probed with a
    temporary file, so a bad ``--out`` fails before any work and leaves nothing behind.
    """
    try:
        _check_writable(Path(text))
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _check_writable(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path}: exists and is not a folder; choose another --out")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{path}: cannot be created, {existing} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise UsageError(f"{path}: cannot write in {existing} ({exc.strerror})") from None


def existing_file(text: str) -> str:
    """An argparse type: a file that exists."""
    if not Path(text).is_file():
        what = "is a folder, not a file" if Path(text).is_dir() else "no such file"
        raise argparse.ArgumentTypeError(f"{text}: {what}")
    return text


def existing_folder(text: str) -> str:
    """An argparse type: a folder that exists."""
    if not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such folder")
    return text


# ---- options that mean the same thing in every command --------------------------------------


def add_out(parser: argparse.ArgumentParser, default: str) -> None:
    """``--out DIR``: the output folder (checked writable at parse time)."""
    parser.add_argument(
        "--out",
        type=out_dir,
        default=default,
        metavar="DIR",
        help="output folder, created if missing",
    )


def add_model(parser: argparse.ArgumentParser) -> None:
    """``--model``: the segmentation model (default: the trained hub checkpoint)."""
    parser.add_argument("--model", default=DEFAULT_MODEL, metavar="ID|DIR|demo-b0", help=MODEL_HELP)
    parser.add_argument(
        "--revision",
        metavar="REV",
        help="branch, tag, refs/pr/N or commit of a hub id (default: main)",
    )


def add_device(parser: argparse.ArgumentParser) -> None:
    """``--device``: auto, cpu, cuda, cuda:N (must exist on this machine)."""
    parser.add_argument(
        "--device", type=device, default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N"
    )


def add_seed(parser: argparse.ArgumentParser, what: str) -> None:
    """``--seed``: a non-negative integer seed."""
    parser.add_argument(
        "--seed", type=int_at_least(0), default=0, metavar="N", help=f"seed for {what}"
    )


def add_engine(parser: argparse.ArgumentParser, unit: str) -> None:
    """``--engine ray``, ``--address A``, ``--run-dir D``: run on Ray, resumably."""
    parser.add_argument(
        "--engine", choices=["ray"],
        help=f"run on Ray, one unit per {unit}, results equal to the in-process run "
        "(needs pip install 'segpile-lab[ray]'; default: in this process)",
    )  # fmt: skip
    parser.add_argument(
        "--address", metavar="A",
        help="with --engine ray: 'auto' or host:port joins a running cluster "
        "(default: start Ray on this machine)",
    )  # fmt: skip
    parser.add_argument(
        "--run-dir", metavar="D",
        help="with --engine ray: keeps each finished unit; rerunning with the same folder "
        "skips them (default: OUT/ray-run)",
    )  # fmt: skip


def engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """``engine``, ``address`` and ``run_dir`` for the library call (see `add_engine`)."""
    if args.engine is None:
        if args.address or args.run_dir:
            raise UsageError("--address and --run-dir need --engine ray")
        return {"engine": None}
    run_dir = args.run_dir or str(Path(args.out) / "ray-run")
    return {"engine": args.engine, "address": args.address, "run_dir": run_dir}


def add_strict(parser: argparse.ArgumentParser) -> None:
    """``--strict``: stop at the first bad record instead of skipping and counting it."""
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first bad record (default: skip it and count it in the load report)",
    )


def add_batch_size(parser: argparse.ArgumentParser, *, default: int, what: str) -> None:
    """``--batch-size N``: how many items go through the model at once."""
    parser.add_argument(
        "--batch-size", type=int_at_least(1), default=default, metavar="N", help=what
    )


def add_image_folders(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """``--images DIR`` and ``--annotations DIR``, paired by `PAIRING_RULE`."""
    need = "" if required else " (optional)"
    parser.add_argument(
        "--images", type=existing_folder, required=required, metavar="DIR",
        help=f"folder of .jpg/.jpeg/.png images{need}",
    )  # fmt: skip
    parser.add_argument(
        "--annotations", type=existing_folder, required=required, metavar="DIR",
        help="folder of ground-truth .png label maps, one per image with the same stem",
    )  # fmt: skip


def check_distinct_folders(images: str, annotations: str) -> None:
    """`UsageError` when ``--images`` and ``--annotations`` are one folder."""
    if Path(images).resolve() == Path(annotations).resolve():
        raise UsageError(
            f"--images and --annotations are the same folder ({images}): the annotations "
            "would be read as images; " + PAIRING_RULE
        )


def prepare_out(path: str | os.PathLike[str]) -> Path:
    """Create the output folder `path` and check that a file can be written in it."""
    out = Path(path)
    _check_writable(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise UsageError(f"--out {out}: {exc.strerror or exc}") from None
    return out


def written_line(out: str | os.PathLike[str], written: list[Path]) -> str:
    """``wrote N files to OUT: a, b, ...``, counting the ``plotly.min.js`` beside HTML pages."""
    names = [p.name for p in written]
    shared_js = Path(out) / "plotly.min.js"
    if any(n.endswith(".html") for n in names) and shared_js.is_file():
        names += [] if shared_js.name in names else [shared_js.name]
    return f"wrote {len(names)} files to {out}: " + ", ".join(names)


def format_table(
    frame: Any, *, width: int | None = None, headers: dict[str, str] | None = None
) -> str:
    """A Polars frame as plain text no wider than `width` (default: the terminal's, ``COLUMNS``).

    Columns are kept from the left while they fit; the ones left out are named on a last line.
    Floats show 3 decimals below 10, 1 below 100, none above; integers thousands separators;
    text at most 40 characters.
    """
    width = width or shutil.get_terminal_size((100, 24)).columns
    headers = headers or {}
    columns: list[list[str]] = []
    for name in frame.columns:
        cells = [_cell(value) for value in frame[name].to_list()]
        columns.append([headers.get(name, name), *cells])
    kept: list[tuple[int, int]] = []
    used = 0
    for index, column in enumerate(columns):
        size = max(len(cell) for cell in column)
        if kept and used + 2 + size > width:
            break
        kept.append((index, size))
        used += size + (2 if index else 0)
    numeric = [frame.dtypes[i].is_numeric() for i in range(len(columns))]
    lines = []
    for row in range(frame.height + 1):
        cells = [
            columns[i][row].rjust(size) if numeric[i] and row else columns[i][row].ljust(size)
            for i, size in kept
        ]
        lines.append("  ".join(cells).rstrip())
    left_out = [columns[i][0] for i in range(len(kept), len(columns))]
    if left_out:
        lines.append(f"(not shown at this width: {', '.join(left_out)})")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.{1 if abs(value) >= 10 else 3}f}"
    if isinstance(value, int):
        return f"{value:,}"
    text = " ".join(str(value).split())
    return text if len(text) <= 40 else text[:39] + "…"
