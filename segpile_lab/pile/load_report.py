"""What reading Pile files did: rows read, rows skipped, fixed or flagged (and why), per file.

Every record that the reader does not return exactly as written is counted here under a
reason, with the first few examples (file, line, detail), so nothing is lost silently.

* **skipped** — the row is not returned (lenient mode); strict mode raises `RecordError`.
* **fixed** — the row is returned after a documented normalisation (BOM stripped, ``meta``
  given as a JSON string parsed, an alias mapped to the released subset name, …).
* **flagged** — the row is returned as written but worth knowing about (empty text, missing
  or unknown subset name).
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from segpile_lab.errors import RecordError

__all__ = ["REASONS", "Example", "FileReport", "LoadReport"]

Action = Literal["skipped", "fixed", "flagged"]

#: reason -> (action, what it means)
REASONS: dict[str, tuple[Action, str]] = {
    "malformed_json": ("skipped", "not valid JSON"),
    "truncated_last_line": ("skipped", "the file's last line is cut short (no final newline)"),
    "non_utf8": ("skipped", "bytes that are not UTF-8"),
    "lone_surrogate": ("skipped", "a lone UTF-16 surrogate escape such as \\ud800"),
    "nan_literal": ("skipped", "NaN or Infinity, which JSON does not allow"),
    "not_an_object": ("skipped", "the line is JSON but not an object (array, number, string)"),
    "missing_text": ("skipped", "no 'text' field, or null"),
    "text_not_string": ("skipped", "'text' is not a string (never coerced)"),
    "meta_not_object": ("skipped", "'meta' is a list, number or unparsable string"),
    "hostile_json": (
        "skipped",
        "JSON a parser gives up on (nesting over 1024 levels, a number out of range, …)",
    ),
    "line_too_long": ("skipped", "a line over max_line_bytes, dropped unread (bounded memory)"),
    "damaged_frame": (
        "skipped",
        "decoded from a compressed frame that failed its check (checksum, CRC, corrupt block)",
    ),
    "bom_stripped": ("fixed", "a UTF-8 byte-order mark at the line start was removed"),
    "meta_json_string": ("fixed", "'meta' was a JSON string and was parsed"),
    "non_utf8_replaced": ("fixed", "non-UTF-8 bytes replaced by U+FFFD"),
    "lone_surrogate_replaced": ("fixed", "lone surrogates replaced by U+FFFD"),
    "subset_alias": ("fixed", "another tool's subset name mapped to the released name"),
    "synthetic_not_bool": ("fixed", "'meta.synthetic' was not a boolean; read as False"),
    "empty_text": ("flagged", "'text' is empty (kept; zero bytes count nowhere in BPB)"),
    "missing_subset": ("flagged", "no string meta.pile_set_name: subset '<unknown>'"),
    "unknown_subset": ("flagged", "a subset name that is not one of the 22 (kept as written)"),
}

MAX_EXAMPLES = 3  # per reason


@dataclass
class Example:
    """One occurrence of a reason: where, and a short excerpt or message."""

    reason: str
    source: str
    line: int | None
    detail: str


@dataclass
class FileReport:
    """One input file: its container, how much was read and how it ended."""

    path: str
    format: str = "?"
    rows: int = 0  # rows read from the file (before subset filter, limit and sampling)
    decompressed_bytes: int = 0
    ended_cleanly: bool = False
    error: str | None = None  # why reading stopped early, when it did
    columnar_chunks: int = 0
    fallback_chunks: int = 0
    source: str = ""  # the file's name in the ``source`` column
    rows_dropped: int = 0  # rows decoded from a frame that then failed its check
    dropped_from_line: int | None = None  # the first line of that frame
    rows_already_returned: int = 0  # of `rows_dropped`, handed out in batches before the check


@dataclass
class LoadReport:
    """The load report of `read_pile` / `iter_pile_batches` (see the module docstring).

    `rows_read` counts valid rows; `rows_returned` those in the result after the subset
    filter, `limit` and sampling. Beyond the records: `unread_paths` lists the inputs that
    could not be read at all (with why), `duplicate_paths` the files given more than once
    (read once), `ignored_paths` what folders held that is not named like a shard, and
    `unmatched_subsets` the ``subsets=`` names that matched no row (with the closest names).
    """

    strict: bool = False
    files: list[FileReport] = field(default_factory=list)
    rows_read: int = 0
    rows_returned: int = 0
    rows_filtered_out: int = 0  # not in `subsets=`
    blank_lines: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    fixed: Counter[str] = field(default_factory=Counter)
    flagged: Counter[str] = field(default_factory=Counter)
    unknown_subsets: Counter[str] = field(default_factory=Counter)
    examples: list[Example] = field(default_factory=list)
    sample_per_subset: int | None = None
    unread_paths: list[tuple[str, str]] = field(default_factory=list)  # (path, why not read)
    duplicate_paths: list[str] = field(default_factory=list)  # the same file given again
    ignored_paths: list[str] = field(default_factory=list)  # names in folders that are no shards
    unmatched_subsets: dict[str, list[str]] = field(default_factory=dict)  # name -> closest

    # -- recording -------------------------------------------------------------------------
    def record(
        self, reason: str, source: str, line: int | None, detail: str = "", count: int = 1
    ) -> None:
        """Count `count` occurrences of `reason`; keep the first few examples.

        In strict mode a *skipped* reason raises `RecordError` instead.
        """
        action = REASONS[reason][0]
        if action == "skipped" and self.strict:
            raise RecordError(
                detail or REASONS[reason][1], path=source, line=line or 0, reason=reason
            )
        getattr(self, action)[reason] += count
        self.add_example(reason, source, line, detail)

    def add_example(self, reason: str, source: str, line: int | None, detail: str) -> None:
        """Keep this occurrence as an example unless `reason` has `MAX_EXAMPLES` already."""
        if sum(1 for ex in self.examples if ex.reason == reason) < MAX_EXAMPLES:
            self.examples.append(Example(reason, source, line, detail[:200]))

    def merge(self, other: LoadReport) -> LoadReport:
        """Add the report of files read after ours (another shard, another process); returns
        self. Merging per-file reports in reading order gives the report of reading them all
        at once, examples included; ``rows_returned`` is the caller's to set."""
        self.files.extend(other.files)
        for name in ("rows_read", "rows_returned", "rows_filtered_out", "blank_lines"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("skipped", "fixed", "flagged", "unknown_subsets"):
            getattr(self, name).update(getattr(other, name))
        for name in ("unread_paths", "duplicate_paths", "ignored_paths"):
            getattr(self, name).extend(getattr(other, name))
        self.unmatched_subsets.update(other.unmatched_subsets)
        for ex in other.examples:
            self.add_example(ex.reason, ex.source, ex.line, ex.detail)
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadReport:
        """The report that `to_dict` described."""
        fields = {k: v for k, v in data.items() if k not in ("rows_skipped", "ended_cleanly")}
        for name in ("skipped", "fixed", "flagged", "unknown_subsets"):
            fields[name] = Counter(fields[name])
        fields["files"] = [FileReport(**f) for f in fields["files"]]
        fields["examples"] = [Example(**e) for e in fields["examples"]]
        fields["unread_paths"] = [tuple(p) for p in fields.get("unread_paths", [])]
        return cls(**fields)

    # -- reading ---------------------------------------------------------------------------
    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    @property
    def ended_cleanly(self) -> bool:
        """True when every file was read to its end without a container error, and every
        entry of the inputs could be read."""
        return all(f.ended_cleanly for f in self.files) and not self.unread_paths

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable data."""
        data = asdict(self)
        for name in ("skipped", "fixed", "flagged", "unknown_subsets"):
            data[name] = dict(getattr(self, name))
        data["rows_skipped"] = self.rows_skipped
        data["ended_cleanly"] = self.ended_cleanly
        return data

    def _lines(self) -> list[str]:
        lines = [
            f"LoadReport: {self.rows_read:,} rows read from {len(self.files)} file(s), "
            f"{self.rows_returned:,} returned"
            + (
                f" (sample of ≤ {self.sample_per_subset} per subset)"
                if self.sample_per_subset
                else ""
            )
            + (
                f", {self.rows_filtered_out:,} not in the chosen subsets"
                if self.rows_filtered_out
                else ""
            )
            + f"; mode {'strict' if self.strict else 'lenient'}",
        ]
        for f in self.files:
            state = "ended cleanly" if f.ended_cleanly else f"STOPPED EARLY: {f.error}"
            if f.rows_dropped:
                state += (
                    f"; dropped {f.rows_dropped:,} rows from line {f.dropped_from_line:,} on "
                    "(decoded from the damaged frame)"
                )
            if f.rows_already_returned:
                state += f", {f.rows_already_returned:,} of them already handed out in batches"
            lines.append(
                f"  {f.path} [{f.format}]: {f.rows:,} rows, {f.decompressed_bytes:,} bytes, {state}"
            )
        for path, why in self.unread_paths:
            lines.append(f"  NOT READ {path}: {why}")
        for duplicate in self.duplicate_paths:
            lines.append(f"  given twice, {duplicate}")
        if self.ignored_paths:
            shown = ", ".join(self.ignored_paths[:5])
            more = (
                f" and {len(self.ignored_paths) - 5:,} more" if len(self.ignored_paths) > 5 else ""
            )
            lines.append(
                f"  ignored {len(self.ignored_paths):,} file(s) not named as shards: {shown}{more}"
            )
        for name, close in self.unmatched_subsets.items():
            lines.append(
                f"  subsets= {name!r} matched no rows; closest known: {', '.join(close) or 'none'}"
            )
        for action in ("skipped", "fixed", "flagged"):
            for reason, n in sorted(getattr(self, action).items()):
                lines.append(f"  {action} {n:,} × {reason}: {REASONS[reason][1]}")
        if self.unknown_subsets:
            names = ", ".join(f"{k!r} ({v:,})" for k, v in self.unknown_subsets.most_common(10))
            lines.append(f"  unknown subset names: {names}")
        if self.blank_lines:
            lines.append(f"  {self.blank_lines:,} blank lines ignored")
        for ex in self.examples:
            where = ex.source + ("" if ex.line is None else f", line {ex.line}")
            lines.append(f"    e.g. {ex.reason} at {where}: {ex.detail}")
        return lines

    def __str__(self) -> str:
        return "\n".join(self._lines())

    def _repr_html_(self) -> str:
        head, *rest = self._lines()
        items = "".join(f"<li><code>{html.escape(line.strip())}</code></li>" for line in rest)
        return f"<div class='segpile-load-report'><b>{html.escape(head)}</b><ul>{items}</ul></div>"
