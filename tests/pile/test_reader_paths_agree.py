"""The columnar (Polars) and per-line (orjson) paths give the same rows and the same report.

Every bad line of the catalog is mixed into clean lines; the file is read once as usual
(clean chunks columnar, the others per line) and once with the columnar path switched off.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from pile_io import columnar_chunks, doc, fallback_chunks, read, write
from polars.testing import assert_frame_equal

from segpile_lab.pile import _parse
from segpile_lab.pile import reader as reader_module

BAD_LINES = {
    "malformed": b'{"text": "bro',
    "blank": b"",
    "whitespace": b"   ",
    "crlf": doc("crlf") + b"\r",
    "bom": b"\xef\xbb\xbf" + doc("bom"),
    "non_utf8": b'{"text": "caf\xe9", "meta": {"pile_set_name": "ArXiv"}}',
    "lone_high": b'{"text": "a\\ud800b", "meta": {"pile_set_name": "ArXiv"}}',
    "lone_low": b'{"text": "a\\udc00b", "meta": {"pile_set_name": "ArXiv"}}',
    "nul_escape": b'{"text": "a\\u0000b", "meta": {"pile_set_name": "ArXiv"}}',
    "pair": b'{"text": "\\ud83d\\ude00", "meta": {"pile_set_name": "ArXiv"}}',
    "nan": b'{"text": "x", "meta": {"pile_set_name": "ArXiv"}, "s": NaN}',
    "dup_text": b'{"text": "a", "text": "b", "meta": {"pile_set_name": "ArXiv"}}',
    "dup_subset": b'{"text": "a", "meta": {"pile_set_name": "ArXiv", "pile_set_name": "Github"}}',
    "dup_meta": b'{"text": "a", "meta": {"pile_set_name": "ArXiv"}, "meta": {}}',
    "dup_synthetic": b'{"text": "a", "meta": {"pile_set_name": "ArXiv", "synthetic": true, '
    b'"synthetic": false}}',
    "dup_text_spaced": b'{"text": "a", "text" : "b", "meta": {"pile_set_name": "ArXiv"}}',
    "dup_subset_tab": b'{"text": "a", "meta": {"pile_set_name": "A", "pile_set_name":\t"B"}}',
    "dup_text_three_blanks": b'{"text": "a", "text"   : "b", "meta": {"pile_set_name": "ArXiv"}}',
    "dup_text_cr": b'{"text": "a", "text"\r: "b", "meta": {"pile_set_name": "ArXiv"}}',
    "dup_text_escaped": b'{"text": "a", "te\\u0078t": "b", "meta": {"pile_set_name": "ArXiv"}}',
    "dup_subset_escaped": b'{"text": "a", "meta": {"pile_set_name": "ArXiv", '
    b'"pile\\u005fset_name": "Github"}}',
    "array": b'[{"text": "a", "meta": {"pile_set_name": "ArXiv"}}]',
    "pretty_open": b"{",
    "no_meta": b'{"text": "x"}',
    "null_subset": b'{"text": "x", "meta": {"pile_set_name": null}}',
    "number_subset": b'{"text": "x", "meta": {"pile_set_name": 5}}',
    "meta_string": json.dumps(
        {"text": "m", "meta": json.dumps({"pile_set_name": "EuroParl"})}
    ).encode(),
    "meta_list": b'{"text": "x", "meta": [1]}',
    "no_text": b'{"meta": {"pile_set_name": "ArXiv"}}',
    "empty_text": doc(""),
    "text_int": b'{"text": 123, "meta": {"pile_set_name": "ArXiv"}}',
    "text_list": b'{"text": [1, 2], "meta": {"pile_set_name": "ArXiv"}}',
    "unknown_subset": doc("u", "Githib"),
    "alias": doc("a", "pile_enron"),
    "extra_fields": b'{"id": 1, "text": "e", "meta": {"pile_set_name": "ArXiv", "x": [1]}}',
    "compact": b'{"text":"c","meta":{"pile_set_name":"ArXiv"}}',
    "quoted_key_in_text": doc('he said "text": "no" and \\"meta"'),
    "synthetic_str": b'{"text": "s", "meta": {"pile_set_name": "ArXiv", "synthetic": "yes"}}',
    "deep": b'{"text": "d", "x": '
    + b"[" * 600
    + b"]" * 600
    + b', "meta": {"pile_set_name": "ArXiv"}}',
    "too_deep": b'{"text": "d", "x": '  # beyond orjson's and Polars' depth limits
    + b"[" * 5000
    + b"]" * 5000
    + b', "meta": {"pile_set_name": "ArXiv"}}',
    "huge_int": b'{"text": "h", "n": ' + b"9" * 5000 + b', "meta": {"pile_set_name": "ArXiv"}}',
}


def _read_both(path: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: object):  # type: ignore[no-untyped-def]
    mixed = read(path, **kwargs)
    with monkeypatch.context() as patch:
        patch.setattr(_parse, "_columnar", lambda chunk: None)
        per_line = read(path, **kwargs)
    return mixed, per_line


def _assert_same(mixed, per_line) -> None:  # type: ignore[no-untyped-def]
    (df_a, rep_a), (df_b, rep_b) = mixed, per_line
    assert_frame_equal(df_a, df_b)
    for name in ("skipped", "fixed", "flagged", "unknown_subsets"):
        assert getattr(rep_a, name) == getattr(rep_b, name), name
    assert rep_a.blank_lines == rep_b.blank_lines
    assert [(e.reason, e.line) for e in rep_a.examples] == [
        (e.reason, e.line) for e in rep_b.examples
    ]


@pytest.mark.parametrize("case", sorted(BAD_LINES))
@pytest.mark.parametrize("unicode_errors", ["skip", "replace"])
def test_paths_agree_on_each_bad_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, unicode_errors: str
) -> None:
    lines = [doc("before", "Github"), BAD_LINES[case], doc("after", "Github")]
    mixed, per_line = _read_both(
        write(tmp_path / "f.zst", lines), monkeypatch, unicode_errors=unicode_errors
    )
    _assert_same(mixed, per_line)
    assert "\x00" not in "".join(mixed[0]["text"].to_list()) or case == "nul_escape"


def test_paths_agree_on_a_shuffled_mix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small chunks, most clean (columnar), some holding one bad line (per line)."""
    monkeypatch.setattr(reader_module, "CHUNK_BYTES", 2048)
    rng = random.Random(7)
    lines = [
        doc(f"doc {i} " + "w" * rng.randrange(300), rng.choice(["ArXiv", "Github", "FreeLaw"]))
        for i in range(400)
    ]
    for bad in BAD_LINES.values():
        lines.insert(rng.randrange(len(lines)), bad)
    mixed, per_line = _read_both(write(tmp_path / "f.zst", lines), monkeypatch)
    _assert_same(mixed, per_line)
    report = mixed[1]
    assert columnar_chunks(report) > 10 and fallback_chunks(report) > 5
    assert report.rows_read == mixed[0].height > 400


