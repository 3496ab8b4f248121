"""What connecting to Ray prints: the dashboard's address, except in report mode."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from segpile_lab.distributed._ray import announce_dashboard


def test_the_dashboard_address_is_printed_except_in_report_mode(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    context = SimpleNamespace(dashboard_url="127.0.0.1:8265")
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    announce_dashboard(context)
    assert capsys.readouterr().out == "Ray dashboard: http://127.0.0.1:8265\n"
    monkeypatch.setenv("TQDM_DISABLE", "1")  # report mode: a saved page cannot open it
    announce_dashboard(context)
    announce_dashboard(SimpleNamespace(dashboard_url=None))
    assert capsys.readouterr().out == ""
