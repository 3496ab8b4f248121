"""Run one notebook headless with nbclient, in report mode, and say which cell failed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

# Report mode (ARCHITECTURE.md, Report): no tqdm widgets, plotly.js inlined
# into the page instead of the plotly mimetype that nbconvert drops, inline PNGs for matplotlib.
REPORT_ENV = {
    "TQDM_DISABLE": "1",
    "PLOTLY_RENDERER": "notebook",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}
KERNEL_NAME = "python3"
# warnings as styled notes in the page, not stderr with temporary paths (report/kernel.py)
KERNEL_ARGUMENTS = ["--IPKernelApp.extensions=segpile_lab.report.kernel"]
# Unix sockets where available: no TCP port opened, no "unencrypted TCP" warning per kernel.
_USE_IPC = os.name == "posix"
# what the kernel process writes outside a cell (its start-up, its exit, native libraries such as
# Ray's) goes to this file in the working folder, not to the terminal of `segpile-lab report`
KERNEL_LOG = "kernel.log"
# seconds a kernel has to exit after the shutdown request (half of it) before SIGTERM: a kernel
# that ran local Ray stops it first (distributed/_ray.py), which takes a few seconds
SHUTDOWN_WAIT_S = 20.0


@dataclass(frozen=True)
class CellFailure(Exception):
    """Execution stopped at `cell_index` (in the executed notebook; None: outside any cell)."""

    cell_index: int | None
    reason: str

    def __str__(self) -> str:
        return self.reason


def execute_notebook(nb: nbformat.NotebookNode, *, workdir: Path, timeout: float) -> None:
    """Execute `nb` in place (outputs added) with `workdir` as the kernel's working directory.

    `timeout` is per cell, in seconds. Widget state is not stored: exported pages then fall
    back to each widget's PNG/HTML representation instead of loading a renderer from a CDN.
    The kernel process's own stdout and stderr go to `KERNEL_LOG` in `workdir`; its last lines
    join the reason when the kernel died or could not start.

    Raises:
        CellFailure: a cell raised, timed out or the kernel died; names the cell index.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from traitlets.config import Config

    nb.metadata.pop("widgets", None)
    started: list[int] = []
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        extra_arguments=KERNEL_ARGUMENTS,
        store_widget_state=False,
        resources={"metadata": {"path": str(workdir)}},
        on_cell_start=lambda cell, cell_index: started.append(cell_index),
        config=Config(_kernel_manager_config(workdir)),
    )

    def current() -> int | None:
        return started[-1] if started else None

    log = workdir / KERNEL_LOG
    try:
        with log.open("wb") as kernel_output:
            client.execute(
                env={**os.environ, **REPORT_ENV}, stdout=kernel_output, stderr=kernel_output
            )
    except CellExecutionError as exc:
        raise CellFailure(current(), f"{exc.ename}: {exc.evalue}") from None
    except CellTimeoutError:
        reason = f"the cell ran longer than the {timeout:g} s limit (see --timeout)"
        raise CellFailure(current(), reason) from None
    except DeadKernelError:
        reason = "the kernel died (out of memory or a crash)"
        raise CellFailure(current(), reason + _last_lines(log)) from None
    except Exception as exc:  # a kernel that cannot start: name it, no deep traceback
        raise CellFailure(current(), f"{type(exc).__name__}: {exc}{_last_lines(log)}") from None


def _last_lines(log: Path, count: int = 3) -> str:
    """``"; kernel output: …"`` with the last `count` non-blank lines of `log`, or ``""``."""
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return f"; kernel output: {' | '.join(lines[-count:])}" if lines else ""


def _kernel_manager_config(workdir: Path) -> dict[str, dict[str, Any]]:
    config: dict[str, Any] = {"shutdown_wait_time": SHUTDOWN_WAIT_S}
    if _USE_IPC:
        # an absolute socket path: kernel (cwd = workdir) and client must agree on it
        config.update(transport="ipc", ip=str(workdir / "kernel"))
    return {"KernelManager": config}
