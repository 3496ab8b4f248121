"""``--engine ray`` on ``segpile-lab pile audit`` and ``pile bpb``: the same files, resumable."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from segpile_lab.cli import main

pytestmark = pytest.mark.usefixtures("ray_session")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["pile", *argv])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_audit_on_ray_writes_the_same_files_and_resumes(shards: Path, tmp_path: Path) -> None:
    common = [str(shards), "--sample-per-subset", "3"]
    assert run("audit", *common, "--out", str(tmp_path / "local"))[0] == 0
    code, _, _ = run("audit", *common, "--engine", "ray", "--out", str(tmp_path / "ray"))
    assert code == 0
    local, on_ray = (json.loads((tmp_path / d / "composition.json").read_text())
                     for d in ("local", "ray"))  # fmt: skip
    assert local == on_ray
    assert (tmp_path / "local" / "composition.csv").read_text() == (
        tmp_path / "ray" / "composition.csv"
    ).read_text()
    assert list((tmp_path / "ray" / "ray-run" / "units").glob("*/done.json"))  # default run dir
    code, _, err = run("audit", *common, "--engine", "ray", "--out", str(tmp_path / "ray"))
    assert code == 0 and "5 of 5 units already complete" in err


def test_bpb_on_ray_writes_the_same_tables(shards: Path, tmp_path: Path) -> None:
    common = [str(shards), "--sample-per-subset", "2", "--scorer", "zstd", "--bootstrap", "50"]
    assert run("bpb", *common, "--out", str(tmp_path / "local"))[0] == 0
    run_dir = tmp_path / "units"
    code, _, _ = run("bpb", *common, "--engine", "ray", "--run-dir", str(run_dir),
                     "--out", str(tmp_path / "ray"))  # fmt: skip
    assert code == 0 and list(run_dir.glob("units/*/done.json"))
    for name in ("subsets.csv", "documents.csv"):
        assert (tmp_path / "local" / name).read_text() == (tmp_path / "ray" / name).read_text()


def test_address_without_engine_is_a_usage_error(shards: Path, tmp_path: Path) -> None:
    code, _, err = run("audit", str(shards), "--address", "auto", "--out", str(tmp_path / "o"))
    assert code == 2 and "--engine ray" in err
