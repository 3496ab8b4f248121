"""How many CPUs this process may use, and the thread settings that follow from it.

One rule for every pool the lab starts: Polars' thread pool, torch's intra-op threads, the
OpenMP/BLAS pools and the Pile reader's background decompression thread all size themselves
from `cpu_budget()`. A Ray task or actor granted ``num_cpus=n`` gets the environment of
`thread_env(n)` (Polars reads ``POLARS_MAX_THREADS`` once, when it is imported, so it must be
in the worker's environment before that) and calls `apply_cpu_budget()` when it starts work
(torch's setting can change at any time). Without ``SEGPILE_CPUS`` the budget is every CPU of
the machine, the libraries' own defaults.
"""

from __future__ import annotations

import os
import sys

__all__ = ["CPU_BUDGET_VARIABLE", "apply_cpu_budget", "cpu_budget", "thread_env"]

CPU_BUDGET_VARIABLE = "SEGPILE_CPUS"


def cpu_budget() -> int:
    """CPUs this process may keep busy: ``SEGPILE_CPUS`` when set, else the machine's count."""
    value = os.environ.get(CPU_BUDGET_VARIABLE)
    return max(1, int(value)) if value else os.cpu_count() or 1


def thread_env(cpus: int) -> dict[str, str]:
    """Environment variables that size every thread pool of a process to `cpus` CPUs; give
    them to the process before it imports Polars, torch or NumPy (Ray: ``runtime_env``)."""
    n = str(max(1, int(cpus)))
    names = (CPU_BUDGET_VARIABLE, "POLARS_MAX_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS")  # fmt: skip
    return dict.fromkeys(names, n)


def apply_cpu_budget() -> int:
    """Set torch's intra-op threads to `cpu_budget()` when torch is loaded; returns the budget.

    Only with ``SEGPILE_CPUS`` set (a Ray worker, or a user limiting the lab): otherwise
    torch keeps the caller's setting."""
    budget = cpu_budget()
    torch = sys.modules.get("torch")
    if torch is not None and os.environ.get(CPU_BUDGET_VARIABLE):
        torch.set_num_threads(budget)
    return budget
