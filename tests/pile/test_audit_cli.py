"""`segpile-lab pile audit` in-process, and `audit_pile` behind it."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import types
from pathlib import Path

import polars as pl
import pytest

from segpile_lab.cli import build_parser, main
from segpile_lab.pile import cli as pile_cli
from segpile_lab.pile.audit import audit_pile

FIGURES = ("composition", "lengths", "duplicates_pii", "quality")


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["pile", "audit", *argv])
    return code, out.getvalue(), err.getvalue()


def _write_jsonl(path: Path, rows: list[tuple[str, str]]) -> Path:
    lines = [json.dumps({"text": t, "meta": {"pile_set_name": s}}) for s, t in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def demo_audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """The audit of the built-in demo sample (no PATH), cached in a temporary user cache."""
    root = tmp_path_factory.mktemp("cli")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(root / "cache"))
        code, out, _ = _run("--out", str(root / "out"))
    return code, out, root / "out"


def test_demo_audit_prints_the_table_and_says_synthetic(demo_audit) -> None:
    code, out, _ = demo_audit
    assert code == 0
    assert out.startswith("Pile composition audit — synthetic demo data")
    assert "LoadReport:" in out and "Ubuntu IRC" in out and "Enron Emails" in out


def test_demo_audit_writes_csv_json_and_every_figure(demo_audit) -> None:
    _, _, out_dir = demo_audit
    table = pl.read_csv(out_dir / "composition.csv")
    assert table.height == 22 and (table["documents"] >= 2).all()  # the demo's floor
    assert {"exact_duplicate_rate", "near_duplicate_rate", "emails", "alpha_share_median"} <= set(
        table.columns
    )
    summary = json.loads((out_dir / "composition.json").read_text())
    assert summary["label"] == "synthetic demo data" and summary["synthetic"] is True
    assert summary["subsets_present"] == 22 and summary["near_duplicate_pairs"] > 0
    assert summary["load_report"]["rows_skipped"] == 0
    for name in FIGURES:
        assert "synthetic demo data" in (out_dir / f"{name}.html").read_text()
        assert (out_dir / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_audit_of_real_format_data_is_not_labelled_synthetic(tmp_path: Path) -> None:
    data = _write_jsonl(
        tmp_path / "part.jsonl",
        [("ArXiv", "We prove a theorem."), ("Github", "def f():\n    pass\n"), ("X", "odd")],
    )
    code, out, _ = _run(str(data), "--out", str(tmp_path / "out"))
    assert code == 0
    assert out.startswith("Pile composition audit — real data")
    summary = json.loads((tmp_path / "out" / "composition.json").read_text())
    assert summary["synthetic"] is False and summary["unknown_subsets"] == ["X"]
    assert summary["documents"] == 3
    assert "synthetic" not in (tmp_path / "out" / "composition.html").read_text()


def test_limit_and_sample_per_subset_reach_the_reader(tmp_path: Path) -> None:
    data = _write_jsonl(tmp_path / "p.jsonl", [("ArXiv", f"doc {i}") for i in range(6)])
    assert _run(str(data), "--limit", "2", "--out", str(tmp_path / "a"))[0] == 0
    assert json.loads((tmp_path / "a" / "composition.json").read_text())["documents"] == 2
    assert _run(str(data), "--sample-per-subset", "4", "--out", str(tmp_path / "b"))[0] == 0
    summary = json.loads((tmp_path / "b" / "composition.json").read_text())
    assert (summary["documents"], summary["audited_documents"]) == (6, 4)


def test_sampled_audit_still_counts_every_document_in_the_composition(tmp_path: Path) -> None:
    rows = [("ArXiv", f"paper {i} " * (i + 1)) for i in range(10)] + [("Github", "x = 1")] * 2
    data = _write_jsonl(tmp_path / "p.jsonl", rows)
    audit = audit_pile(data, sample_per_subset=1)
    assert audit.frame["subset"].value_counts().sort("subset")["count"].to_list() == [1, 1]
    counts = dict(audit.composition.select("subset", "documents").iter_rows())
    assert (counts["ArXiv"], counts["Github"]) == (10, 2)
    arxiv = audit.composition.filter(pl.col("subset") == "ArXiv").row(0, named=True)
    assert arxiv["bytes"] == sum(len(t.encode()) for s, t in rows if s == "ArXiv")
    # the two Github documents are one text: exact duplicates count every document too
    dups = audit.duplicates.filter(pl.col("subset") == "Github").row(0, named=True)
    assert (dups["documents"], dups["duplicate_documents"]) == (2, 1)
    # with a limit, the streamed composition stops at the same first rows
    limited = audit_pile(data, sample_per_subset=1, limit=5)
    assert dict(limited.composition.select("subset", "documents").iter_rows())["ArXiv"] == 5
    assert limited.duplicates["documents"].sum() == 5


def test_strict_mode_fails_with_one_line_naming_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "a", "meta": {"pile_set_name": "ArXiv"}}\n{broken\n')
    code, _, err = _run(str(data), "--strict", "--out", str(tmp_path / "out"))
    assert code == 2
    last = err.strip().splitlines()[-1]  # above it only the reader's progress bar
    assert last.startswith("segpile-lab pile audit: error: ") and "bad.jsonl, line 2" in last
    assert "Traceback" not in err
    # lenient (default) mode skips and counts the same line
    code, out, _ = _run(str(data), "--out", str(tmp_path / "out"))
    assert code == 0 and "skipped 1 × malformed_json" in out


def test_missing_path_is_a_one_line_error(tmp_path: Path) -> None:
    code, _, err = _run(str(tmp_path / "nope.jsonl.zst"), "--out", str(tmp_path / "out"))
    assert code == 2 and "nope.jsonl.zst" in err


@pytest.mark.shared
def test_tokenizer_adds_bytes_per_token(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # room for the last column
    data = shared_data / "pile" / "val_first10.jsonl"
    tokenizer = shared_data / "tokenizers" / "gpt2-tokenizer.json"
    code, out, _ = _run(str(data), "--tokenizer", str(tokenizer), "--out", str(tmp_path))
    assert code == 0 and " B/token " in out
    table = pl.read_csv(tmp_path / "composition.csv").drop_nulls("bytes_per_token")
    assert set(table["subset"]) == {"PubMed Abstracts", "OpenWebText2", "StackExchange", "Github"}
    assert (table["bytes_per_token"] > 1).all()


def test_other_domains_can_add_pile_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = types.ModuleType("fake_pile_plugin")

    def register_pile_command(pile_subparsers) -> None:
        pile_subparsers.add_parser("hello").set_defaults(func=lambda args: 7)

    plugin.register_pile_command = register_pile_command
    monkeypatch.setitem(sys.modules, "fake_pile_plugin", plugin)
    monkeypatch.setattr(pile_cli, "PILE_COMMAND_MODULES", ["fake_pile_plugin"])
    args = build_parser().parse_args(["pile", "hello"])
    assert args.func(args) == 7


def test_audit_pile_summary_is_json_and_table_has_one_row_per_subset(demo_path: Path) -> None:
    audit = audit_pile(demo_path, sample_per_subset=3, near_duplicate_sample=3)
    assert audit.synthetic and audit.label == "synthetic demo data"
    assert audit.table().height == 22
    assert audit.frame["subset"].value_counts()["count"].max() == 3
    counted = audit.composition["documents"]
    assert counted.min() >= 2 and counted.max() > 100  # every document counted, not 3 each
    json.dumps(audit.summary(), allow_nan=False)  # no NaN leaks into the JSON


@pytest.mark.parametrize("extra", [[], ["--sample-per-subset", "3"]])
def test_empty_file_gives_an_audit_of_nothing_without_crashing(tmp_path: Path, extra) -> None:
    data = tmp_path / "empty.jsonl"
    data.write_text("")
    code, out, _ = _run(str(data), *extra, "--out", str(tmp_path / "out"))
    assert code == 0 and "0 rows read" in out
    table = pl.read_csv(tmp_path / "out" / "composition.csv")
    assert table.height == 22 and (table["documents"] == 0).all()
    assert table["note"].str.contains("no documents").all()
    assert all((tmp_path / "out" / f"{name}.png").is_file() for name in FIGURES)


def test_missing_tokenizer_fails_before_reading(tmp_path: Path) -> None:
    code, out, err = _run("--tokenizer", str(tmp_path / "nope.json"), "--out", str(tmp_path))
    assert code == 2 and "nope.json: tokenizer file not found" in err
    assert "reading Pile" not in err and out == ""


def test_out_that_is_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    data = _write_jsonl(tmp_path / "p.jsonl", [("ArXiv", "a paper")])
    (tmp_path / "taken").write_text("x")
    code, _, err = _run(str(data), "--out", str(tmp_path / "taken"))
    assert code == 2 and "taken: exists and is not a folder" in err


def test_out_that_is_a_file_fails_before_any_reading(tmp_path: Path, monkeypatch) -> None:
    from segpile_lab.pile import audit

    (tmp_path / "taken").write_text("x")
    monkeypatch.setattr(audit, "audit_pile", lambda *a, **k: pytest.fail("the audit ran"))
    code, _, err = _run("--out", str(tmp_path / "taken"))
    assert code == 2 and "exists and is not a folder" in err


def test_limit_with_engine_ray_is_a_usage_error_before_any_reading(tmp_path, monkeypatch):
    from segpile_lab.pile import audit

    monkeypatch.setattr(audit, "audit_pile", lambda *a, **k: pytest.fail("the audit ran"))
    code, _, err = _run("--limit", "5", "--engine", "ray", "--out", str(tmp_path / "o"))
    assert code == 2 and "--limit" in err and "--sample-per-subset" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("columns", [60, 100, 250])
def test_printed_table_fits_the_terminal_and_files_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    data = _write_jsonl(tmp_path / "p.jsonl", [("ArXiv", "a b c " * 50), ("Github", "x = 1")] * 3)
    code, out, _ = _run(str(data), "--out", str(tmp_path / "out"))
    assert code == 0
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("subset "))
    table = lines[start : start + 23]  # header + 22 subsets
    assert all(len(line) <= columns for line in table), max(map(len, table))
    assert ("not shown at this width" in out) == (columns < 250)
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert f"wrote {len(files)} files to {tmp_path / 'out'}: " in out
    assert "plotly.min.js" in files and lines[-1].endswith("plotly.min.js")


def test_csv_and_json_hold_no_internal_join_columns(tmp_path: Path) -> None:
    data = _write_jsonl(tmp_path / "p.jsonl", [("ArXiv", "mail a@b.example"), ("Github", "x")])
    assert _run(str(data), "--out", str(tmp_path / "out"))[0] == 0
    header = pl.read_csv(tmp_path / "out" / "composition.csv").columns
    assert not [c for c in header if c.endswith("_right") or c.startswith("_")]
    assert len(header) == len(set(header)) and "synthetic_documents" in header
    rows = json.loads((tmp_path / "out" / "composition.json").read_text())["subsets"]
    assert list(rows[0]) == header
