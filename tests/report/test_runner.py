"""build_report on test-only notebooks: execution, failures, index.html and summary.json."""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import pytest
from report_helpers import FIXTURES, WRITE_SUMMARY

from segpile_lab.errors import ReportError
from segpile_lab.report import runner
from segpile_lab.report.runner import build_report, find_notebooks

# --- the passing fixture ------------------------------------------------------------------


def test_passing_notebook_gets_injected_parameters(mixed_report):
    result = mixed_report.notebook("passing")
    assert result["status"] == "passed"
    assert result["summary"]["repeats"] == 5  # --param
    assert result["summary"]["smoke"] is True  # --smoke
    assert result["summary"]["greeting"] == "hello"  # not given: the notebook's default


def test_notebooks_run_in_a_temporary_folder(mixed_report):
    cwd = Path(mixed_report.notebook("passing")["summary"]["cwd"])
    assert cwd.name.startswith("segpile-report-")
    assert not cwd.exists()  # cleaned up
    assert not (mixed_report.out_dir / "summary_path").exists()


def test_passing_page_shows_figures_fallback_and_injected_cell(mixed_report):
    page = (mixed_report.out_dir / "passing.html").read_text(encoding="utf-8")
    assert page.count('class="plotly-graph-div"') == 2
    assert len(re.findall(r"plotly\.js v\d", page)) == 1
    assert 'alt="slider fallback: value 7 of 10"' in page
    assert "data:image/png;base64," in page  # matplotlib
    injected = page.index("Parameters injected by")
    assert page.index("greeting") < injected < page.index("first figure")
    assert "repeats" in html.unescape(page[injected : injected + 2000])


# --- the failing fixture ------------------------------------------------------------------


def test_failure_names_notebook_cell_first_line_and_exception(mixed_report):
    message = str(mixed_report.error)
    assert message.startswith("1 of 2 notebooks failed")
    assert (
        "failing.ipynb: cell 3 ('# a comment line first'): "
        "ValueError: boom in the fourth cell" in message
    )
    assert "passing.ipynb" not in message


def test_failure_is_recorded_in_summary_json(mixed_report):
    failed = mixed_report.notebook("failing")
    assert failed["status"] == "failed"
    assert failed["cell_index"] == 3  # index in the stored notebook, injected cell not counted
    assert "ValueError: boom in the fourth cell" in failed["error"]
    assert failed["summary"] is None
    page = (mixed_report.out_dir / failed["html"]).read_text(encoding="utf-8")
    assert "boom in the fourth cell" in page  # the partial page shows the traceback


# --- index.html and summary.json ----------------------------------------------------------


def test_summary_json_lists_every_notebook_in_order(mixed_report):
    summary = mixed_report.summary
    assert summary["status"] == "failed"
    assert summary["parameters"] == {"repeats": 5, "smoke": True}
    assert [nb["name"] for nb in summary["notebooks"]] == ["passing", "failing"]
    for nb in summary["notebooks"]:
        assert nb["seconds"] > 0
        assert (mixed_report.out_dir / nb["html"]).is_file()
    total = sum(nb["seconds"] for nb in summary["notebooks"])
    assert summary["seconds"] >= total


