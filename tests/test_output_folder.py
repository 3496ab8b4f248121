"""An output folder that is a file: the same error, raised before anything is written, by
every writer of the library (`segpile_lab._output.output_folder`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from segpile_lab._output import output_folder

MESSAGE = "exists and is not a folder"


def _audit_write(out: Path) -> Any:
    import json

    from segpile_lab.pile.audit import audit_pile

    shard = out.parent.parent / "shard.jsonl"
    rows = [{"text": "a paper", "meta": {"pile_set_name": "ArXiv"}}] * 2
    shard.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return audit_pile(shard, progress=False).write(out)


def _contamination_write(out: Path) -> Any:
    from segpile_lab.pile.contamination import contamination

    frame = pl.DataFrame({"subset": ["ArXiv"], "text": ["one two three four"]})
    return contamination(frame, ["one two three four"], n=2, progress=False).write(out)


def _bpb_write(out: Path) -> Any:
    from segpile_lab.bpb.evaluate import evaluate_bpb
    from segpile_lab.bpb.zstd_scorer import ZstdScorer

    frame = pl.DataFrame({"subset": ["ArXiv", "Github"], "text": ["a paper " * 9, "code " * 9]})
    return evaluate_bpb(frame, ZstdScorer(3), bootstrap=0, progress=False).write(out)


def _report_build(out: Path) -> Any:
    from segpile_lab.report.runner import build_report

    return build_report(out, notebooks=[], progress=False)


WRITERS: dict[str, Callable[[Path], Any]] = {
    "PileAudit.write": _audit_write,
    "ContaminationReport.write": _contamination_write,
    "BPBResult.write": _bpb_write,
    "build_report": _report_build,
}


@pytest.mark.parametrize("write", WRITERS.values(), ids=WRITERS.keys())
def test_a_file_as_output_folder_is_one_error_everywhere(tmp_path: Path, write) -> None:
    (tmp_path / "outs").mkdir()
    taken = tmp_path / "outs" / "taken"
    taken.write_text("keep me")
    with pytest.raises(NotADirectoryError, match=f"taken: {MESSAGE}"):
        write(taken)
    assert taken.read_text() == "keep me" and list(taken.parent.iterdir()) == [taken]


def test_a_file_on_the_way_is_the_same_class(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    with pytest.raises(NotADirectoryError):
        output_folder(tmp_path / "taken" / "sub")


def test_the_folder_is_created_unless_asked_not_to(tmp_path: Path) -> None:
    assert output_folder(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()
    assert output_folder(tmp_path / "c", create=False) == tmp_path / "c"
    assert not (tmp_path / "c").exists()
    assert output_folder(tmp_path / "a" / "b").is_dir()  # an existing folder is fine
