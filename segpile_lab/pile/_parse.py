"""Parse a chunk of JSON lines into the Pile frame: columnar when provably clean, else per line.

Both paths produce the same *raw* frame (``text``, ``pile_set_name``, ``synthetic``, ``line``)
and go through the same `finish`, so every policy of the bad-input catalog holds on both:

* duplicate keys: the last one wins (as json/orjson);
* ``text`` must be a string (never coerced); missing/null text is skipped, empty text kept;
* ``meta`` given as a JSON string is parsed; a list or number is skipped;
* a lone surrogate escape is skipped (or replaced by U+FFFD), never turned into U+0000;
* non-UTF-8 bytes are skipped (or replaced), NaN/Infinity skipped, a BOM stripped;
* JSON that makes a parser give up (nesting deeper than orjson's 1024 levels, which would send
  stdlib json into `RecursionError`; an integer of thousands of digits; a parser's internal
  error) is skipped as ``hostile_json`` with the parser's message, never raised;
* blank lines, CRLF and a missing final newline are fine.

The columnar path trusts Polars only when the chunk passes every check in `_columnar`
(key counts from `_chunks`, including keys spelled with blanks or escapes); otherwise the
chunk goes through orjson line by line.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import orjson
import polars as pl

from segpile_lab.pile._chunks import LineChunk
from segpile_lab.pile.load_report import LoadReport
from segpile_lab.pile.subsets import UNKNOWN_SUBSET, canonical_subset

__all__ = ["PILE_SCHEMA", "UnicodeErrors", "empty_frame", "finish", "parse_chunk"]

UnicodeErrors = Literal["skip", "replace"]

#: The frame `read_pile` returns (see ARCHITECTURE.md, "Pile frames").
PILE_SCHEMA: dict[str, pl.DataType] = {
    "subset": pl.String(),
    "text": pl.String(),
    "n_bytes": pl.UInt64(),
    "n_chars": pl.UInt64(),
    "source": pl.String(),
    "line": pl.UInt64(),
    "known_subset": pl.Boolean(),
    "synthetic": pl.Boolean(),
}
_JSON_SCHEMA = pl.Schema({"text": pl.String(), "meta": pl.Struct({"pile_set_name": pl.String})})
# ``meta.synthetic`` widens every row's parse: asked for only in chunks that have the key
_JSON_SCHEMA_SYNTHETIC = pl.Schema(
    {"text": pl.String(), "meta": pl.Struct({"pile_set_name": pl.String, "synthetic": pl.Boolean})}
)
_RAW_SCHEMA = {
    "text": pl.String,
    "pile_set_name": pl.String,
    "synthetic": pl.Boolean,
    "line": pl.UInt64,
}
_BOM = b"\xef\xbb\xbf"
_SURROGATE = re.compile("[\ud800-\udfff]")


def empty_frame() -> pl.DataFrame:
    """A frame with no rows and the full schema."""
    return pl.DataFrame(schema=PILE_SCHEMA)


# -- columnar path ------------------------------------------------------------------------------
def _columnar(chunk: LineChunk) -> pl.DataFrame | None:
    """Parse with Polars; None when any check fails and the chunk must go line by line."""
    k, rows = chunk.keys, chunk.n_lines
    if (
        k.unusual_layout
        or k.escaped_keys
        or not (k.text == k.text_str == k.meta == k.pile_set_name == k.pile_set_name_str == rows)
    ):
        return None  # a missing, duplicate or non-string key somewhere: Polars would differ
    schema = _JSON_SCHEMA_SYNTHETIC if k.synthetic else _JSON_SCHEMA
    try:
        parsed = pl.read_ndjson(chunk.data, schema=schema)
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, ValueError, MemoryError):
        return None  # malformed line, NaN, bad UTF-8, BOM, lone low surrogate, depth, …
    if parsed.height != rows:
        return None  # blank or whitespace-only lines
    synthetic = pl.col("meta").struct.field("synthetic") if k.synthetic else pl.lit(None)
    raw = parsed.select(
        pl.col("text"),
        pl.col("meta").struct.field("pile_set_name"),
        synthetic.cast(pl.Boolean).alias("synthetic"),
        pl.int_range(chunk.first_line, chunk.first_line + rows, dtype=pl.UInt64).alias("line"),
    )
    checks = raw.select(
        nulls=pl.col("text").null_count() + pl.col("pile_set_name").null_count(),
        synthetic=pl.col("synthetic").count(),
        # Polars turns a lone high surrogate escape into U+0000: let orjson judge those rows
        nul=pl.col("text").str.contains("\x00", literal=True).any()
        | pl.col("pile_set_name").str.contains("\x00", literal=True).any(),
    ).row(0, named=True)
    if checks["nulls"] or checks["synthetic"] != k.synthetic or checks["nul"]:
        return None
    return raw


# -- per-line path ------------------------------------------------------------------------------
class _ConstantError(ValueError):
    """NaN, Infinity or -Infinity in a line (json accepts them, JSON does not)."""


def _reject_constant(name: str) -> Any:
    raise _ConstantError(f"{name} is not valid JSON")


#: what a parser may raise on hostile input besides a decode error
_HOSTILE = (RecursionError, MemoryError, OverflowError, ValueError)


def _has_surrogate(value: Any) -> bool:
    return isinstance(value, str) and _SURROGATE.search(value) is not None


_FAILED = object()  # `_decode` could not produce a JSON value


def _decode(line: bytes, errors: UnicodeErrors) -> tuple[Any, str | None, str]:
    """Parse one line: ``(value, reason, detail)``.

    The value is `_FAILED` when the line is skipped for `reason`; otherwise a non-None reason
    names the fix applied (non-UTF-8 bytes replaced).
    """
    try:
        return orjson.loads(line), None, ""
    except orjson.JSONDecodeError as error:
        first_error = str(error)
    except _HOSTILE as error:
        return _FAILED, "hostile_json", f"{type(error).__name__}: {error}"
    if "depth limit" in first_error:  # json would recurse until RecursionError
        return _FAILED, "hostile_json", first_error
    fix = None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        if errors == "skip":
            return _FAILED, "non_utf8", str(error)
        text, fix = line.decode("utf-8", errors="replace"), "non_utf8_replaced"
    try:  # json accepts lone surrogates (orjson does not): find out whether that was all
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError:
        return _FAILED, "malformed_json", first_error
    except _ConstantError as error:
        return _FAILED, "nan_literal", str(error)
    except _HOSTILE as error:  # e.g. an integer over Python's 4300-digit conversion limit
        return _FAILED, "hostile_json", f"{type(error).__name__}: {error}"
    return value, fix, first_error


def _parse_meta_string(meta: str) -> dict[str, Any] | None:
    """The object a ``meta`` string encodes, or None when it encodes none."""
    try:
        parsed = orjson.loads(meta)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _line_record(
    obj: Any, errors: UnicodeErrors, report: LoadReport, source: str, line_no: int
) -> tuple[str, str | None, bool] | None:
    """Apply the Pile schema rules to a parsed line; None when the row is skipped."""
    if not isinstance(obj, dict):
        report.record("not_an_object", source, line_no, f"top-level {type(obj).__name__}")
        return None
    text = obj.get("text")
    if text is None:
        report.record("missing_text", source, line_no, "no 'text'")
        return None
    if not isinstance(text, str):
        report.record("text_not_string", source, line_no, f"'text' is {type(text).__name__}")
        return None
    meta = obj.get("meta")
    if isinstance(meta, str):
        meta = _parse_meta_string(meta)
        if meta is None:
            report.record("meta_not_object", source, line_no, "'meta' is a non-object string")
            return None
        report.record("meta_json_string", source, line_no, "'meta' was a JSON string")
    if meta is not None and not isinstance(meta, dict):
        report.record("meta_not_object", source, line_no, f"'meta' is {type(meta).__name__}")
        return None
    meta = meta or {}
    subset = meta.get("pile_set_name")
    if not isinstance(subset, str):
        subset = None  # missing, null or another type: subset '<unknown>' (never coerced)
    if _has_surrogate(text) or _has_surrogate(subset):
        if errors == "skip":
            report.record("lone_surrogate", source, line_no, "lone surrogate escape")
            return None
        report.record("lone_surrogate_replaced", source, line_no, "lone surrogate → U+FFFD")
        text = _SURROGATE.sub("\ufffd", text)
        subset = None if subset is None else _SURROGATE.sub("\ufffd", subset)
    synthetic = meta.get("synthetic")
    if synthetic is not None and not isinstance(synthetic, bool):
        report.record("synthetic_not_bool", source, line_no, f"synthetic {synthetic!r}")
        synthetic = False
    return text, subset, bool(synthetic)


def _per_line(
    chunk: LineChunk, source: str, errors: UnicodeErrors, report: LoadReport
) -> pl.DataFrame:
    columns: dict[str, list[Any]] = {name: [] for name in _RAW_SCHEMA}
    lines = chunk.data.split(b"\n")
    if chunk.data.endswith(b"\n"):
        lines.pop()
    unterminated = len(lines) - 1 if not chunk.data.endswith(b"\n") else -1
    for index, line in enumerate(lines):
        line_no = chunk.first_line + index
        line = line.removesuffix(b"\r")
        if not line.strip():
            report.blank_lines += 1
            continue
        if line.startswith(_BOM):
            line = line[len(_BOM) :]
            report.record("bom_stripped", source, line_no, "UTF-8 BOM")
        obj, reason, detail = _decode(line, errors)
        if obj is _FAILED:
            if reason == "malformed_json" and index == unterminated and chunk.is_last:
                reason = "truncated_last_line"
            report.record(str(reason), source, line_no, detail)
            continue
        if reason is not None:
            report.record(reason, source, line_no, detail)
        record = _line_record(obj, errors, report, source, line_no)
        if record is None:
            continue
        for name, value in zip(_RAW_SCHEMA, (*record, line_no), strict=True):
            columns[name].append(value)
    return pl.DataFrame(columns, schema=_RAW_SCHEMA)


# -- shared -------------------------------------------------------------------------------------
def parse_chunk(
    chunk: LineChunk, source: str, errors: UnicodeErrors, report: LoadReport
) -> tuple[pl.DataFrame, bool]:
    """The raw frame of `chunk` and whether the columnar path was taken."""
    if not chunk.data:  # a chunk that only reports skipped over-long lines
        return pl.DataFrame(schema=_RAW_SCHEMA), False
    raw = _columnar(chunk)
    if raw is not None:
        return raw, True
    return _per_line(chunk, source, errors, report), False


def _first_lines(raw: pl.DataFrame, condition: pl.Expr) -> list[int]:
    return raw.filter(condition).get_column("line").head(3).to_list()


def finish(raw: pl.DataFrame, source: str, report: LoadReport) -> pl.DataFrame:
    """Raw frame -> Pile frame: canonical subsets, byte and character counts, flags counted."""
    names = raw.get_column("pile_set_name").drop_nulls().unique().to_list()
    canonical = {name: canonical_subset(name) for name in names}
    known = [name for name, (_, ok) in canonical.items() if ok]
    renamed = {name: c for name, (c, ok) in canonical.items() if ok and c != name}
    subset = pl.col("pile_set_name")
    if renamed:
        subset = subset.replace(renamed)
    frame = raw.select(
        subset.fill_null(UNKNOWN_SUBSET).alias("subset"),
        pl.col("text"),
        pl.col("text").str.len_bytes().cast(pl.UInt64).alias("n_bytes"),
        pl.col("text").str.len_chars().cast(pl.UInt64).alias("n_chars"),
        pl.lit(source, dtype=pl.String).alias("source"),
        pl.col("line"),
        pl.col("pile_set_name").is_in(known).fill_null(False).alias("known_subset"),
        pl.col("synthetic").fill_null(False),
    )
    _count_flags(raw, frame, source, report, renamed, known)
    return frame


def _count_flags(
    raw: pl.DataFrame,
    frame: pl.DataFrame,
    source: str,
    report: LoadReport,
    renamed: dict[str, str],
    known: list[str],
) -> None:
    psn = pl.col("pile_set_name")
    flags = {
        "missing_subset": (psn.is_null(), "no meta.pile_set_name"),
        "empty_text": (pl.col("text") == "", "empty text"),
    }
    if renamed:
        flags["subset_alias"] = (
            psn.is_in(list(renamed)),
            f"renamed {renamed}",
        )
    flags["unknown_subset"] = (psn.is_not_null() & ~psn.is_in(known), "not one of the 22")
    counts = raw.select(**{name: expr.sum() for name, (expr, _) in flags.items()}).row(
        0, named=True
    )
    for name, n in counts.items():
        if n:
            lines = _first_lines(raw, flags[name][0])
            report.record(name, source, lines[0], flags[name][1], count=n)
            for line in lines[1:]:
                report.add_example(name, source, line, flags[name][1])
    if counts["unknown_subset"]:
        unknown = frame.filter(~pl.col("known_subset") & (pl.col("subset") != UNKNOWN_SUBSET))
        report.unknown_subsets.update(dict(unknown.get_column("subset").value_counts().iter_rows()))
