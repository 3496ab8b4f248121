"""The layer vocabulary: one table, checked against matplotlib and the maps' own definitions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from matplotlib import colormaps

from segpile_lab.seg.layers import LAYERS, MAP_LAYERS, RIGHT, colorize, value_range, vocabulary_json
from segpile_lab.seg.results import UNCERTAINTY_LAYERS


def test_every_uncertainty_map_of_a_result_is_a_map_layer_with_units():
    assert set(UNCERTAINTY_LAYERS) == set(MAP_LAYERS)
    for name in MAP_LAYERS:
        layer = LAYERS[name]
        assert layer.colormap in colormaps and layer.units and layer.note
        # a layer in nats says so in its label (a colour bar shows the label)
        assert (layer.units == "nats") == ("(nats)" in layer.label)


@pytest.mark.parametrize(
    ("name", "high_is_error"),
    [("confidence", False), ("margin", False), ("entropy", True), ("mutual_information", True)],
)
def test_high_means_error_only_for_uncertainty_scores(name, high_is_error):
    assert LAYERS[name].high_is_error is high_is_error


def test_value_range_by_kind():
    assert value_range("confidence", 150) == 1.0
    assert value_range("entropy", 150) == pytest.approx(math.log(150))
    mi = np.array([[0.0, 0.2], [np.nan, 0.05]], np.float32)
    assert value_range("mutual_information", 150, mi) == pytest.approx(0.2)
    assert value_range("mutual_information", 150, np.zeros((2, 2))) == 1.0  # nothing to scale


def test_colorize_is_matplotlibs_colour_map():
    values = np.linspace(0, math.log(5), 11).reshape(1, 11)
    got = colorize(values, "entropy", math.log(5))
    # matplotlib looks integer inputs up in its 256-entry table: the same 8-bit steps
    index = np.round(values / math.log(5) * 255).astype(int)
    expected = np.round(colormaps["magma"](index)[..., :3] * 255)
    np.testing.assert_array_equal(got, expected)


def test_vocabulary_json_carries_the_table_and_the_colour_maps():
    sent = json.loads(json.dumps(vocabulary_json()))
    assert sent["layers"]["margin"]["label"] == LAYERS["margin"].label
    assert sent["colors"]["right"] == list(RIGHT)
    assert set(sent["colormaps"]) == {"magma", "viridis"}
