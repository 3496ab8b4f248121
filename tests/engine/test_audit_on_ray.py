"""The Pile audit on Ray: the same result as in-process, resumable, and robust to faults."""

from __future__ import annotations

import _thread
import sys
import threading
import time
from pathlib import Path

import engine_helpers
import pytest
import ray.cloudpickle
from engine_helpers import assert_same_audit

import segpile_lab as sl
from segpile_lab.distributed.audit import AuditMerge, audit_unit, audit_units
from segpile_lab.distributed.engine import compute_and_keep, run_units
from segpile_lab.distributed.run_folder import FolderHandle, RunFolder
from segpile_lab.pile.load_report import LoadReport
from segpile_lab.pile.reader import expand_paths

pytestmark = pytest.mark.usefixtures("ray_session")
ray.cloudpickle.register_pickle_by_value(engine_helpers)  # workers cannot import tests/


@pytest.mark.parametrize("sample", [None, 2])
def test_ray_audit_equals_in_process(shards: Path, tmp_path: Path, sample: int | None) -> None:
    local = sl.audit_pile(shards, sample_per_subset=sample, progress=False)
    on_ray = sl.audit_pile(
        shards, sample_per_subset=sample, engine="ray", run_dir=tmp_path / "run", progress=False
    )
    assert_same_audit(local, on_ray)
    # the merge had something to do: duplicates across shards, skipped lines named
    assert local.duplicates["duplicate_documents"].sum() > 0
    report = on_ray.load_report
    assert len(report.files) == 5 and report.skipped["malformed_json"] == 1
    assert any(e.source == "04.jsonl.zst" and e.line == 1 for e in report.examples)
    assert local.ray_run is None
    run = on_ray.ray_run  # one unit per shard, each timed by its worker
    assert run is not None and (run.units, run.computed) == (5, 5) and run.compute_seconds > 0


