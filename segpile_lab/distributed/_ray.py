"""Ray, imported lazily: the typed error when it is missing, and connecting to an instance."""

from __future__ import annotations

import logging
from typing import Any

from segpile_lab._cpus import thread_env
from segpile_lab._progress import bars_disabled
from segpile_lab.errors import MissingExtraError

ENGINES = (None, "ray")


def check_engine(engine: str | None) -> None:
    """`ValueError` unless `engine` is None (in-process) or ``"ray"``."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be None (in-process) or 'ray', got {engine!r}")


def require_ray() -> Any:
    """The `ray` module, or `MissingExtraError` naming the extra that installs it."""
    try:
        import ray
    except ImportError as exc:
        raise MissingExtraError(
            "engine='ray' needs Ray: pip install 'segpile-lab[ray]' "
            f"(or pip install 'ray[default]'); import failed: {exc}"
        ) from None
    return ray


def connect(address: str | None) -> Any:
    """Connect to Ray once per process and return the module.

    `address`: None starts (or reuses) a local instance with every CPU of this machine;
    ``"auto"`` joins the cluster this machine belongs to (``ray start --head`` ran here);
    ``"ray://host:10001"`` or ``"host:6379"`` joins that cluster. An instance this process
    already joined (e.g. ``ray.init(num_cpus=2)`` in a notebook) is reused whatever `address`
    says. The dashboard address is printed when the instance has one. Inside a Jupyter kernel,
    Ray stops when the kernel is asked to shut down (`_stop_with_kernel`).
    """
    ray = require_ray()
    if ray.is_initialized():
        return ray
    for attempt in range(3):  # a busy machine can miss Ray's 30 s deadline for its node
        try:
            context = ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
            break
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise
    _stop_with_kernel(ray)
    announce_dashboard(context)
    return ray


def announce_dashboard(context: Any) -> None:
    """Print the address of the dashboard of a Ray that `ray.init` returned as `context`, if
    it has one: a live link, like a progress bar, so hidden where bars are (report mode, whose
    pages are read after Ray has stopped)."""
    url = getattr(context, "dashboard_url", None)
    if url and not bars_disabled():
        print(f"Ray dashboard: http://{url}")


def _stop_with_kernel(ray: Any) -> None:
    """Shut Ray down first when this process's IPython kernel gets its shutdown request.

    ipykernel terminates its child processes (a local Ray's GCS and raylet among them) before
    Python's exit handlers run, so Ray's own exit handler then waits for processes that are
    gone until the kernel is sent SIGTERM, and Ray's signal handler prints a stack dump on the
    terminal of whoever started the kernel (``segpile-lab report``, ``jupyter lab``).
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    kernel = getattr(get_ipython(), "kernel", None)
    if kernel is None or getattr(kernel, "_segpile_stops_ray", False):
        return
    shutdown = kernel.do_shutdown

    def do_shutdown(restart: bool) -> Any:
        if ray.is_initialized():
            ray.shutdown()
        return shutdown(restart)

    kernel.do_shutdown = do_shutdown
    kernel._segpile_stops_ray = True


def worker_options(num_cpus: int = 1, **options: Any) -> dict[str, Any]:
    """Ray ``.options()`` for a task or actor granted `num_cpus` CPUs: the grant, and the
    environment (`thread_env`) that sizes its Polars, torch, OpenMP and reader threads to it;
    `options` (``num_gpus``, retries) join them. The worker calls `apply_cpu_budget` as it
    starts work."""
    return {"num_cpus": num_cpus, "runtime_env": {"env_vars": thread_env(num_cpus)}, **options}


def cluster_slots(ray: Any, resource: str) -> int:
    """How many units of `resource` (``"CPU"``, ``"GPU"``) the cluster has, at least 1."""
    return max(1, int(ray.cluster_resources().get(resource, 0)))


def connect_ray(address: str | None = None) -> int:
    """Start (or join, see `connect`) Ray now, so that a timed run does not include its
    start-up; returns the cluster's CPU count."""
    return cluster_slots(connect(address), "CPU")
