"""The driver loop shared by the distributed audit and BPB: skip, submit, merge, report.

Workers store their units in the run folder themselves (`FolderHandle.keep`) and return None;
a worker that cannot see the folder returns its result and the driver stores it. The driver
then hands `on_result` the stored unit (`Stored`), which reads only the frames it is asked for.

Memory on the driver: the units' descriptions, at most one result a worker could not store on
top of what the caller's `on_result` keeps, and Ray's references to the units in flight.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from segpile_lab._progress import progress_bar
from segpile_lab.distributed.run_folder import Encoded, FolderHandle, RunFolder, Stored, Unit
from segpile_lab.errors import EngineError, SegpileError

__all__ = ["RunSummary", "compute_and_keep", "compute_timed", "run_units"]

#: Retries of a unit whose worker process died (killed, out of memory, node lost); an exception
#: raised by the unit's own code is not retried (it would fail the same way again).
MAX_RETRIES = 3
COMPUTE_SECONDS = "compute_seconds"  # a unit's own seconds, in its stored meta


@dataclass
class RunSummary:
    """What a run on Ray did: units in all, loaded from the run folder (`skipped`), computed
    now, and how many stored units were invalid (changed input or parameters) and ran again.

    `compute_seconds` is the time the workers spent computing the units computed now, summed
    over units: without starting processes, loading a model, scheduling or the driver's merge.
    The bytes those units hold over it is one worker's working rate (what a projection of a
    larger run needs; a short run's wall time is mostly start-up).
    """

    units: int
    skipped: int
    computed: int
    invalidated: int
    compute_seconds: float = 0.0


#: (unit, handle, slot) -> the reference of a task that computes the unit and returns
#: ``handle.keep(unit, result)``
Submit = Callable[[Unit, FolderHandle, int], Any]


def compute_timed(compute: Callable[[Any], Encoded], payload: Any) -> Encoded:
    """``compute(payload)``, its own seconds recorded in the result's meta (`RunSummary`'s
    ``compute_seconds`` adds them up)."""
    start = time.perf_counter()
    result = compute(payload)
    result.meta[COMPUTE_SECONDS] = time.perf_counter() - start
    return result


def compute_and_keep(
    compute: Callable[[Any], Encoded], unit: Unit, handle: FolderHandle
) -> Encoded | None:
    """A unit's Ray task: ``compute(unit.payload)``, timed, stored by this worker when it sees
    the run folder (returns None), else returned for the driver to store."""
    return handle.keep(unit, compute_timed(compute, unit.payload))


def run_units(
    units: Sequence[Unit],
    submit: Submit,
    *,
    folder: RunFolder,
    on_result: Callable[[int, Stored], None],
    slots: int,
    desc: str,
    progress: bool | None = None,
    actor_tasks: bool = False,
) -> RunSummary:
    """Run `units` on Ray, at most `slots` at once; `on_result(index, stored)` sees each unit
    once, from `folder`: stored ones first (in unit order), then computed ones as they finish.

    `submit(unit, handle, slot)` starts one unit and returns its Ray reference; the task
    returns ``handle.keep(unit, result)`` (None when it stored the unit itself). Ctrl-C (or any
    error) cancels what is still running; every unit stored before stays for the next run.
    With `actor_tasks` (the references are actor method calls, which Ray cannot force-cancel)
    the queued calls are cancelled and the caller kills its actors to stop the running ones.

    Raises:
        The `SegpileError` a unit raised (e.g. a damaged shard in strict mode), unwrapped.
        EngineError: a unit failed with another error (chained), Ray lost it, or a worker
            stored it where the driver cannot read it.
    """
    from segpile_lab.distributed._ray import require_ray

    ray = require_ray()
    handle = folder.handle()
    todo, skipped, invalidated = [], 0, 0
    for index, unit in enumerate(units):
        status = folder.status(unit)
        if status == "done":
            on_result(index, folder.load(unit))
            skipped += 1
        else:
            invalidated += status == "stale"
            todo.append(index)
    if skipped or invalidated:
        print(
            f"{desc}: {skipped} of {len(units)} units already complete in {folder.path}, "
            f"skipped; {invalidated} stored units were stale (input or parameters changed) "
            "and run again",
            file=sys.stderr,
        )
    total = sum(units[i].size for i in todo)
    pending: dict[Any, tuple[int, int]] = {}  # ref -> (unit index, slot)
    queue = list(reversed(todo))
    free = list(range(slots))
    done, compute_seconds = 0, 0.0
    with progress_bar(total=total, unit="B", unit_scale=True, desc=desc, progress=progress) as bar:
        bar.set_postfix_str(f"0/{len(todo)} units")
        try:
            while queue or pending:
                while queue and free:
                    index, slot = queue.pop(), free.pop()
                    pending[submit(units[index], handle, slot)] = (index, slot)
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                for ref in ready:
                    index, slot = pending.pop(ref)
                    free.append(slot)
                    unit = units[index]
                    result = _fetch(ray, ref, unit)
                    if result is not None:  # the worker did not see the run folder
                        folder.save(unit, result)
                    elif folder.status(unit) != "done":
                        raise EngineError(
                            f"unit {unit.key} was stored by its worker, but not in the run "
                            f"folder this driver reads ({folder.path}): is it on storage that "
                            "the driver and every worker share?"
                        )
                    stored = folder.load(unit)
                    compute_seconds += stored.meta.get(COMPUTE_SECONDS, 0.0)
                    on_result(index, stored)
                    done += 1
                    bar.update(units[index].size)
                    bar.set_postfix_str(f"{done}/{len(todo)} units")
        except BaseException as exc:
            for ref in pending:
                ray.cancel(ref, force=not actor_tasks)
            if isinstance(exc, KeyboardInterrupt):
                print(
                    f"\n{desc}: interrupted; {skipped + done} of {len(units)} units are complete "
                    f"in {folder.path}: run again with the same run folder to resume",
                    file=sys.stderr,
                )
            raise
    return RunSummary(len(units), skipped, done, invalidated, compute_seconds)


def _fetch(ray: Any, ref: Any, unit: Unit) -> Encoded | None:
    """What the unit's task returned (None: it stored the unit); a `SegpileError` raised inside
    it comes out as itself."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, SegpileError):
            raise exc.cause from None
        raise EngineError(f"unit {unit.key} failed on Ray: {exc.cause!r}") from exc
    except ray.exceptions.RayError as exc:
        raise EngineError(
            f"unit {unit.key} failed on Ray after {MAX_RETRIES} retries: {exc}"
        ) from exc
