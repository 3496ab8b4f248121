"""The driver loop shared by the distributed audit and BPB: skip, submit, save, merge, report.

Memory on the driver: the units' descriptions, at most one fetched result at a time on top of
what the caller's `on_result` keeps, and Ray's references to the results still in flight.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from segpile_lab._progress import progress_bar
from segpile_lab.distributed.run_folder import Encoded, RunFolder, Unit
from segpile_lab.errors import EngineError, SegpileError

__all__ = ["RunSummary", "run_units"]

#: Retries of a unit whose worker process died (killed, out of memory, node lost); an exception
#: raised by the unit's own code is not retried (it would fail the same way again).
MAX_RETRIES = 3


@dataclass
class RunSummary:
    """What a run did: units in all, loaded from the run folder, computed now, and how many
    stored units were invalid (changed input or parameters) and ran again."""

    units: int
    skipped: int
    computed: int
    invalidated: int


Submit = Callable[[Any, int], Any]  # (payload, slot) -> ObjectRef


def run_units(
    units: Sequence[Unit],
    submit: Submit,
    *,
    folder: RunFolder,
    on_result: Callable[[int, Encoded], None],
    slots: int,
    desc: str,
    progress: bool | None = None,
) -> RunSummary:
    """Run `units` on Ray, at most `slots` at once; `on_result(index, result)` sees each result
    once, stored ones first (in unit order), then computed ones as they finish.

    `submit(payload, slot)` starts one unit and returns its Ray reference. A unit's result is
    saved in `folder` before `on_result` sees it. Ctrl-C (or any error) cancels what is still
    running; every unit finished before stays in `folder` for the next run.

    Raises:
        The `SegpileError` a unit raised (e.g. a damaged shard in strict mode), unwrapped.
        EngineError: a unit failed with another error (chained), or Ray lost it.
    """
    from segpile_lab.distributed._ray import require_ray

    ray = require_ray()
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
    done = 0
    with progress_bar(total=total, unit="B", unit_scale=True, desc=desc, progress=progress) as bar:
        bar.set_postfix_str(f"0/{len(todo)} units")
        try:
            while queue or pending:
                while queue and free:
                    index, slot = queue.pop(), free.pop()
                    pending[submit(units[index].payload, slot)] = (index, slot)
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                for ref in ready:
                    index, slot = pending.pop(ref)
                    free.append(slot)
                    result = _fetch(ray, ref, units[index])
                    folder.save(units[index], result)
                    on_result(index, result)
                    done += 1
                    bar.update(units[index].size)
                    bar.set_postfix_str(f"{done}/{len(todo)} units")
        except BaseException as exc:
            for ref in pending:
                ray.cancel(ref, force=True)
            if isinstance(exc, KeyboardInterrupt):
                print(
                    f"\n{desc}: interrupted; {skipped + done} of {len(units)} units are complete "
                    f"in {folder.path}: run again with the same run folder to resume",
                    file=sys.stderr,
                )
            raise
    return RunSummary(len(units), skipped, done, invalidated)


def _fetch(ray: Any, ref: Any, unit: Unit) -> Encoded:
    """The unit's result; a `SegpileError` raised inside it comes out as itself."""
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
