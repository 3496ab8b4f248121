"""Parameters: --param parsing, the parameters cell, the injected cell."""

from __future__ import annotations

import nbformat
import pytest

from segpile_lab.errors import ReportError
from segpile_lab.report.params import (
    INJECTED_TAG,
    declared_parameters,
    inject_parameters,
    parameters_cell_index,
    parse_param,
    parse_params,
    resolve_parameters,
    split_key,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n=5", ("n", 5)),
        ("ratio=0.25", ("ratio", 0.25)),
        ("limit=1e3", ("limit", 1000.0)),
        ("offset=-3", ("offset", -3)),
        ("flag=True", ("flag", True)),
        ("path=None", ("path", None)),
        ("subsets=['Github', 'ArXiv']", ("subsets", ["Github", "ArXiv"])),
        ("pair=(1, 2)", ("pair", (1, 2))),
        ("name='a b'", ("name", "a b")),
        ("path=/data/val.jsonl.zst", ("path", "/data/val.jsonl.zst")),
        ("model=demo-b2", ("model", "demo-b2")),
        (" n = 5 ", ("n", 5)),
        ("empty=", ("empty", "")),
        ("expr=1+2", ("expr", "1+2")),
    ],
)
def test_parse_param_reads_python_literals_else_strings(text, expected):
    assert parse_param(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no_equals_sign", "KEY=VALUE"),
        ("1n=5", "KEY=VALUE"),
        ("=5", "KEY=VALUE"),
        ("subsets=['Github', 'ArXiv'", "not a Python literal"),
        ("name='unterminated", "not a Python literal"),
        ("d={1: 2", "not a Python literal"),
    ],
)
def test_parse_param_rejects(text, message):
    with pytest.raises(ReportError, match=message):
        parse_param(text)


def test_parse_params_later_value_wins():
    assert parse_params(["n=1", "m=2", "n=3"]) == {"n": 3, "m": 2}


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("smoke = False\nsummary_path = None", {"smoke", "summary_path"}),
        ("limit: int | None = None", {"limit"}),
        ("a, (b, c) = 1, (2, 3)", {"a", "b", "c"}),
        ("x = y = 0", {"x", "y"}),
        ("%matplotlib inline\nsmoke = False", {"smoke"}),
        ("import os\ndef f():\n    inner = 1\nif True:\n    nested = 2\nn = 1", {"n"}),
        ("# only a comment", set()),
    ],
)
def test_declared_parameters(source, names):
    assert declared_parameters(source) == names


def test_declared_parameters_syntax_error_is_a_report_error():
    with pytest.raises(ReportError, match="not valid Python"):
        declared_parameters("smoke = = False")


def _notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_inject_parameters_adds_a_tagged_cell_right_after_the_parameters_cell():
    nb = _notebook(
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("import os"),
        nbformat.v4.new_code_cell("smoke = False\nn = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(n)"),
    )
    values = {"smoke": True, "n": 5, "path": "/tmp/it's here.json", "subsets": ["ArXiv"]}
    index = inject_parameters(nb, values)

    assert index == 3
    assert [c.source for c in nb.cells[:3]] == ["# title", "import os", "smoke = False\nn = 1"]
    assert nb.cells[3].metadata["tags"] == [INJECTED_TAG]
    assert nb.cells[4].source == "print(n)"
    namespace: dict = {}
    exec(nb.cells[3].source, namespace)  # the injected code recreates the values exactly
    assert {k: namespace[k] for k in values} == values


def test_inject_parameters_uses_the_first_parameters_cell():
    tagged = {"tags": ["parameters"]}
    nb = _notebook(
        nbformat.v4.new_markdown_cell("parameters below", metadata=tagged),  # not code: ignored
        nbformat.v4.new_code_cell("a = 1", metadata=tagged),
        nbformat.v4.new_code_cell("b = 2", metadata=tagged),
    )
    assert parameters_cell_index(nb) == 1
    assert inject_parameters(nb, {"a": 2}) == 2


def test_inject_parameters_without_parameters_cell_raises():
    nb = _notebook(nbformat.v4.new_code_cell("smoke = False"))
    with pytest.raises(ReportError, match="no code cell tagged 'parameters'"):
        inject_parameters(nb, {"smoke": True})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("04_pile_bpb:lm_model=gpt2", ("04_pile_bpb:lm_model", "gpt2")),
        (" 02_x : seg_model = 'demo-b0' ", ("02_x:seg_model", "demo-b0")),
        ("nb.ipynb:n=3", ("nb.ipynb:n", 3)),
    ],
)
def test_parse_param_accepts_a_notebook_scope(text, expected):
    assert parse_param(text) == expected


@pytest.mark.parametrize("text", [":n=1", "nb:=1", "nb:1n=1", "nb:a b=1"])
def test_parse_param_rejects_a_bad_scoped_key(text):
    with pytest.raises(ReportError, match="KEY=VALUE"):
        parse_param(text)


@pytest.mark.parametrize(
    ("key", "expected"),
    [("n", (None, "n")), ("04_pile_bpb:n", ("04_pile_bpb", "n")), ("a.ipynb:n", ("a", "n"))],
)
def test_split_key(key, expected):
    assert split_key(key) == expected


DECLARED = {
    "01_pile": {"paths", "tokenizer", "smoke", "summary_path"},
    "02_seg": {"seg_model", "smoke", "summary_path"},
    "04_bpb": {"paths", "lm_model", "smoke", "summary_path"},
}


def _resolve(params):
    return resolve_parameters(params, DECLARED, reserved=("summary_path",), everywhere=("smoke",))


def test_resolve_sends_each_name_only_where_it_is_declared():
    values = _resolve({"paths": "/d/val.jsonl.zst", "seg_model": "demo-b0", "smoke": True})
    assert values == {
        "01_pile": {"paths": "/d/val.jsonl.zst", "smoke": True},
        "02_seg": {"seg_model": "demo-b0", "smoke": True},
        "04_bpb": {"paths": "/d/val.jsonl.zst", "smoke": True},
    }


def test_resolve_scoped_value_goes_to_one_notebook_and_wins_there():
    values = _resolve({"04_bpb:paths": "/b.zst", "paths": "/a.zst", "04_bpb.ipynb:lm_model": 1})
    assert values["01_pile"] == {"paths": "/a.zst"}
    assert values["04_bpb"] == {"paths": "/b.zst", "lm_model": 1}
    assert values["02_seg"] == {}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model": "x"}, r"--param model: no selected notebook's parameters cell defines it"),
        ({"03_backends:n": 1}, r"'03_backends' is not a selected notebook \(selected: 01_pile"),
        ({"02_seg:lm_model": "x"}, r"02_seg's parameters cell does not define 'lm_model'"),
        ({"summary_path": "x"}, "set by the report runner itself"),
        ({"01_pile:summary_path": "x"}, "set by the report runner itself"),
    ],
)
def test_resolve_rejects_what_cannot_be_injected(params, message):
    with pytest.raises(ReportError, match=message):
        _resolve(params)


def test_resolve_names_what_is_defined_when_a_name_is_unknown():
    with pytest.raises(ReportError, match=r"\(defined: lm_model, paths, seg_model\)"):
        resolve_parameters({"model": 1}, {"a": {"seg_model"}, "b": {"lm_model", "paths"}})


def test_resolve_checks_everything_before_returning_anything():
    # a good key first, a bad one later: the whole request is refused
    with pytest.raises(ReportError, match="nope"):
        _resolve({"paths": "/a.zst", "04_bpb:nope": 1})
