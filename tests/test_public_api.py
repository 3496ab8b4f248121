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
