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


class _RayError(Exception):
    """Stands for ``ray.exceptions.RayError`` (the worker or node was lost)."""


class _RayTaskError(_RayError):
    """Stands for ``ray.exceptions.RayTaskError``: the task raised `cause`."""

    def __init__(self, cause: BaseException):
        super().__init__(repr(cause))
        self.cause = cause


def _fake_ray(raised: BaseException):
    from types import SimpleNamespace

    def get(ref):
        raise raised

    exceptions = SimpleNamespace(RayTaskError=_RayTaskError, RayError=_RayError)
    return SimpleNamespace(get=get, exceptions=exceptions)


@pytest.mark.parametrize(
    ("raised", "expected", "message"),
    [
        (_RayTaskError(KeyError("k")), "EngineError", "unit u1 failed on Ray: KeyError"),
        (_RayError("node died"), "EngineError", "unit u1 failed on Ray after .* node died"),
        (_RayTaskError(ImageLoadError("x.png: empty")), "ImageLoadError", "x.png: empty"),
    ],
)
def test_a_unit_that_fails_on_ray_raises_engine_error_or_our_own(raised, expected, message):
    from types import SimpleNamespace

    from segpile_lab import errors
    from segpile_lab.distributed.engine import _fetch

    unit = SimpleNamespace(key="u1")
    with pytest.raises(SegpileError, match=message) as caught:
        _fetch(_fake_ray(raised), object(), unit)  # type: ignore[arg-type]
    assert type(caught.value) is getattr(errors, expected)
    if expected == "EngineError":
        assert caught.value.__cause__ is raised
