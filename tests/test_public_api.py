"""The flat namespace: every advertised name resolves, and the CLI registers every domain."""

from __future__ import annotations

import importlib

import pytest

import segpile_lab
from segpile_lab.cli import COMMAND_MODULES, build_parser


@pytest.mark.parametrize("name", segpile_lab.__all__)
def test_every_name_in_all_resolves(name):
    assert getattr(segpile_lab, name) is not None


@pytest.mark.parametrize(("name", "module"), sorted(segpile_lab._LAZY_EXPORTS.items()))
def test_lazy_exports_come_from_their_module(name, module):
    assert getattr(segpile_lab, name) is getattr(importlib.import_module(module), name)


def test_all_is_sorted_and_unique():
    assert segpile_lab.__all__ == sorted(set(segpile_lab.__all__))


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        segpile_lab.not_a_name  # noqa: B018


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_command_modules_register(module):
    assert callable(importlib.import_module(module).register)


def test_parser_builds_with_every_command():
    parser = build_parser()
    assert parser.prog == "segpile-lab"


def test_type_checking_block_matches_the_lazy_table():
    """Type checkers see the lazy names through a generated block; it must not drift."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "public_types.py"
    spec = importlib.util.spec_from_file_location("public_types", script)
    assert spec is not None and spec.loader is not None
    public_types = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(public_types)
    text = Path(segpile_lab.__file__).read_text(encoding="utf-8")
    expected = public_types.render(segpile_lab._LAZY_EXPORTS)
    assert public_types.current(text) == expected, "run: python3 scripts/public_types.py"


def test_package_is_marked_typed():
    from pathlib import Path

    assert (Path(segpile_lab.__file__).parent / "py.typed").is_file()
