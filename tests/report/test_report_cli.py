"""``segpile-lab report``: options, exit codes, messages."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from report_helpers import FIXTURES, WRITE_SUMMARY

from segpile_lab.cli import build_parser, main
from segpile_lab.report import DEFAULT_CELL_TIMEOUT_S


def test_defaults():
    args = build_parser().parse_args(["report"])
    assert (args.out, args.notebooks, args.param, args.smoke) == ("segpile-report", None, [], False)
    assert args.timeout == DEFAULT_CELL_TIMEOUT_S


def test_options_parse():
    argv = "report --out o --notebooks a b --param n=1 --param m=x --smoke --timeout 30"
    args = build_parser().parse_args(argv.split())
    assert (args.out, args.notebooks, args.param) == ("o", ["a", "b"], ["n=1", "m=x"])
    assert (args.smoke, args.timeout) == (True, 30.0)


def test_success_exits_0_and_prints_the_index(tmp_path, make_notebook, capsys):
    notebook = make_notebook(
        "tiny",
        'summary = {"smoke": smoke, "n": n}\n' + WRITE_SUMMARY,
        parameters="smoke = False\nsummary_path = None\nn = 1",
    )
    out = tmp_path / "out"
    code = main(
        ["report", "--out", str(out), "--notebooks", str(notebook), "--param", "n=7", "--smoke"]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert f"report: {out / 'index.html'} (1 notebooks," in captured.out
    assert "[1/1] tiny.ipynb: passed" in captured.err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["notebooks"][0]["summary"] == {"smoke": True, "n": 7}


def test_failing_notebook_exits_2_naming_notebook_and_cell(tmp_path, capsys):
    code = main(["report", "--out", str(tmp_path), "--notebooks", str(FIXTURES / "failing.ipynb")])
    err = capsys.readouterr().err
    assert code == 2
    assert "segpile-lab report: error: 1 of 1 notebooks failed" in err
    assert "failing.ipynb: cell 3 ('# a comment line first'): ValueError: boom" in err
    assert "Traceback" not in err
    assert (tmp_path / "index.html").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--param", "nope"], "expected KEY=VALUE"),
        (["--param", "x=[1,"], "is not a Python literal"),
        (["--param", "repeatz=1"], "--param repeatz: no selected notebook"),
        (["--notebooks", "99_missing"], "no notebook '99_missing'"),
    ],
)
def test_bad_arguments_exit_2_with_one_message(tmp_path, capsys, argv, message):
    passing = ["--notebooks", str(FIXTURES / "passing.ipynb")] if "--notebooks" not in argv else []
    code = main(["report", "--out", str(tmp_path / "out"), *passing, *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("segpile-lab report: error: ")
    assert message in err
    assert not (tmp_path / "out").exists()


def test_console_script_is_installed():
    """The installed `segpile-lab` entry point reaches the report command."""
    executable = shutil.which("segpile-lab")
    assert executable is not None, "segpile-lab is not on PATH: pip install -e ."
    proc = subprocess.run([executable, "report", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for option in ("--out", "--notebooks", "--param", "--smoke", "--timeout"):
        assert option in proc.stdout


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        (["a/tiny", "b/tiny"], "would both write tiny.html"),
        (["a/tiny", "b/TINY"], "would both write TINY.html"),  # one file on case-blind disks
        (["a/index"], "would replace the report's index page"),
        (["a/Index"], "would replace the report's index page"),
    ],
)
def test_notebooks_that_would_overwrite_a_page_are_refused_before_running(
    tmp_path, capsys, pages, message
):
    paths = []
    for page in pages:
        path = tmp_path / f"{page}.ipynb"
        path.parent.mkdir(exist_ok=True)
        shutil.copy(FIXTURES / "passing.ipynb", path)
        paths.append(str(path))
    out = tmp_path / "out"
    assert main(["report", "--out", str(out), "--notebooks", *paths]) == 2
    err = capsys.readouterr().err
    assert err.startswith("segpile-lab report: error: ") and message in err
    assert "running" not in err and not out.exists()
