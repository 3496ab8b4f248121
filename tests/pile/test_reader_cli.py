"""``segpile-lab pile verify`` and ``pile read``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pile_io import doc, write

from segpile_lab.cli import main
from segpile_lab.errors import DamagedFileWarning


def _folder(tmp_path: Path) -> Path:
    path = write(tmp_path / "val.jsonl.zst", [doc("a"), b"{bad", doc("b", "pile_arxiv")])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "SHA256SUMS.txt").write_text(f"{digest}  val.jsonl.zst\n")
    return tmp_path


def test_pile_verify_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pile", "verify", str(_folder(tmp_path))]) == 0
    assert "1 file(s) match" in capsys.readouterr().out


def test_pile_verify_mismatch_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path)
    write(folder / "val.jsonl.zst", [doc("changed")])
    assert main(["pile", "verify", str(folder)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "val.jsonl.zst: sha256" in errors[0]


def test_pile_read_prints_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path)
    assert main(["pile", "read", str(folder / "val.jsonl.zst"), "--verify"]) == 0
    out = capsys.readouterr().out
    assert "2 rows read" in out and "skipped 1 × malformed_json" in out
    assert "fixed 1 × subset_alias" in out


def test_pile_read_strict_fails_with_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path)
    assert main(["pile", "read", str(folder / "val.jsonl.zst"), "--strict"]) == 2
    assert "line 2" in capsys.readouterr().err


def test_pile_read_truncated_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "cut.jsonl.zst", [doc(f"d{i}") for i in range(100)])
    path.write_bytes(path.read_bytes()[:-5])
    assert main(["pile", "read", str(path)]) == 2
    err = capsys.readouterr().err
    assert "ends inside a zstd frame" in err and "Traceback" not in err


def test_pile_read_max_line_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "long.jsonl.zst", [doc("a"), doc("x" * 500), doc("b")])
    assert main(["pile", "read", str(path), "--max-line-bytes", "100"]) == 0
    out = capsys.readouterr().out
    assert "2 rows read" in out and "skipped 1 × line_too_long" in out
    assert main(["pile", "read", str(path), "--max-line-bytes", "0"]) == 2


def test_pile_read_exit_1_when_an_entry_was_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path)
    (folder / "gone.jsonl.zst").symlink_to(folder / "annex-object-never-fetched")
    with pytest.warns(DamagedFileWarning, match="dangling link"):
        assert main(["pile", "read", str(folder)]) == 1
    captured = capsys.readouterr()
    assert "NOT READ" in captured.out and "dangling link" in captured.out
    assert "Traceback" not in captured.err


def test_pile_read_zstd_dict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import zstandard

    dictionary = zstandard.train_dictionary(4096, [doc(f"s {i} " * 4) for i in range(1000)])
    path = tmp_path / "d.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor(dict_data=dictionary).compress(doc("x") + b"\n"))
    (tmp_path / "pile.dict").write_bytes(dictionary.as_bytes())
    assert main(["pile", "read", str(path)]) == 2
    assert "pass that dictionary as zstd_dict=" in capsys.readouterr().err
    assert main(["pile", "read", str(path), "--zstd-dict", str(tmp_path / "pile.dict")]) == 0
    assert "1 rows read" in capsys.readouterr().out
    assert main(["pile", "read", str(path), "--zstd-dict", str(tmp_path / "missing")]) == 2
