"""Numbers in the README and ARCHITECTURE.md are the ones the benchmarks' JSON holds.

Every decimal speed, rate, ratio or share in the docs (``82.8 MB/s``, ``3.12×``, ``1.5 ms``,
``99.3 %``) must equal, at the precision shown, a value stored in ``benchmarks/results/*.json``.
Goals and bounds (``≥ 1.7×``, ``±1.09 %``, "target 100 MB/s") are not measurements and are
skipped. A benchmark rerun that changes a number, or a doc edited by hand, fails here until the
two agree again.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "ARCHITECTURE.md")
UNITS = r"MB/s|×|ms\b|images/s|documents/s|docs/s|tokens/s|%"
MEASURED = re.compile(
    rf"(?P<bound>[≥≤±<>~] ?|goal |targets? (?:of )?)?"
    rf"(?P<number>\d[\d,]*\.\d+) ?(?P<unit>{UNITS})"
)


def _numbers(value: object) -> list[float]:
    if isinstance(value, dict):
        return [n for item in value.values() for n in _numbers(item)]
    if isinstance(value, list):
        return [n for item in value for n in _numbers(item)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)]
    return []


def _measured() -> list[float]:
    files = sorted((ROOT / "benchmarks" / "results").glob("*.json"))
    assert files, "no benchmark results"
    return [n for path in files for n in _numbers(json.loads(path.read_text()))]


def _claims(doc: str) -> list[tuple[int, str, float, int]]:
    """``(line, text, value, decimals)`` for each decimal measurement written in `doc`."""
    claims = []
    for number, line in enumerate((ROOT / doc).read_text().splitlines(), 1):
        for match in MEASURED.finditer(line):
            if match["bound"]:
                continue
            digits = match["number"].replace(",", "")
            value = float(digits) / (100 if match["unit"] == "%" else 1)
            decimals = len(digits.split(".")[1]) + (2 if match["unit"] == "%" else 0)
            claims.append((number, match[0], value, decimals))
    return claims


@pytest.mark.parametrize("doc", DOCS)
def test_every_measured_number_in_the_docs_is_in_a_benchmark_json(doc: str) -> None:
    measured = _measured()
    claims = _claims(doc)
    assert claims, f"{doc}: no measured numbers found; the pattern no longer matches the docs"
    stale = [
        f"{doc}:{line}: {text}"
        for line, text, value, decimals in claims
        if not any(abs(round(m, decimals) - value) < 10 ** -(decimals + 3) for m in measured)
    ]
    assert not stale, "numbers that no benchmark JSON holds:\n" + "\n".join(stale)


def test_a_number_nothing_measured_is_caught(tmp_path: Path, monkeypatch) -> None:
    """The check itself: an invented speed fails, a goal does not."""
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "x.json").write_text('{"mb_per_s": 82.84}')
    (tmp_path / "README.md").write_text("runs at 82.8 MB/s (goal ≥ 100.0 MB/s), or 91.3 MB/s\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    claims = _claims("README.md")
    assert [text for _, text, _, _ in claims] == ["82.8 MB/s", "91.3 MB/s"]
    assert _measured() == [82.84]
