"""errors.wrap_errors: third-party exceptions become our error, with the path, chained."""

from __future__ import annotations

import json

import pytest

from segpile_lab.errors import DataError, ImageLoadError, SegpileError, wrap_errors


def test_a_third_party_error_is_wrapped_with_the_path_and_chained(tmp_path):
    path = tmp_path / "bad.json"
    with pytest.raises(DataError) as caught, wrap_errors(DataError, path, "not JSON"):
        json.loads("{")
    assert str(caught.value).startswith(f"{path}: not JSON (JSONDecodeError: ")
    assert isinstance(caught.value.__cause__, json.JSONDecodeError)


def test_our_own_errors_pass_through_unchanged():
    original = ImageLoadError("x.png: empty")
    with pytest.raises(ImageLoadError) as caught, wrap_errors(DataError, "x.png", "unreadable"):
        raise original
    assert caught.value is original


def test_only_the_listed_exceptions_are_wrapped():
    with pytest.raises(KeyError), wrap_errors(DataError, "f", "what", (OSError,)):
        raise KeyError("k")
    expected = "f: what \\(FileNotFoundError: gone\\)"
    with (
        pytest.raises(SegpileError, match=expected),
        wrap_errors(DataError, "f", "what", (OSError,)),
    ):
        raise FileNotFoundError("gone")
