"""A Jupyter kernel that started local Ray exits when asked, without a signal or a stack dump."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_kernel_with_local_ray_exits_on_its_shutdown_request(tmp_path: Path) -> None:
    # ipykernel kills its child processes (Ray's GCS, raylet) before Python's exit handlers run
    # ray.shutdown, which then waited for them until the kernel was sent SIGTERM, and Ray
    # printed "*** SIGTERM received ..." with a stack dump on the report's terminal
    from jupyter_client.manager import KernelManager

    log = tmp_path / "kernel.log"
    manager = KernelManager(kernel_name="python3")
    with log.open("wb") as output:
        manager.start_kernel(stdout=output, stderr=output, cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(
            "import segpile_lab as sl\nworkers = sl.connect_ray()", timeout=180
        )
        assert reply["content"]["status"] == "ok"
        manager.request_shutdown()
        deadline = time.monotonic() + 30
        while manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        exited = not manager.is_alive()
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert exited, "the kernel was still stopping Ray 30 s after its shutdown request"
    assert "SIGTERM" not in log.read_text(errors="replace")
