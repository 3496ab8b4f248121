"""Folders and globs (docs/bad-inputs.md, "Pile reader › Inputs"): every entry that looks like a
shard is read or reported, each file once, under a name that tells it apart."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from pile_io import doc, read, write, zstd_frame

import segpile_lab as sl
from segpile_lab.pile import _paths

GOOD = [doc(f"good {i}", "Github") for i in range(3)]
DATA = b"\n".join(GOOD) + b"\n"


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "pile"
    root.mkdir()
    write(root / "good.jsonl.zst", GOOD)
    return root


# -- entries that cannot be read: lenient reports and warns, strict raises -----------------------
def _dangling(root: Path, _: pytest.MonkeyPatch) -> None:
    (root / "fetched-later.jsonl.zst").symlink_to(root / ".git/annex/objects/ab/MD5E-s9")


def _dvc_pointer(root: Path, _: pytest.MonkeyPatch) -> None:
    (root / "train.jsonl.zst.dvc").write_text("outs:\n- md5: 0123\n  path: train.jsonl.zst\n")


def _annex_pointer_file(root: Path, _: pytest.MonkeyPatch) -> None:
    (root / "unlocked.jsonl.zst").write_text("/annex/objects/MD5E-s1234--0123.jsonl.zst\n")


def _fifo(root: Path, _: pytest.MonkeyPatch) -> None:
    os.mkfifo(root / "pipe.jsonl")


def _zip(root: Path, _: pytest.MonkeyPatch) -> None:
    (root / "packed.jsonl.zst").write_bytes(b"PK\x03\x04" + b"\x00" * 40)


def _no_permission(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(root / "locked.jsonl.zst", GOOD)
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the check see what a user would
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: real(p, mode) and Path(p) != path)


def _unlistable_folder(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hidden = root / "private"
    hidden.mkdir()
    write(hidden / "x.jsonl.zst", GOOD)
    hidden.chmod(0)
    if os.geteuid() == 0:
        real = os.scandir

        def scandir(path):  # type: ignore[no-untyped-def]
            if Path(path) == hidden:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(os, "scandir", scandir)


UNREADABLE: list[tuple[str, Callable[[Path, pytest.MonkeyPatch], None], str]] = [
    ("dangling link (annex)", _dangling, "dangling link"),
    ("DVC pointer without data", _dvc_pointer, "DVC pointer"),
    ("annex pointer file", _annex_pointer_file, "git-annex pointer"),
    ("FIFO", _fifo, "not a regular file"),
    ("zip under a shard name", _zip, "zip data"),
    ("no read permission", _no_permission, "permission denied"),
    ("folder that cannot be listed", _unlistable_folder, "folder not listed"),
]


@pytest.mark.parametrize(
    ("setup", "why"), [c[1:] for c in UNREADABLE], ids=[c[0] for c in UNREADABLE]
)
def test_unreadable_entry_lenient_reported_and_warned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup, why: str
) -> None:  # type: ignore[no-untyped-def]
    root = _folder(tmp_path)
    setup(root, monkeypatch)
    with pytest.warns(sl.DamagedFileWarning, match=why):
        df, report = read(root)
    assert df["text"].to_list() == ["good 0", "good 1", "good 2"]
    assert len(report.unread_paths) == 1 and why in report.unread_paths[0][1]
    assert not report.ended_cleanly and "NOT READ" in str(report)


@pytest.mark.parametrize(
    ("setup", "why"), [c[1:] for c in UNREADABLE], ids=[c[0] for c in UNREADABLE]
)
def test_unreadable_entry_strict_raises_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup, why: str
) -> None:  # type: ignore[no-untyped-def]
    root = _folder(tmp_path)
    setup(root, monkeypatch)
    with pytest.raises(sl.DataError, match=f"1 input\\(s\\) cannot be read: .*{why}"):
        read(root, strict=True)


def test_glob_reports_what_it_cannot_read(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _dangling(root, pytest.MonkeyPatch())
    with pytest.warns(sl.DamagedFileWarning, match="dangling link"):
        df, _ = read(str(root / "*.jsonl.zst"))
    assert df.height == 3


@pytest.mark.parametrize("strict", [False, True])
def test_named_file_that_cannot_be_read_raises_in_both_modes(tmp_path: Path, strict: bool) -> None:
    link = tmp_path / "gone.jsonl.zst"
    link.symlink_to(tmp_path / "missing-target")
    with pytest.raises(sl.DataError, match=r"cannot read .*dangling link"):
        read(link, strict=strict)


# -- names: letter case, .zstd, .ndjson, bzip2 and xz --------------------------------------------
VARIANTS = {
    "UPPER.JSONL.ZST": zstd_frame(DATA),
    "long-suffix.jsonl.zstd": zstd_frame(DATA),
    "bare.zstd": zstd_frame(DATA),
    "lines.ndjson": DATA,
    "Mixed.NDJSON.GZ": gzip.compress(DATA),
    "bzipped.jsonl.bz2": bz2.compress(DATA),
    "xzed.jsonl.xz": lzma.compress(DATA),
    "json-suffix.json.zst": zstd_frame(DATA),
}
IGNORED = {"README.md": b"# notes\n", "SHA256SUMS.txt": b"", "config.json": b"{}"}


def test_extension_variants_read_and_other_names_listed(tmp_path: Path) -> None:
    for name, payload in {**VARIANTS, **IGNORED}.items():
        (tmp_path / name).write_bytes(payload)
    df, report = read(tmp_path)
    assert sorted(df["source"].unique().to_list()) == sorted(VARIANTS)
    assert df.height == 3 * len(VARIANTS) and report.ended_cleanly
    assert {f.format for f in report.files} == {"zstd", "jsonl", "gzip", "bzip2", "xz"}
    assert sorted(Path(p).name for p in report.ignored_paths) == sorted(IGNORED)
    assert "ignored 3 file(s)" in str(report)


@pytest.mark.parametrize("compress", [bz2.compress, lzma.compress], ids=["bzip2", "xz"])
def test_multistream_bzip2_and_xz_read_whole(tmp_path: Path, compress) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "multi.jsonl.x"
    padding = b"\x00" * 4 if compress is lzma.compress else b""  # xz allows stream padding
    path.write_bytes(compress(DATA[:50]) + padding + compress(DATA[50:]))
    df, report = read(path)
    assert df["text"].to_list() == ["good 0", "good 1", "good 2"] and report.ended_cleanly


# -- links to folders, loops --------------------------------------------------------------------
def test_hidden_folders_listed_not_walked(tmp_path: Path) -> None:
    """A git-annex checkout keeps each shard's content under .git/annex/objects with the same
    suffix: walking it would read the data twice."""
    root = _folder(tmp_path)
    objects = root / ".git" / "annex" / "objects"
    objects.mkdir(parents=True)
    write(objects / "MD5E-s99--abc.jsonl.zst", GOOD)
    df, report = read(root)
    assert df.height == 3 and report.ignored_paths == [f"{root / '.git'}/"]


def test_folder_links_followed_once_and_loops_end(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write(elsewhere / "linked.jsonl", [doc("through a link")], "jsonl")
    (root / "link").symlink_to(elsewhere, target_is_directory=True)
    (root / "link-again").symlink_to(elsewhere, target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)
    df, report = read(root)
    assert sorted(df["text"].to_list()) == ["good 0", "good 1", "good 2", "through a link"]
    assert report.ended_cleanly


# -- identity: the same file twice, the same name twice -----------------------------------------
def test_same_file_given_twice_read_once_and_said(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    (root / "alias.jsonl.zst").symlink_to(root / "good.jsonl.zst")
    df, report = read([root / "good.jsonl.zst", root, str(root / "*.zst")])
    assert df.height == 3 and len(report.files) == 1
    assert len(report.duplicate_paths) == 4  # folder and glob: the file and its link, each
    assert "given twice" in str(report) and "read once" in str(report)


def test_same_name_in_two_folders_kept_apart(tmp_path: Path) -> None:
    lines = [doc(f"doc {i}", "ArXiv") for i in range(200)]
    for split in ("a", "b"):
        (tmp_path / split).mkdir()
        write(tmp_path / split / "val.jsonl.zst", lines)
    df, report = read(tmp_path)
    assert df.height == 400 and len(report.files) == 2
    assert sorted(df["source"].unique().to_list()) == ["a/val.jsonl.zst", "b/val.jsonl.zst"]
    # the sample's keys are independent per file: identical files give different line sets
    sample, _ = read(tmp_path, sample_per_subset=40, seed=3)
    picked = {s: set(sample.filter(sample["source"] == s)["line"]) for s in sample["source"]}
    assert sum(map(len, picked.values())) == 40
    assert picked["a/val.jsonl.zst"] != picked["b/val.jsonl.zst"]


def test_sources_are_paths_below_the_common_folder() -> None:
    names = _paths._sources([Path("/d/pile/train/00.jsonl.zst"), Path("/d/pile/val.jsonl.zst")])
    assert names == ["train/00.jsonl.zst", "val.jsonl.zst"]
    assert _paths._sources([Path("/d/pile/val.jsonl.zst")]) == ["val.jsonl.zst"]


@pytest.mark.parametrize(
    ("name", "shard"),
    [
        ("00.jsonl.zst", True),
        ("00.JSONL.ZSTD", True),
        ("x.ndjson.xz", True),
        ("x.bz2", True),
        ("x.json", False),
        ("SHA256SUMS.txt", False),
        ("x.jsonl.zst.dvc", False),
    ],
)
def test_shard_names(name: str, shard: bool) -> None:
    assert _paths.looks_like_shard(name) is shard


def test_file_vanishing_before_it_is_read_is_a_data_error(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    batches = sl.iter_pile_batches(root, progress=False)
    (root / "good.jsonl.zst").unlink()
    with pytest.raises(sl.DataError, match=r"good\.jsonl\.zst: cannot read: No such file"):
        list(batches)
    assert not batches.report.ended_cleanly


def test_file_names_that_are_not_utf8_read_and_shown_as_text(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.jsonl.zst")  # any bytes are a valid file name on Linux
    write(tmp_path / name, GOOD)
    write(tmp_path / "plain.jsonl.zst", [doc("plain")])
    (tmp_path / os.fsdecode(b"bin\xff.jsonl")).write_bytes(b"\x00\x01binary\x00" * 50)
    with pytest.warns(sl.DamagedFileWarning, match=r"bin\\xff\.jsonl"):
        df, report = read(tmp_path, sample_per_subset=10)
    assert sorted(df["source"].unique()) == ["caf\\xe9.jsonl.zst", "plain.jsonl.zst"]
    assert df.height == 4 and "caf\\xe9.jsonl.zst" in str(report).encode().decode()
    assert json.dumps(report.to_dict())  # printable, serialisable: no lone surrogates left