def test_index_links_statuses_durations_and_notes(mixed_report):
    page = (mixed_report.out_dir / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr class="(passed|failed)">(.*?)</tr>\n', page, flags=re.S)
    assert [status for status, _ in rows] == ["passed", "failed"]
    passing, failing = (row for _, row in rows)
    assert '<a href="passing.html">passing</a>' in passing
    assert "untrained demo weights" in passing
    assert "synthetic demo data" in passing
    seconds = mixed_report.notebook("passing")["seconds"]
    assert f"{seconds:.1f} s" in passing
    assert '<a href="failing.html">failing</a>' in failing
    assert "boom in the fourth cell" in failing
    assert "untrained demo weights" not in failing
    assert "1 of 2 failed" in page


# --- outputs that would be blank offline ---------------------------------------------------


def test_plotly_mimetype_only_fails_naming_the_cell(blank_report):
    result = blank_report.notebook("blank_plotly")
    assert result["status"] == "failed"
    assert result["cell_index"] == 1
    assert "only application/vnd.plotly.v1+json" in result["error"]
    assert "blank_plotly.ipynb: cell 1 ('import plotly.express as px')" in str(blank_report.error)


def test_widget_without_fallback_fails_naming_the_cell(blank_report):
    result = blank_report.notebook("blank_widget")
    assert result["status"] == "failed"
    assert result["cell_index"] == 1
    assert "widget output without an image/png or text/html fallback" in result["error"]


# --- bad requests fail before anything runs -------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"params": {"repeatz": 5}}, "--param repeatz: no selected notebook"),
        ({"params": {"summary_path": "x.json"}}, "--param summary_path: set by the report"),
        ({"params": {"passing:repeatz": 5}}, "passing's parameters cell does not define 'repeatz'"),
        ({"params": {"other:repeats": 5}}, "'other' is not a selected notebook"),
        ({"params": {"smoke": False}, "smoke": True}, "--smoke contradicts"),
        ({"notebooks": ["no_such_notebook"]}, "no notebook 'no_such_notebook'"),
    ],
)
def test_bad_requests_raise_before_running(tmp_path, kwargs, message):
    kwargs.setdefault("notebooks", [FIXTURES / "passing.ipynb"])
    with pytest.raises(ReportError, match=re.escape(message)):
        build_report(tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_a_scoped_parameter_reaches_only_its_notebook(tmp_path, make_notebook):
    write = "summary = {'n': n}\n" + WRITE_SUMMARY
    params = "smoke = False\nsummary_path = None\nn = 0"
    first = make_notebook("first", write, parameters=params)
    second = make_notebook("second", write, parameters=params)
    report = build_report(
        tmp_path / "out", notebooks=[first, second], params={"n": 1, "second:n": 2}, progress=False
    )
    assert [r.summary["n"] for r in report.notebooks] == [1, 2]
    page = (tmp_path / "out" / "second.html").read_text(encoding="utf-8")
    assert "/tmp/" not in page  # summary_path is injected relative to the kernel's folder


def test_a_warning_is_a_styled_note_without_kernel_paths(tmp_path, make_notebook):
    warn = "import warnings\nwarnings.warn('weights not here', UserWarning)\nsummary = {}\n"
    path = make_notebook("warns", warn + WRITE_SUMMARY)
    build_report(tmp_path / "out", notebooks=[path], progress=False)
    page = (tmp_path / "out" / "warns.html").read_text(encoding="utf-8")
    assert 'class="sl-note warning"' in page and "weights not here" in page
    assert "ipykernel_" not in page  # the kernel's temporary file of the cell
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page


def test_out_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        build_report(tmp_path / "out", notebooks=[FIXTURES / "passing.ipynb"], progress=False)


# --- notebooks that break the contract ------------------------------------------------------


def _single_failure(tmp_path: Path, notebook: Path, **kwargs) -> dict:
    with pytest.raises(ReportError) as excinfo:
        build_report(tmp_path / "out", notebooks=[notebook], progress=False, **kwargs)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    (result,) = summary["notebooks"]
    assert result["error"] in str(excinfo.value)
    return result


def test_notebook_without_parameters_cell_fails(tmp_path, make_notebook):
    path = make_notebook("no_params", "x = 1", parameters=None)
    result = _single_failure(tmp_path, path)
    assert result["error"] == "no_params.ipynb: it has no code cell tagged 'parameters'"


def test_notebook_with_a_broken_parameters_cell_fails(tmp_path, make_notebook):
    path = make_notebook("broken_params", "x = 1", parameters="smoke = = False")
    result = _single_failure(tmp_path, path)
    assert result["error"].startswith("broken_params.ipynb: its parameters cell is not valid")


def test_notebook_that_writes_no_summary_fails(tmp_path, make_notebook):
    result = _single_failure(tmp_path, make_notebook("silent", "x = 1"))
    assert result["error"] == "silent.ipynb: ran, but wrote no JSON summary to its summary_path"


@pytest.mark.parametrize(
    ("writes", "error"),
    [
        ("'{not json'", "its JSON summary is not valid JSON"),
        ("'[1, 2]'", "its JSON summary is not an object"),
    ],
)
def test_notebook_with_a_bad_summary_fails(tmp_path, make_notebook, writes, error):
    source = f"from pathlib import Path\nPath(summary_path).write_text({writes})"
    result = _single_failure(tmp_path, make_notebook("bad_summary", source))
    assert result["error"].startswith(f"bad_summary.ipynb: {error}")


def test_a_page_from_an_earlier_run_is_removed(tmp_path, make_notebook):
    out = tmp_path / "out"
    out.mkdir()
    (out / "no_params.html").write_text("an old page")
    path = make_notebook("no_params", "x = 1", parameters=None)
    result = _single_failure(tmp_path, path)
    assert result["html"] is None
    assert not (out / "no_params.html").exists()


def test_unreadable_notebook_fails_and_the_others_still_run(tmp_path, make_notebook):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json", encoding="utf-8")
    good = make_notebook("good", 'summary = {"ok": 1}\n' + WRITE_SUMMARY)
    with pytest.raises(ReportError, match=r"1 of 2 notebooks failed") as excinfo:
        build_report(tmp_path / "out", notebooks=[broken, good], progress=False)
    assert "broken.ipynb: not a readable notebook" in str(excinfo.value)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert [nb["status"] for nb in summary["notebooks"]] == ["failed", "passed"]
    assert summary["notebooks"][1]["summary"] == {"ok": 1}


def test_cell_timeout_names_the_cell(tmp_path, make_notebook):
    path = make_notebook("slow", "import time", "time.sleep(60)")
    result = _single_failure(tmp_path, path, timeout=3)
    assert result["cell_index"] == 2
    assert "cell 2 ('time.sleep(60)'): the cell ran longer than the 3 s limit" in result["error"]


def test_kernel_runs_in_report_mode(tmp_path, make_notebook):
    source = (
        "import os, sys\n"
        "keys = ('TQDM_DISABLE', 'PLOTLY_RENDERER', 'MPLBACKEND')\n"
        "summary = {k: os.environ.get(k) for k in keys} | {'python': sys.executable}\n"
    )
    build_report(tmp_path / "out", notebooks=[make_notebook("env", source + WRITE_SUMMARY)])
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["notebooks"][0]["summary"] == {
        "TQDM_DISABLE": "1",
        "PLOTLY_RENDERER": "notebook",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "python": sys.executable,  # the kernel runs the interpreter that runs the report
    }


def test_a_dying_kernel_names_the_cell(tmp_path, make_notebook):
    # a native library's last words go to the kernel's own stderr, not the cell's output
    dies = "import os\nos.write(2, b'native: out of luck\\n')\nos._exit(1)"
    path = make_notebook("dies", "x = 1", dies)
    result = _single_failure(tmp_path, path)
    assert result["cell_index"] == 2
    assert "cell 2 ('import os'): the kernel died" in result["error"]
    assert result["error"].endswith("kernel output: native: out of luck")


def test_kernel_output_outside_cells_stays_off_the_terminal(tmp_path, make_notebook, capfd):
    # what Ray's signal handler did when the report stopped its kernel: native lines on fd 2
    # as the kernel exits, after the last cell
    last_words = "import atexit, os\natexit.register(os.write, 2, b'*** SIG' + b'TERM ***\\n')"
    path = make_notebook("exits", last_words, "summary = {}\n" + WRITE_SUMMARY)
    build_report(tmp_path / "out", notebooks=[path], progress=False)
    captured = capfd.readouterr()
    assert "SIGTERM" not in captured.out + captured.err
    page = (tmp_path / "out" / "exits.html").read_text(encoding="utf-8")
    assert "SIGTERM" not in page


def test_progress_lines_go_to_stderr(tmp_path, make_notebook, capsys):
    path = make_notebook("tiny", "summary = {}\n" + WRITE_SUMMARY)
    build_report(tmp_path / "out", notebooks=[path], progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "[1/1] tiny.ipynb: running" in captured.err
    assert re.search(r"\[1/1\] tiny\.ipynb: passed in \d+\.\d s", captured.err)


# --- which notebooks ------------------------------------------------------------------------


def test_find_notebooks_sorted_and_selected_by_name(tmp_path, monkeypatch, make_notebook):
    for name in ("02_b", "01_a", "10_c"):
        make_notebook(name)
    (tmp_path / "notes.md").write_text("not a notebook")
    monkeypatch.setattr(runner, "notebooks_dir", lambda: tmp_path)

    assert [p.name for p in find_notebooks()] == ["01_a.ipynb", "02_b.ipynb", "10_c.ipynb"]
    chosen = find_notebooks(["10_c", "01_a.ipynb"])
    assert [p.name for p in chosen] == ["10_c.ipynb", "01_a.ipynb"]
    with pytest.raises(ReportError, match=r"available in .*: 01_a, 02_b, 10_c"):
        find_notebooks(["03"])


def test_find_notebooks_in_an_empty_folder_raises(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "notebooks_dir", lambda: tmp_path)
    with pytest.raises(ReportError, match=r"no notebooks \(\*\.ipynb\)"):
        find_notebooks()
