"""The main job: execute the curated notebooks and publish them as an offline HTML report.

For each notebook: inject parameters after its ``parameters`` cell, execute it headless in a
temporary working directory (report mode: see `execute.REPORT_ENV`), check that no output
would be blank offline, export one self-contained page, and collect the JSON summary the
notebook writes to ``summary_path``. Then write ``index.html`` and ``summary.json``. A failing
notebook does not stop the others; `build_report` raises `ReportError` at the end, after
the index is written, naming each failing notebook, cell and exception.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import nbformat

from segpile_lab._output import output_folder
from segpile_lab._progress import bars_disabled
from segpile_lab._resources import notebooks_dir
from segpile_lab.errors import ReportError
from segpile_lab.report import DEFAULT_CELL_TIMEOUT_S, DEFAULT_OUT_DIR
from segpile_lab.report.checks import find_blank_outputs
from segpile_lab.report.execute import CellFailure, execute_notebook
from segpile_lab.report.export import export_html, representable_mimetypes
from segpile_lab.report.index import write_index_html, write_summary_json
from segpile_lab.report.params import (
    INJECTED_TAG,
    declared_parameters,
    inject_parameters,
    parameters_cell_index,
    resolve_parameters,
)

RUNNER_OWNED = ("summary_path",)
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class NotebookResult:
    """What happened to one notebook.

    `cell_index` is 0-based in the notebook as stored (the injected cell not counted).
    """

    name: str
    source: Path
    status: Literal["passed", "failed"]
    seconds: float
    html: Path | None
    summary: dict[str, Any] | None
    error: str | None = None
    cell_index: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": str(self.source),
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "html": None if self.html is None else self.html.name,
            "summary": self.summary,
            "error": self.error,
            "cell_index": self.cell_index,
        }


@dataclass(frozen=True)
class ReportResult:
    """A built report: where it is and one `NotebookResult` per notebook, in report order."""

    out_dir: Path
    notebooks: tuple[NotebookResult, ...]
    seconds: float

    @property
    def index_html(self) -> Path:
        return self.out_dir / "index.html"

    @property
    def summary_json(self) -> Path:
        return self.out_dir / "summary.json"

    @property
    def failed(self) -> tuple[NotebookResult, ...]:
        return tuple(r for r in self.notebooks if r.status != "passed")


def find_notebooks(selection: Sequence[str | Path] | None = None) -> list[Path]:
    """The notebooks to run, in report order.

    Without `selection`: every ``*.ipynb`` of the packaged notebooks folder, sorted by name.
    Each selected item is a path to an ``.ipynb`` file, or the name of a packaged notebook
    with or without ``.ipynb`` (``01_pile_composition``).
    """
    folder = notebooks_dir()
    available = sorted(folder.glob("*.ipynb"))
    if selection is None:
        if not available:
            raise ReportError(f"no notebooks (*.ipynb) in {folder}")
        return available
    by_name = {p.name: p for p in available} | {p.stem: p for p in available}
    chosen = []
    for item in selection:
        path = Path(item)
        if path.suffix == ".ipynb" and path.is_file():
            chosen.append(path.resolve())
        elif str(item) in by_name:
            chosen.append(by_name[str(item)])
        else:
            names = ", ".join(p.stem for p in available) or "none"
            raise ReportError(f"no notebook {str(item)!r}; available in {folder}: {names}")
    _check_page_names(chosen)
    return chosen


RESERVED_PAGES = ("index",)  # index.html is the report's own page


def _check_page_names(paths: list[Path]) -> None:
    """`ReportError` before anything runs when two notebooks would write the same page
    (same file name from different folders, or letter case only) or one would be the index."""
    seen: dict[str, Path] = {}
    for path in paths:
        key = path.stem.lower()
        if key in RESERVED_PAGES:
            raise ReportError(f"{path}: a notebook named {path.stem!r} would replace the "
                              "report's index page; rename it")  # fmt: skip
        if key in seen:
            raise ReportError(f"{seen[key]} and {path} would both write {path.stem}.html; "
                              "rename one or run them in separate reports")  # fmt: skip
        seen[key] = path


def build_report(
    out_dir: str | Path = DEFAULT_OUT_DIR,
    *,
    notebooks: Sequence[str | Path] | None = None,
    params: Mapping[str, Any] | None = None,
    smoke: bool = False,
    timeout: float = DEFAULT_CELL_TIMEOUT_S,
    progress: bool | None = None,
) -> ReportResult:
    """Execute notebooks and write their offline HTML pages, ``index.html`` and ``summary.json``.

    Args:
        out_dir: folder for the report (created; existing pages of the same name are replaced).
        notebooks: names or paths (see `find_notebooks`); default: all packaged notebooks.
        params: values injected into each notebook whose parameters cell defines that name;
            a key ``"NOTEBOOK:NAME"`` goes to that notebook only (see `resolve_parameters`).
        smoke: inject ``smoke = True`` (small, fast runs).
        timeout: limit per cell, in seconds.
        progress: print one line per notebook to stderr; None: unless ``TQDM_DISABLE`` is set.

    Raises:
        ReportError: a parameter no notebook defines (before anything runs), or after the
            report is written, one or more notebooks failed (each named with cell and error).
        NotADirectoryError: `out_dir` is a file (before anything runs).
    """
    out = output_folder(out_dir, create=False)  # before any notebook runs
    paths = find_notebooks(notebooks)
    given = dict(params or {})
    values = _values_to_inject(paths, given, smoke=smoke)
    show = _progress_printer(len(paths), progress)
    out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    results: list[NotebookResult] = []
    for number, path in enumerate(paths, 1):
        show(number, f"{path.name}: running")
        result = _run_notebook(path, values[path.stem], out_dir=out, timeout=timeout)
        line = f"{path.name}: {result.status} in {result.seconds:.1f} s"
        if result.error:
            line += f" ({result.error.removeprefix(f'{path.name}: ')})"
        show(number, line)
        results.append(result)
    seconds = time.perf_counter() - started

    write_summary_json(out / "summary.json", results, parameters=given, seconds=seconds)
    write_index_html(out / "index.html", results, parameters=given, seconds=seconds)
    report = ReportResult(out_dir=out, notebooks=tuple(results), seconds=seconds)
    if report.failed:
        lines = [f"  {r.error}" for r in report.failed]
        raise ReportError(
            f"{len(report.failed)} of {len(results)} notebooks failed "
            f"(the report is still written: {report.index_html}):\n" + "\n".join(lines)
        )
    return report


def _values_to_inject(
    paths: list[Path], params: dict[str, Any], *, smoke: bool
) -> dict[str, dict[str, Any]]:
    """Check user parameters against the notebooks' parameters cells; add ``smoke``.

    Returns the values to inject per notebook name (file stem); see `resolve_parameters`.
    """
    if smoke:
        if params.get("smoke", True) is not True:
            raise ReportError("--smoke contradicts --param smoke=" + repr(params["smoke"]))
        params["smoke"] = True
    declared = {path.stem: _declared_in(path) for path in paths}
    return resolve_parameters(params, declared, reserved=RUNNER_OWNED, everywhere=("smoke",))


def _read(path: Path) -> tuple[nbformat.NotebookNode, set[str]]:
    """The notebook and the names its parameters cell assigns (empty without that cell)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        raise ReportError(f"not a readable notebook ({type(exc).__name__}: {exc})") from exc
    anchor = parameters_cell_index(nb)
    return nb, set() if anchor is None else declared_parameters(nb.cells[anchor].source)


