"""Published facts (data_manifests) and SHA256SUMS verification (bad-input item 28)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest
from pile_io import doc, write

import segpile_lab as sl
from segpile_lab._resources import manifests_dir
from segpile_lab.pile import reader as reader_module


def test_manifests_ship_with_citation() -> None:
    folder = manifests_dir()
    for name in ("pile_composition.csv", "pile_paper_bpb.csv", "pile_files.csv", "README.md"):
        assert (folder / name).is_file()
    readme = (folder / "README.md").read_text()
    assert "arXiv:2101.00027" in readme and "Gao" in readme


def test_published_composition_rows_and_arithmetic() -> None:
    table = sl.published_composition()
    assert table["component"].to_list() == list(sl.PILE_SUBSETS)
    assert table.schema["weight_percent"] == pl.Float64
    assert table["weight_percent"].sum() == pytest.approx(100, abs=0.1)
    # effective size = raw size × epochs (the paper rounds to 0.01 GiB)
    effective = table["raw_size_gib"] * table["epochs"]
    assert ((effective - table["effective_size_gib"]).abs() < 0.03).all()
    assert (table["mean_document_size_kib"] > 0).all()


def test_paper_bpb_rows() -> None:
    table = sl.paper_bpb()
    assert table["component"].to_list() == [*sl.PILE_SUBSETS, "The Pile"]
    assert table.columns[1:] == [
        "gpt2_small", "gpt2_medium", "gpt2_large", "gpt2_xl",
        "gpt3_ada", "gpt3_babbage", "gpt3_curie", "gpt3_davinci",
    ]  # fmt: skip
    # GPT-3 davinci beats GPT-3 ada on every component
    assert (table["gpt3_davinci"] < table["gpt3_ada"]).all()


@pytest.mark.shared
@pytest.mark.parametrize(
    ("name", "loader"),
    [("pile_composition.csv", "published_composition"), ("pile_paper_bpb.csv", "paper_bpb")],
)
def test_manifests_match_reference_tables(shared_data: Path, name: str, loader: str) -> None:
    reference = pl.read_csv(shared_data / "reference" / name)
    from polars.testing import assert_frame_equal

    assert_frame_equal(getattr(sl, loader)(), reference, check_dtypes=False)


def test_pile_files_layout() -> None:
    files = sl.pile_files()
    train = files.filter(pl.col("split") == "train")["path"].to_list()
    assert train == [f"train/{i:02d}.jsonl.zst" for i in range(30)]
    assert {"val.jsonl.zst", "test.jsonl.zst", "SHA256SUMS.txt"} <= set(files["path"])


# -- verify_shards -----------------------------------------------------------------------------
def _shards(folder: Path, *, binary_marker: bool = False) -> dict[str, str]:
    (folder / "train").mkdir(parents=True)
    write(folder / "train" / "00.jsonl.zst", [doc("a"), doc("b")])
    write(folder / "val.jsonl.zst", [doc("c")])
    sums = {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in ("train/00.jsonl.zst", "val.jsonl.zst")
    }
    sep = " *" if binary_marker else "  ./"
    (folder / "SHA256SUMS.txt").write_text("".join(f"{d}{sep}{n}\n" for n, d in sums.items()))
    return sums


@pytest.mark.parametrize("binary_marker", [False, True])
def test_verify_shards_ok(tmp_path: Path, binary_marker: bool) -> None:
    sums = _shards(tmp_path, binary_marker=binary_marker)
    assert sl.verify_shards(tmp_path, progress=False) == sums


def test_verify_shards_mismatch_raises(tmp_path: Path) -> None:
    _shards(tmp_path)
    write(tmp_path / "val.jsonl.zst", [doc("tampered")])
    with pytest.raises(
        sl.ChecksumMismatchError, match=r"1 of 2 file\(s\).*val\.jsonl\.zst: sha256"
    ):
        sl.verify_shards(tmp_path, progress=False)


def test_verify_shards_missing_file_raises(tmp_path: Path) -> None:
    _shards(tmp_path)
    (tmp_path / "train" / "00.jsonl.zst").unlink()
    with pytest.raises(sl.ChecksumMismatchError, match=r"train/00\.jsonl\.zst: missing"):
        sl.verify_shards(tmp_path, progress=False)


def test_verify_shards_without_sums_file_raises(tmp_path: Path) -> None:
    with pytest.raises(sl.ChecksumMismatchError, match="no checksum file"):
        sl.verify_shards(tmp_path, progress=False)


def test_verify_shards_bad_sums_line_raises(tmp_path: Path) -> None:
    (tmp_path / "SHA256SUMS.txt").write_text("deadbeef  val.jsonl.zst\n")
    with pytest.raises(sl.DataError, match="line 1: not a sha256sum line"):
        sl.verify_shards(tmp_path, progress=False)


def test_read_pile_verify_raises_before_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shards(tmp_path)
    opened: list[Path] = []
    original = reader_module.iter_decompressed
    monkeypatch.setattr(
        reader_module,
        "iter_decompressed",
        lambda p, *a, **k: opened.append(p) or original(p, *a, **k),
    )
    assert sl.read_pile(tmp_path / "val.jsonl.zst", verify=True, progress=False).height == 1
    write(tmp_path / "val.jsonl.zst", [doc("tampered")])
    opened.clear()
    with pytest.raises(sl.ChecksumMismatchError, match=r"1 of 2 .*val\.jsonl\.zst: sha256"):
        sl.read_pile(tmp_path, verify=True, progress=False)  # train/00 checked from the root
    assert opened == []  # nothing was read


def test_read_pile_verify_without_sums_raises(tmp_path: Path) -> None:
    path = write(tmp_path / "x.jsonl.zst", [doc("a")])
    with pytest.raises(sl.ChecksumMismatchError, match=r"no SHA256SUMS\.txt"):
        sl.read_pile(path, verify=True, progress=False)


# -- SHA256SUMS.txt is data, not instructions (docs/bad-inputs.md, "Pile reader › Checksums") ----
DIGEST, OTHER = "a" * 64, "b" * 64
UNSAFE_SUMS: list[tuple[str, bytes, str]] = [
    ("parent folder", f"{DIGEST}  ../outside.jsonl.zst\n".encode(), "leaves the folder"),
    ("parent inside", f"{DIGEST}  train/../../x.zst\n".encode(), "leaves the folder"),
    ("absolute path", f"{DIGEST}  /etc/passwd\n".encode(), "leaves the folder"),
    ("binary marker, absolute", f"{DIGEST} */etc/shadow\n".encode(), "leaves the folder"),
    ("drive letter", f"{DIGEST}  C:\\pile\\val.zst\n".encode(), "leaves the folder"),
    (
        "conflicting duplicate",
        f"{DIGEST}  val.jsonl.zst\n{OTHER}  ./val.jsonl.zst\n".encode(),
        "listed twice with different digests",
    ),
    (
        "not UTF-8",
        DIGEST.encode() + b"  val\xff\xfe.jsonl.zst\n",
        "line 1: a name that is not UTF-8",
    ),
    ("not a sums line", b"deadbeef  val.jsonl.zst\n", "not a sha256sum line"),
]


@pytest.mark.parametrize(
    ("content", "message"), [c[1:] for c in UNSAFE_SUMS], ids=[c[0] for c in UNSAFE_SUMS]
)
def test_unsafe_sums_file_refused_before_hashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, message: str
) -> None:
    from segpile_lab.pile import manifests

    hashed: list[Path] = []
    monkeypatch.setattr(manifests, "_sha256", lambda path, bar: hashed.append(path) or "")
    write(tmp_path / "val.jsonl.zst", [doc("a")])
    (tmp_path / "SHA256SUMS.txt").write_bytes(content)
    with pytest.raises(sl.ManifestError, match=message):
        sl.verify_shards(tmp_path, progress=False)
    assert hashed == []  # nothing was opened
    assert issubclass(sl.ManifestError, sl.DataError)


def test_same_entry_twice_is_fine_and_escaped_names_read(tmp_path: Path) -> None:
    path = write(tmp_path / "odd\\name.jsonl.zst", [doc("a")])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    line = f"\\{digest}  odd\\\\name.jsonl.zst\n"  # sha256sum's escaped form of a backslash
    (tmp_path / "SHA256SUMS.txt").write_text(line + line)
    assert sl.verify_shards(tmp_path, progress=False) == {"odd\\name.jsonl.zst": digest}


def test_verify_files_outside_the_folder_refused(tmp_path: Path) -> None:
    _shards(tmp_path)
    with pytest.raises(sl.ManifestError, match="leave"):
        sl.verify_shards(tmp_path, files=["../val.jsonl.zst"], progress=False)


def test_every_paper_model_has_a_reader_name() -> None:
    names = [sl.paper_model_name(c) for c in sl.paper_bpb().columns[1:]]
    assert names == ["GPT-2 small", "GPT-2 medium", "GPT-2 large", "GPT-2 XL",
                     "GPT-3 Ada", "GPT-3 Babbage", "GPT-3 Curie", "GPT-3 DaVinci"]  # fmt: skip
    assert sl.paper_model_name("demo-gpt2") == "demo-gpt2"
