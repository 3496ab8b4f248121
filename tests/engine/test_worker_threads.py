"""A Ray worker sizes its thread pools to the CPUs Ray granted it (`segpile_lab._cpus`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from segpile_lab._cpus import CPU_BUDGET_VARIABLE
from segpile_lab.distributed._ray import worker_options
from segpile_lab.pile._background import prefetch


def threads_seen() -> dict[str, Any]:
    """What a worker's libraries use, after the worker applied its budget (as units do)."""
    import polars as pl
    import torch

    from segpile_lab._cpus import apply_cpu_budget

    apply_cpu_budget()
    return {
        "polars": pl.thread_pool_size(),
        "polars_env": os.environ.get("POLARS_MAX_THREADS"),
        "torch": torch.get_num_threads(),
        "omp_env": os.environ.get("OMP_NUM_THREADS"),
        "granted": int(__import__("ray").get_runtime_context().get_assigned_resources()["CPU"]),
    }


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize("cpus", [1, 2])
def test_a_ray_task_uses_the_cpus_it_was_granted(cpus: int) -> None:
    import ray

    task = ray.remote(threads_seen).options(**worker_options(cpus))
    seen = ray.get(task.remote())
    assert seen == {
        "polars": cpus, "polars_env": str(cpus), "torch": cpus, "omp_env": str(cpus),
        "granted": cpus,
    }  # fmt: skip


def test_worker_options_keep_the_callers_options() -> None:
    options = worker_options(1, num_gpus=1, max_retries=3)
    assert options["num_cpus"] == 1 and options["num_gpus"] == 1 and options["max_retries"] == 3
    assert options["runtime_env"]["env_vars"]["POLARS_MAX_THREADS"] == "1"


def producing_threads(monkeypatch: pytest.MonkeyPatch, cpus: str) -> set[str]:
    """Names of the threads that produced `prefetch`'s items under a budget of `cpus`."""
    monkeypatch.setenv(CPU_BUDGET_VARIABLE, cpus)
    names: set[str] = set()

    def items() -> Iterator[int]:
        for i in range(5):
            names.add(threading.current_thread().name)
            yield i

    assert list(prefetch(items)) == [0, 1, 2, 3, 4]
    return names


def test_the_reader_decompresses_in_its_own_thread_only_with_two_cpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert producing_threads(monkeypatch, "2") == {"segpile-prefetch"}
    assert producing_threads(monkeypatch, "1") == {threading.current_thread().name}