def test_clean_file_is_read_columnar(tmp_path: Path) -> None:
    lines = [doc(f"clean {i}", "OpenWebText2") for i in range(1000)]
    _, report = read(write(tmp_path / "f.zst", lines))
    assert columnar_chunks(report) == 1 and fallback_chunks(report) == 0


def test_json_inside_a_document_keeps_the_chunk_columnar(tmp_path: Path) -> None:
    """Escaped quotes before a colon (code, JSON quoted in text) are text, not keys."""
    texts = [json.dumps({"text": i, "meta": {"pile_set_name": "x"}, 'a\\"b': 1}) for i in range(50)]
    df, report = read(write(tmp_path / "f.zst", [doc(t, "Github") for t in texts]))
    assert columnar_chunks(report) == 1 and fallback_chunks(report) == 0
    assert df["text"].to_list() == texts


@pytest.mark.parametrize(
    "case", ["dup_text_escaped", "dup_subset_escaped", "dup_text_three_blanks"]
)
def test_a_duplicate_key_spelled_unusually_gets_last_wins(tmp_path: Path, case: str) -> None:
    df, report = read(write(tmp_path / "f.zst", [doc("x", "ArXiv"), BAD_LINES[case]]))
    assert fallback_chunks(report) == 1
    row = df.row(1, named=True)
    assert (row["text"], row["subset"]) == (("a", "Github") if "subset" in case else ("b", "ArXiv"))
