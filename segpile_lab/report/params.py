"""Notebook parameters, papermill style: read the `parameters` cell, inject values after it.

A notebook declares its parameters in the first code cell tagged ``parameters`` (plain
assignments such as ``smoke = False``). The report runner adds a code cell tagged
``injected-parameters`` right after it, so injected values win and the defaults stay
readable in the rendered page.

A ``--param`` key is ``NAME`` (every selected notebook that declares NAME) or
``NOTEBOOK:NAME`` (that notebook only; it wins over an unscoped NAME there).
`resolve_parameters` checks every key against the notebooks before any of them runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from typing import Any

import nbformat

from segpile_lab.errors import ReportError

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"

SCOPE_SEPARATOR = ":"

_LOOKS_LIKE_A_LITERAL = tuple("[({'\"")


def parse_param(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE``: VALUE as a Python literal (``5``, ``[1, 2]``, ``None``, ``'x'``).

    A value that is not a literal is taken as a plain string (``path=/data/val.jsonl.zst``),
    unless it starts like a literal (a bracket or a quote) and does not parse: that is a typo.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    scope, _, name = key.rpartition(SCOPE_SEPARATOR)
    name = name.strip()
    if not sep or not name.isidentifier() or (SCOPE_SEPARATOR in key and not scope.strip()):
        raise ReportError(
            f"--param {text!r}: expected KEY=VALUE with KEY a Python name, "
            f"optionally scoped to one notebook (04_pile_bpb:lm_model=...)"
        )
    key = f"{scope.strip()}{SCOPE_SEPARATOR}{name}" if scope else name
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


def split_key(key: str) -> tuple[str | None, str]:
    """``"04_pile_bpb:lm_model"`` → ``("04_pile_bpb", "lm_model")``; ``"n"`` → ``(None, "n")``."""
    scope, _, name = key.rpartition(SCOPE_SEPARATOR)
    return (scope.removesuffix(".ipynb") or None), name


def resolve_parameters(
    params: Mapping[str, Any],
    declared: Mapping[str, set[str]],
    *,
    reserved: Iterable[str] = (),
    everywhere: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """The values to inject into each notebook, checked before any notebook runs.

    Args:
        params: ``{"NAME": value}`` or ``{"NOTEBOOK:NAME": value}`` (see `parse_param`).
        declared: notebook name (file stem) → the names its parameters cell assigns.
        reserved: names the caller sets itself; a user value for them is an error.
        everywhere: names injected into every notebook, declared or not (``smoke``).

    Returns:
        notebook name → ``{NAME: value}``; a scoped value wins over an unscoped one.

    Raises:
        ReportError: a reserved name, a scope that names no selected notebook, a scoped NAME
            that notebook does not declare, or an unscoped NAME no selected notebook declares.
    """
    reserved, everywhere = set(reserved), set(everywhere)
    unscoped: dict[str, Any] = {}
    scoped: dict[str, dict[str, Any]] = {name: {} for name in declared}
    for key, value in params.items():
        scope, name = split_key(key)
        if name in reserved:
            raise ReportError(f"--param {key}: set by the report runner itself")
        if scope is None:
            if name not in everywhere and not any(name in names for names in declared.values()):
                defined = sorted(set().union(*declared.values())) if declared else []
                raise ReportError(
                    f"--param {key}: no selected notebook's parameters cell defines it "
                    f"(defined: {', '.join(defined) or 'nothing'})"
                )
            unscoped[name] = value
        elif scope not in declared:
            raise ReportError(
                f"--param {key}: {scope!r} is not a selected notebook "
                f"(selected: {', '.join(declared) or 'none'})"
            )
        elif name not in declared[scope] | everywhere:
            raise ReportError(
                f"--param {key}: {scope}'s parameters cell does not define {name!r} "
                f"(it defines: {', '.join(sorted(declared[scope])) or 'nothing'})"
            )
        else:
            scoped[scope][name] = value
    return {
        notebook: {
            **{k: v for k, v in unscoped.items() if k in names | everywhere},
            **scoped[notebook],
        }
        for notebook, names in declared.items()
    }


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
