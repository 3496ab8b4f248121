"""The ``segpile-lab`` entry point as a whole: every bad option is one usage line (exit 2)
before any work, bugs are one line plus a saved traceback (exit 1), warnings are one line, and
every command documents every option with its default."""

from __future__ import annotations

import argparse
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from segpile_lab import _cli_options as options
from segpile_lab.cli import build_parser, main


def _leaf_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every runnable command's parser by its prog (``segpile-lab pile audit``)."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found |= _leaf_parsers(child)
            return found
    return {parser.prog: parser}


def test_every_command_is_covered_here():
    assert set(_leaf_parsers(build_parser())) >= {
        f"segpile-lab {c}"
        for c in (
            "segment",
            "evaluate",
            "bench",
            "report",
            "pile audit",
            "pile bpb",
            "pile read",
            "pile verify",
        )
    }


@pytest.mark.parametrize("prog", sorted(_leaf_parsers(build_parser())))
def test_every_option_has_a_help_line_and_its_default_is_shown(prog, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # no line wrapping inside a default
    parser = _leaf_parsers(build_parser())[prog]
    text = parser.format_help()
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{prog}: {action.option_strings or action.dest} has no help"
        default = action.default
        if action.option_strings and default not in (None, False, []) and default != 0:
            shown = ",".join(map(str, default)) if isinstance(default, list) else str(default)
            assert f"(default: {shown})" in " ".join(text.split()), (prog, action.dest)


def test_same_things_have_the_same_option_names():
    """The vocabulary of issue 13: one name per meaning across commands."""
    leaves = _leaf_parsers(build_parser())
    flags = {prog: {f for a in p._actions for f in a.option_strings} for prog, p in leaves.items()}
    for prog in ("segpile-lab segment", "segpile-lab evaluate", "segpile-lab bench"):
        assert {"--model", "--batch-size", "--out"} <= flags[prog]
    for prog in ("segpile-lab pile audit", "segpile-lab pile bpb"):
        assert {"--sample-per-subset", "--limit", "--strict", "--seed", "--out"} <= flags[prog]
    assert "--strict" in flags["segpile-lab pile read"]
    for prog in ("segment", "evaluate", "bench", "pile bpb"):
        assert "--device" in flags[f"segpile-lab {prog}"]
    outs = {
        prog: next(a.default for a in p._actions if a.dest == "out")
        for prog, p in leaves.items()
        if "--out" in flags[prog]
    }
    for prog, default in outs.items():  # segpile-<command words>
        assert default == "-".join(["segpile", *prog.split()[1:]]), prog


def test_commands_that_need_a_model_name_the_offline_demo_model():
    leaves = _leaf_parsers(build_parser())
    for prog in ("segpile-lab segment", "segpile-lab evaluate", "segpile-lab bench"):
        assert "demo-b0" in " ".join(leaves[prog].format_help().split())
    assert "demo-gpt2" in " ".join(leaves["segpile-lab pile bpb"].format_help().split())
    top = " ".join(build_parser().format_help().split())
    assert "--model demo-b0" in top and "--scorer demo-gpt2" in top and "Exit codes" in top


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a_file"
    path.write_text("x")
    return path


BAD_OPTIONS = [
    # (argv, message in the error line); {file} is a regular file, {tmp} a fresh folder
    (["segment", "{tmp}/x.png"], "argument IMAGE: {tmp}/x.png: no such file"),
    (["segment", "{tmp}"], "argument IMAGE: {tmp}: is a folder, not a file"),
    (["pile", "verify", "{tmp}", "--sums", "{tmp}/none.txt"], "--sums: {tmp}/none.txt: no such"),
    (["bench", "--cache-dir", "{file}"], "--cache-dir: {file}: exists and is not a folder"),
    (["segment", "{file}", "--mc-samples", "-1"], "--mc-samples: must be at least 0, got -1"),
    (["segment", "{file}", "--alpha", "1.5"], "--alpha: must be from 0 to 1, got 1.5"),
    (["segment", "{file}", "--batch-size", "0"], "--batch-size: must be at least 1, got 0"),
    (["segment", "{file}", "--batch-size", "two"], "--batch-size: expected an integer"),
    (["segment", "{file}", "--device", "cuda:7"], "--device: cuda:7:"),
    (["segment", "{file}", "--device", "gpu0"], "--device: 'gpu0' is not a device"),
    (["segment", "{file}", "--out", "{file}"], "{file}: exists and is not a folder"),
    (["segment", "{file}", "--out", "{file}/sub"], "cannot be created, {file} is not a folder"),
    (["evaluate", "--images", "{tmp}/none", "--annotations", "{tmp}"], "--images: {tmp}/none"),
    (
        ["evaluate", "--images", "{tmp}", "--annotations", "{tmp}", "--model", "demo-b0"],
        "--images and --annotations are the same folder",
    ),
    (["pile", "audit", "--sample-per-subset", "0"], "--sample-per-subset: must be at least 1"),
    (["pile", "audit", "--limit", "-3"], "--limit: must be at least 1, got -3"),
    (["pile", "audit", "--seed", "-1"], "--seed: must be at least 0"),
    (["pile", "audit", "--out", "{file}"], "exists and is not a folder"),
    (["pile", "bpb", "--fit-fraction", "1"], "--fit-fraction: must be between 0 and 1"),
    (["pile", "bpb", "--fit-fraction", "0"], "--fit-fraction: must be between 0 and 1"),
    (["pile", "bpb", "--fit-fraction", "nan"], "--fit-fraction: expected a finite number"),
    (["pile", "bpb", "--zstd-level", "23"], "--zstd-level: zstd levels go from 1 to 22"),
    (["pile", "bpb", "--zstd-level", "0"], "--zstd-level: must be at least 1"),
    (["pile", "bpb", "--ngram-order", "9"], "--ngram-order: n-gram orders go from 1 to 8"),
    (["pile", "bpb", "--bootstrap", "-1"], "--bootstrap: must be at least 0"),
    (["pile", "bpb", "--stride", "0"], "--stride: must be at least 1"),
    (["pile", "bpb", "--max-length", "1"], "--max-length: must be at least 2"),
    (["pile", "bpb", "--device", "cuda:7"], "--device: cuda:7:"),
    (["pile", "bpb", "--max-length", "16", "--stride", "64"], "--stride 64 is longer than"),
    (["pile", "bpb", "--dtype", "int4"], "--dtype: invalid choice"),
    (["pile", "verify", "{tmp}/none"], "folder: {tmp}/none: no such folder"),
    (["report", "--timeout", "0"], "--timeout: must be a positive number of seconds, got 0"),
    (["report", "--timeout", "inf"], "--timeout: expected a finite number"),
    (["report", "--out", "{file}/sub"], "cannot be created"),
    (["bench", "--warmup", "0"], "--warmup: must be at least 1"),
    (["bench", "--device", "cuda:7"], "--device: cuda:7:"),
    (["pile", "nope"], "invalid choice: 'nope'"),
]


@pytest.mark.parametrize(
    ("argv", "message"), BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS]
)
def test_bad_options_are_one_usage_line_exit_2_before_any_work(
    argv, message, tmp_path, a_file, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    fill = {"file": str(a_file), "tmp": str(tmp_path)}
    before = set(tmp_path.rglob("*"))
    assert main([a.format(**fill) for a in argv]) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    command = " ".join(a for a in argv[:2] if not a.startswith(("-", "{")))
    if "invalid choice" not in message:
        assert last.startswith(f"segpile-lab {command}: error: "), last
    assert message.format(**fill) in last and "Traceback" not in err
    assert set(tmp_path.rglob("*")) == before  # nothing written


def test_an_unexpected_error_is_one_line_and_the_traceback_is_saved(tmp_path, capsys, monkeypatch):
    from segpile_lab.pile import manifests

    def broken(*args, **kwargs):
        return {}["no such key"]

    monkeypatch.setenv("SEGPILE_LAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(manifests, "verify_shards", broken)
    assert main(["pile", "verify", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("segpile-lab pile verify: error: unexpected KeyError: 'no such key'")
    (saved,) = (tmp_path / "cache" / "errors").iterdir()
    assert f"(full traceback: {saved}; please report it)" in err
    text = saved.read_text()
    assert text.startswith(f"segpile-lab pile verify {tmp_path}\n")
    assert "Traceback (most recent call last)" in text and "in broken" in text


def test_a_file_system_error_is_a_user_error(tmp_path, capsys, monkeypatch):
    from segpile_lab.pile import manifests

    def unreadable(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "SHA256SUMS.txt"))

    monkeypatch.setattr(manifests, "verify_shards", unreadable)
    assert main(["pile", "verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"segpile-lab pile verify: error: {tmp_path}/SHA256SUMS.txt: Permission denied\n"


def test_help_and_version_exit_0(capsys):
    assert main(["--version"]) == 0
    assert main(["pile", "bpb", "--help"]) == 0
    assert "--fit-fraction" in capsys.readouterr().out


WARNS = """
import sys, warnings
from segpile_lab import cli
from segpile_lab.errors import UntrainedModelWarning
from segpile_lab.pile import manifests

def verify_shards(folder, sums_file=None):
    warnings.warn("demo-b0: untrained\\n  demo weights", UntrainedModelWarning, stacklevel=2)
    return []

manifests.verify_shards = verify_shards
code = cli.main(["pile", "verify", "."])
assert warnings.formatwarning is cli.warnings._formatwarning_orig  # restored
sys.exit(code)
"""


def test_a_warning_prints_as_one_line_without_source(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", WARNS], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        "segpile-lab pile verify: warning: demo-b0: untrained demo weights "
        "[UntrainedModelWarning]\n"
    )


def test_out_dir_is_probed_without_creating_anything(tmp_path, a_file):
    target = tmp_path / "new" / "deeper"
    assert options.out_dir(str(target)) == str(target) and not (tmp_path / "new").exists()
    assert list(tmp_path.iterdir()) == [a_file]  # the probe file is gone
    with pytest.raises(argparse.ArgumentTypeError, match="exists and is not a folder"):
        options.out_dir(str(a_file))
    assert options.prepare_out(target) == target and target.is_dir()


@pytest.mark.parametrize("width", [40, 60, 200])
def test_format_table_fits_the_width_and_names_what_it_left_out(width):
    import polars as pl

    frame = pl.DataFrame(
        {"subset": ["Pile-CC", "Github"], "documents": [1234567, 2], "byte_share": [0.5, 0.25],
         "mean_doc_bytes": [4433.92, 12.5], "note": ["synthetic demo data", None]}
    )  # fmt: skip
    lines = options.format_table(frame, width=width, headers={"byte_share": "share"}).splitlines()
    assert all(len(line) <= width for line in lines[:3])
    assert lines[0].split()[:2] == ["subset", "documents"]
    assert lines[1].split()[:3] == ["Pile-CC", "1,234,567", "0.500"]
    if width == 200:
        assert len(lines) == 3 and "4,434" in lines[1] and "12.5" in lines[2]
    else:
        assert lines[-1].startswith("(not shown at this width: ") and "note" in lines[-1]


def test_warning_format_is_restored_after_a_command(capsys):
    before = warnings.formatwarning
    main(["pile", "verify", "/no/such/folder"])
    assert warnings.formatwarning is before