def test_rerun_skips_completed_units_and_redoes_changed_ones(
    shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    sl.audit_pile(shards, sample_per_subset=3, engine="ray", run_dir=run, progress=False)
    again = sl.audit_pile(shards, sample_per_subset=3, engine="ray", run_dir=run, progress=False)
    assert "5 of 5 units already complete" in capsys.readouterr().err
    assert_same_audit(sl.audit_pile(shards, sample_per_subset=3, progress=False), again)

    changed = shards / "02.jsonl.zst"
    changed.write_bytes((shards / "00.jsonl.zst").read_bytes())  # new content, new mtime
    rerun = sl.audit_pile(shards, sample_per_subset=3, engine="ray", run_dir=run, progress=False)
    err = capsys.readouterr().err
    assert "4 of 5 units already complete" in err and "1 stored units were stale" in err
    assert rerun.ray_run == sl.RunSummary(5, 4, 1, 1, rerun.ray_run.compute_seconds)
    assert_same_audit(sl.audit_pile(shards, sample_per_subset=3, progress=False), rerun)
    assert not list((run / "units").glob(".*"))  # the replaced unit left nothing behind

    sl.audit_pile(shards, sample_per_subset=3, seed=1, engine="ray", run_dir=run, progress=False)
    assert "5 stored units were stale" in capsys.readouterr().err  # another seed: all redone


@pytest.mark.slow
def test_a_worker_killed_while_storing_its_unit_is_retried_and_nothing_counts_twice(
    shards: Path, tmp_path: Path
) -> None:
    files = expand_paths(shards).files
    params = {"sample_per_subset": 3, "seed": 0, "strict": False}
    units = audit_units(files, params)
    merge = AuditMerge(len(units), 3, 0)
    (tmp_path / "marks").mkdir()
    task = ray.remote(engine_helpers.dies_while_storing).options(max_retries=3)
    folder = RunFolder(tmp_path / "run")
    summary = run_units(
        units,
        lambda unit, handle, _slot: task.remote(unit, handle, str(tmp_path / "marks")),
        folder=folder,
        on_result=merge.add,
        slots=2,
        desc="test",
        progress=False,
    )
    assert len(list((tmp_path / "marks").iterdir())) == len(units)  # each worker died once
    assert summary.computed == len(units)
    # each death left a half-written temporary folder, never a unit under its final name
    assert len(list(folder.units.glob(".tmp-*"))) == len(units)
    assert all(folder.status(unit) == "done" for unit in units)
    df, report = merge.result(LoadReport(sample_per_subset=3))
    local_df, local_report = sl.read_pile(
        shards, sample_per_subset=3, with_report=True, progress=False
    )
    assert df.equals(local_df) and report.to_dict() == local_report.to_dict()
    assert merge.stats.to_frame().equals(sl.composition(sl.read_pile(shards, progress=False)))

    # the next run resumes from the stored units and clears what the dead workers left
    again = AuditMerge(len(units), 3, 0)
    summary = run_units(units, lambda u, h, _s: task.remote(u, h, str(tmp_path / "marks")),
                        folder=folder, on_result=again.add, slots=2, desc="test",
                        progress=False)  # fmt: skip
    assert (summary.skipped, summary.computed) == (len(units), 0)
    assert not list(folder.units.glob(".tmp-*"))
    assert again.result(LoadReport())[0].equals(local_df)


def test_a_worker_that_cannot_see_the_run_folder_returns_its_unit_to_the_driver(
    shards: Path, tmp_path: Path
) -> None:
    """On a cluster without shared storage the driver stores the units (same result)."""
    units = audit_units(expand_paths(shards).files, {"sample_per_subset": 2, "seed": 0,
                                                     "strict": False})  # fmt: skip
    folder = RunFolder(tmp_path / "run")
    task = ray.remote(compute_and_keep)
    returned = []

    def submit(unit: object, handle: FolderHandle, _slot: int) -> object:
        elsewhere = FolderHandle(handle.path, "another driver's token")  # not visible
        ref = task.remote(audit_unit, unit, elsewhere)
        returned.append(ref)
        return ref

    merge = AuditMerge(len(units), 2, 0)
    run_units(units, submit, folder=folder, on_result=merge.add, slots=2, desc="test",
              progress=False)  # fmt: skip
    assert all(result is not None for result in ray.get(returned))  # the workers stored nothing
    assert all(folder.status(unit) == "done" for unit in units)  # the driver did
    assert merge.result(LoadReport())[0].equals(
        sl.read_pile(shards, sample_per_subset=2, progress=False)
    )


@pytest.mark.slow
def test_damaged_shard_lenient_is_counted_strict_fails_naming_it(
    shards: Path, tmp_path: Path
) -> None:
    engine_helpers.corrupt_shard(shards / "01.jsonl.zst")
    with pytest.warns(sl.DamagedFileWarning, match=r"01\.jsonl\.zst"):
        local = sl.audit_pile(shards, progress=False)
    with pytest.warns(sl.DamagedFileWarning, match="01.jsonl.zst.*kept the"):
        on_ray = sl.audit_pile(shards, engine="ray", run_dir=tmp_path / "lenient", progress=False)
    assert_same_audit(local, on_ray)
    damaged = [f for f in on_ray.load_report.files if not f.ended_cleanly]
    assert [Path(f.path).name for f in damaged] == ["01.jsonl.zst"] and damaged[0].rows > 0

    run = tmp_path / "strict"
    with pytest.raises(sl.CorruptArchiveError, match=r"01\.jsonl\.zst"):
        sl.audit_pile(shards, strict=True, engine="ray", run_dir=run, progress=False)
    stored = [p.parent.name for p in run.glob("units/*/done.json")]
    assert not [name for name in stored if name.startswith("01.jsonl.zst")]  # others may stay


@pytest.mark.slow
def test_ctrl_c_stops_the_run_and_keeps_completed_units(shards: Path, tmp_path: Path) -> None:
    units = audit_units(expand_paths(shards).files, {"sample_per_subset": None, "seed": 0,
                                               "strict": False})  # fmt: skip
    folder = RunFolder(tmp_path / "run")
    task = ray.remote(engine_helpers.slow_after_first)

    def interrupt_after_first_unit() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and folder.status(units[0]) != "done":
            time.sleep(0.1)
        _thread.interrupt_main()  # what Ctrl-C (or a notebook's interrupt) does

    threading.Thread(target=interrupt_after_first_unit, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_units(units, lambda u, h, _s: task.remote(u, h), folder=folder,
                  on_result=lambda i, r: None, slots=2, desc="test", progress=False)  # fmt: skip
    assert time.monotonic() - started < 30  # the minute-long units were cancelled
    assert [folder.status(u) for u in units].count("done") == 1

    merge = AuditMerge(len(units), None, 0)
    summary = run_units(units, lambda u, h, _s: ray.remote(compute_and_keep).remote(
                            audit_unit, u, h), folder=folder, on_result=merge.add, slots=2,
                        desc="test", progress=False)  # fmt: skip
    assert (summary.skipped, summary.computed) == (1, len(units) - 1)
    assert merge.result(LoadReport())[0].equals(sl.read_pile(shards, progress=False))


def test_limit_is_refused_on_ray(shards: Path) -> None:
    with pytest.raises(ValueError, match="sample_per_subset"):  # a caller mistake
        sl.audit_pile(shards, limit=5, engine="ray", progress=False)


def test_without_ray_engine_ray_names_the_extra(
    shards: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails
    with pytest.raises(sl.MissingExtraError, match=r"segpile-lab\[ray\]"):
        sl.audit_pile(shards, engine="ray", progress=False)
    frame = sl.read_pile(shards, progress=False)
    with pytest.raises(sl.MissingExtraError, match=r"segpile-lab\[ray\]"):
        sl.evaluate_bpb(frame, sl.ZstdScorer(3), engine="ray", progress=False)
    with pytest.raises(ValueError, match="engine must be"):
        sl.audit_pile(shards, engine="spark", progress=False)
    # the in-process path does not import Ray
    assert "Martian Poetry" in sl.audit_pile(shards, progress=False).composition["subset"]
