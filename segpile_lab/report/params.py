"""Notebook parameters, papermill style: read the `parameters` cell, inject values after it.

A notebook declares its parameters in the first code cell tagged ``parameters`` (plain
assignments such as ``smoke = False``). The report runner adds a code cell tagged
``injected-parameters`` right after it, so injected values win and the defaults stay
readable in the rendered page.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from typing import Any

import nbformat

from segpile_lab.errors import ReportError

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"

_LOOKS_LIKE_A_LITERAL = tuple("[({'\"")


def parse_param(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE``: VALUE as a Python literal (``5``, ``[1, 2]``, ``None``, ``'x'``).

    A value that is not a literal is taken as a plain string (``path=/data/val.jsonl.zst``),
    unless it starts like a literal (a bracket or a quote) and does not parse: that is a typo.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ReportError(f"--param {text!r}: expected KEY=VALUE with KEY a Python name")
    raw = raw.strip()
    try:
        return key, ast.literal_eval(raw)
    except (ValueError, SyntaxError) as exc:
        if raw.startswith(_LOOKS_LIKE_A_LITERAL):
            raise ReportError(f"--param {text!r}: {raw!r} is not a Python literal ({exc})") from exc
        return key, raw


def parse_params(texts: Iterable[str]) -> dict[str, Any]:
    """Parse several ``KEY=VALUE`` strings; a later KEY overrides an earlier one."""
    return dict(parse_param(text) for text in texts)


def parameters_cell_index(nb: nbformat.NotebookNode) -> int | None:
    """Index of the first code cell tagged ``parameters``, or None."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return index
    return None


def declared_parameters(source: str) -> set[str]:
    """Names assigned at the top level of a parameters cell (IPython magics are ignored)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError as exc:
        raise ReportError(f"its parameters cell is not valid Python: {exc}") from exc
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        names |= {n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def inject_parameters(nb: nbformat.NotebookNode, values: Mapping[str, Any]) -> int:
    """Insert a cell tagged ``injected-parameters`` after the parameters cell; returns its index.

    Raises:
        ReportError: the notebook has no cell tagged ``parameters``.
    """
    anchor = parameters_cell_index(nb)
    if anchor is None:
        raise ReportError(f"it has no code cell tagged {PARAMETERS_TAG!r}")
    lines = ["# Parameters injected by `segpile-lab report`"]
    lines += [f"{name} = {value!r}" for name, value in values.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [INJECTED_TAG]})
    nb.cells.insert(anchor + 1, cell)
    return anchor + 1
