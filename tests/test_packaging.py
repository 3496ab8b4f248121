"""The wheel carries manifests, notebooks and templates; a non-editable install finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _files_under(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(REPO), "-w", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (path,) = out.glob("segpile_lab-*.whl")
    return path


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.parametrize(
    ("source", "packaged"),
    [
        ("data_manifests", "segpile_lab/data_manifests"),
        ("notebooks", "segpile_lab/notebooks"),
        ("segpile_lab/report/templates", "segpile_lab/report/templates"),
    ],
)
def test_wheel_contains_every_resource_file(wheel_names, source, packaged):
    files = _files_under(REPO / source)
    assert files, f"{source}/ is empty"
    missing = [f for f in files if f"{packaged}/{f}" not in wheel_names]
    assert missing == []


def test_wheel_contains_the_widgets_front_ends(wheel_names):
    """The widgets' JS and CSS live beside their Python modules and ship in the wheel."""
    for name in ("viewer.js", "viewer.css", "gallery.js", "gallery.css"):
        assert (REPO / "segpile_lab" / "viewer" / name).is_file()
        assert f"segpile_lab/viewer/{name}" in wheel_names


def test_wheel_is_marked_typed(wheel_names):
    """PEP 561: type checkers read the installed package's annotations."""
    assert "segpile_lab/py.typed" in wheel_names


def test_wheel_contains_the_notebooks(wheel_names):
    notebooks = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert notebooks, "no notebooks in notebooks/"
    packaged = sorted(
        Path(n).name
        for n in wheel_names
        if n.startswith("segpile_lab/notebooks/") and n.endswith(".ipynb")
    )
    assert packaged == notebooks


def test_wheel_declares_the_console_script(wheel, wheel_names):
    (entry_points,) = [n for n in wheel_names if n.endswith(".dist-info/entry_points.txt")]
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(entry_points).decode()
    assert "segpile-lab = segpile_lab.cli:main" in text


def test_installed_wheel_finds_its_own_resources(wheel, tmp_path):
    """A non-editable install looks inside the package, not at a source tree."""
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import segpile_lab, segpile_lab._resources as r, segpile_lab.report.runner as run;"
        "print(segpile_lab.__file__); print(r.manifests_dir()); print(r.notebooks_dir());"
        "print(','.join(p.name for p in run.find_notebooks()));"
        "print(run.__file__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(target)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    package_file, manifests, notebooks, names, _ = proc.stdout.splitlines()
    package = target / "segpile_lab"
    assert Path(package_file).parent == package
    assert Path(manifests) == package / "data_manifests"
    assert Path(notebooks) == package / "notebooks"
    assert names.split(",") == sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
