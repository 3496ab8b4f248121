"""README's two set-up commands, and CI running the second one verbatim."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _setup_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_has_exactly_two_setup_commands():
    first, second = _setup_commands()
    assert first.endswith("&& segpile-lab report")
    assert second.endswith("&& scripts/check")


def test_ci_runs_readme_command_2_verbatim():
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert _setup_commands()[1] in ci_lines


def _run_check_in_a_copy(tmp_path: Path, test_source: str | None) -> subprocess.CompletedProcess:
    """Run a copy of scripts/check in a tiny project holding one test file (or none), which
    mypy checks as the repository's pyproject.toml has it check the package."""
    (tmp_path / "pyproject.toml").write_text('[tool.mypy]\nfiles = ["tests"]\n')
    (tmp_path / "scripts").mkdir()
    shutil.copy2(REPO / "scripts" / "check", tmp_path / "scripts" / "check")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").touch()  # something for mypy even without a test
    if test_source is not None:
        (tmp_path / "tests" / "test_it.py").write_text(test_source, encoding="utf-8")
    return subprocess.run(
        [str(tmp_path / "scripts" / "check"), "-p", "no:cacheprovider", "tests"],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("test_source", "status"),
    [
        ("def test_ok():\n    assert True\n", 0),
        ("def test_broken():\n    assert False\n", 1),
        (None, 5),  # nothing collected: must not pass
    ],
)
def test_check_script_exit_status(tmp_path, test_source, status):
    proc = _run_check_in_a_copy(tmp_path, test_source)
    assert proc.returncode == status, proc.stdout + proc.stderr
    if status == 5:
        assert "collected no tests; that is a failure" in proc.stderr


def test_check_script_fails_on_lint_errors(tmp_path):
    proc = _run_check_in_a_copy(tmp_path, "import os\n\ndef test_ok():\n    assert True\n")
    assert proc.returncode == 1
    assert "F401" in proc.stdout


def test_check_script_fails_on_type_errors(tmp_path):
    source = "def test_typed() -> None:\n    count: int = 'one'\n    assert count\n"
    proc = _run_check_in_a_copy(tmp_path, source)
    assert proc.returncode == 1
    assert "Incompatible types in assignment" in proc.stdout


def test_mypy_checks_the_package():
    """scripts/check's bare `mypy` reads its targets from pyproject.toml."""
    import tomllib

    with open(REPO / "pyproject.toml", "rb") as f:
        mypy = tomllib.load(f)["tool"]["mypy"]
    assert mypy["files"] == ["segpile_lab"]
    assert "python3 -m mypy\n" in (REPO / "scripts" / "check").read_text()


def _pytest_ini() -> dict:
    import tomllib

    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["pytest"]["ini_options"]


def test_every_test_folder_is_on_the_pytest_pythonpath():
    """Helper modules are imported by name: their folder must be on `pythonpath`."""
    folders = sorted(
        p.parent.relative_to(REPO).as_posix()
        for p in (REPO / "tests").glob("*/*.py")
        if "fixtures" not in p.parts
    )
    assert set(folders) <= set(_pytest_ini()["pythonpath"])
    assert "--import-mode=importlib" in _pytest_ini()["addopts"]


def test_helper_module_names_are_unique_across_test_folders():
    """Helpers share one sys.path (see pyproject's pythonpath); a second pile_io.py would shadow."""
    seen: dict[str, list[str]] = {}
    for path in sorted((REPO / "tests").glob("*/*.py")):
        if not path.name.startswith("test_") and path.name != "conftest.py":
            seen.setdefault(path.name, []).append(path.relative_to(REPO).as_posix())
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