def _declared_in(path: Path) -> set[str]:
    try:
        return _read(path)[1]
    except ReportError:  # reported as that notebook's failure when it runs
        return set()


def _run_notebook(
    path: Path, params: Mapping[str, Any], *, out_dir: Path, timeout: float
) -> NotebookResult:
    started = time.perf_counter()
    html_path = out_dir / f"{path.stem}.html"
    html_path.unlink(missing_ok=True)  # never leave a page from an earlier run behind

    def finish(
        error: str | None = None,
        *,
        cell: int | None = None,
        summary: dict[str, Any] | None = None,
    ) -> NotebookResult:
        return NotebookResult(
            name=path.stem,
            source=path,
            status="failed" if error else "passed",
            seconds=time.perf_counter() - started,
            html=_existing(html_path),
            summary=summary,
            error=None if error is None else f"{path.name}: {error}",
            cell_index=cell,
        )

    try:
        nb, _ = _read(path)
    except ReportError as exc:
        return finish(str(exc))

    with tempfile.TemporaryDirectory(prefix="segpile-report-") as workdir:
        summary_file = Path(workdir) / SUMMARY_FILE
        # relative to the kernel's working directory (workdir): no temporary path on the page
        try:
            injected = inject_parameters(nb, {**params, "summary_path": SUMMARY_FILE})
        except ReportError as exc:
            return finish(str(exc))
        try:
            execute_notebook(nb, workdir=Path(workdir), timeout=timeout)
        except CellFailure as failure:
            cell = _source_index(failure.cell_index, injected)
            reason = _at_cell(nb, failure.cell_index, cell, str(failure))
            _export(nb, html_path, path)  # the partial page helps to debug
            return finish(reason, cell=cell)

        blank = find_blank_outputs(nb, representable_mimetypes())
        page_problems = _export(nb, html_path, path)
        if blank:
            first = blank[0]
            cell = _source_index(first.cell_index, injected)
            more = f" (and {len(blank) - 1} more)" if len(blank) > 1 else ""
            return finish(_at_cell(nb, first.cell_index, cell, first.reason + more), cell=cell)
        if page_problems:
            return finish("; ".join(page_problems))
        try:
            summary = json.loads(summary_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return finish("ran, but wrote no JSON summary to its summary_path")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return finish(f"its JSON summary is not valid JSON ({exc})")
        if not isinstance(summary, dict):
            return finish("its JSON summary is not an object ({...})")
        return finish(summary=summary)


def _export(nb: nbformat.NotebookNode, html_path: Path, source: Path) -> list[str]:
    """Export the page; the problems found, including nbconvert itself breaking."""
    try:
        return export_html(nb, html_path, source_dir=source.parent)
    except Exception as exc:
        html_path.unlink(missing_ok=True)
        return [f"nbconvert could not export it ({type(exc).__name__}: {exc})"]


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _source_index(executed_index: int | None, injected: int) -> int | None:
    """Map a cell index of the executed notebook back to the notebook as stored."""
    if executed_index is None or executed_index <= injected:
        return executed_index
    return executed_index - 1


def _at_cell(
    nb: nbformat.NotebookNode, executed_index: int | None, source_index: int | None, reason: str
) -> str:
    if executed_index is None:
        return reason
    lines = [line for line in nb.cells[executed_index].source.splitlines() if line.strip()]
    first = lines[0].strip() if lines else ""
    if len(first) > 80:
        first = first[:77] + "..."
    if nb.cells[executed_index].get("metadata", {}).get("tags", []) == [INJECTED_TAG]:
        return f"the injected parameters cell: {reason}"
    return f"cell {source_index} ({first!r}): {reason}"


def _progress_printer(total: int, progress: bool | None) -> Callable[[int, str], None]:
    enabled = progress if progress is not None else not bars_disabled()

    def show(number: int, message: str) -> None:
        if enabled:
            print(f"[{number}/{total}] {message}", file=sys.stderr, flush=True)

    return show
