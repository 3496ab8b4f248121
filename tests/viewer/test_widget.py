"""Kernel-side widget behaviour: construction, synced state, observers, representations."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import traitlets
from conftest import make_image, make_result
from PIL import Image

import segpile_lab as sl
from segpile_lab.seg.layers import LAYERS, MISSED, RIGHT, WRONG
from segpile_lab.viewer import widget as widget_module
from segpile_lab.viewer._stats import threshold_stats
from segpile_lab.viewer.widget import STATE_TRAITS, SegmentationViewer

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def viewer() -> SegmentationViewer:
    return SegmentationViewer(make_image(), make_result(mc=True),
                              ground_truth=make_result(seed=3).labels, title="test view")


def test_flat_namespace_exports_the_viewer():
    assert sl.SegmentationViewer is SegmentationViewer
    assert callable(sl.segmentation_figure)


def test_js_and_css_ship_beside_the_widget_without_cdn_imports():
    here = Path(widget_module.__file__).parent
    js, css = here / "viewer.js", here / "viewer.css"
    assert js.is_file() and css.is_file()
    text = js.read_text()
    assert "http://" not in text and "https://" not in text and "import " not in text
    assert SegmentationViewer._esm is not None  # anywidget turned the path into file contents


def test_the_js_keeps_no_copy_of_the_layer_vocabulary(viewer):
    """Labels, colour maps and key colours reach the page only through meta.vocabulary."""
    text = (Path(widget_module.__file__).parent / "viewer.js").read_text()
    for layer in LAYERS.values():
        assert layer.label not in text and (not layer.note or layer.note not in text)
    for name in ("viridis", "magma", "nats"):
        assert f'"{name}"' not in text
    for colour in (RIGHT, WRONG, MISSED):
        assert str(list(colour)).replace(" ", "") not in text.replace(" ", "")
    vocabulary = viewer.meta["vocabulary"]
    assert vocabulary["layers"]["entropy"]["label"] == LAYERS["entropy"].label
    assert vocabulary["colors"]["right"] == list(RIGHT)
    assert len(vocabulary["colormaps"]["viridis"]) == 256 * 3


def test_data_is_sent_once_as_bytes(viewer):
    state = viewer.get_state()
    assert isinstance(state["image"], bytes) and len(state["image"]) == 12 * 16 * 3
    assert isinstance(state["arrays"], bytes)
    assert viewer.meta["layers"] == ["labels", "confidence", "entropy", "margin",
                                     "predictive_entropy", "expected_entropy",
                                     "mutual_information", "ground_truth", "errors"]
    assert viewer.meta["banner"] and viewer.meta["is_trained"] is False


def test_set_state_updates_traits_and_runs_observers(viewer):
    viewer.set_state({"layer": "errors", "threshold": 0.5, "selected_class": 2})
    assert viewer.layer == "errors"
    result = make_result(mc=True)
    expected = threshold_stats(result.confidence, 0.5, result.labels, make_result(seed=3).labels)
    assert viewer.threshold_stats[0] == expected
    assert viewer.selection is not None and viewer.selection["id"] == 2


def test_selection_clears_when_restored(viewer):
    viewer.set_state({"selected_class": 1})
    viewer.set_state({"selected_class": -1})
    assert viewer.selection is None


def test_state_round_trips_through_get_state_and_set_state(viewer):
    viewer.set_state({"layer": "entropy", "opacity": 0.25, "outline": True, "threshold": 0.4,
                      "selected_class": 3})
    sent = {k: v for k, v in viewer.get_state().items() if k in STATE_TRAITS}
    other = SegmentationViewer(make_image(), make_result(mc=True),
                               ground_truth=make_result(seed=3).labels)
    other.set_state(sent)
    assert other.ui_state() == viewer.ui_state() == {
        "layer": "entropy", "opacity": 0.25, "outline": True, "threshold": 0.4,
        "selected_class": 3}


def test_constructor_accepts_initial_state():
    w = SegmentationViewer(make_image(), make_result(), layer="margin", opacity=0.3)
    assert (w.layer, w.opacity) == ("margin", 0.3)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"layer": "ground_truth"}, "layer must be one of"),  # no ground truth given
        ({"layer": "mutual_information"}, "layer must be one of"),  # no MC dropout
        ({"layer": "disagreement"}, "layer must be one of"),  # no compare
        ({"selected_class": 5}, "selected_class"),  # 5 classes: ids 0..4
    ],
)
def test_unavailable_state_is_rejected(state, message):
    w = SegmentationViewer(make_image(), make_result())
    with pytest.raises(traitlets.TraitError, match=message):
        w.set_state(state)


@pytest.mark.parametrize(("value", "clipped"), [(-0.5, 0.0), (1.5, 1.0), (0.3, 0.3)])
def test_opacity_and_threshold_are_clipped_to_unit_range(value, clipped):
    w = SegmentationViewer(make_image(), make_result())
    w.set_state({"opacity": value, "threshold": value})
    assert w.opacity == clipped and w.threshold == clipped


def _fallback_picture(html: str) -> Image.Image:
    src = re.search(r'src="data:image/jpeg;base64,([^"]+)"', html)
    assert src, "no embedded JPEG in the HTML fallback"
    return Image.open(io.BytesIO(base64.b64decode(src.group(1))))


def test_mimebundle_has_the_widget_and_one_html_fallback_with_alt(viewer):
    data, _ = viewer._repr_mimebundle_()
    assert {"text/plain", WIDGET_MIME, "text/html"} <= set(data)
    assert "image/png" not in data  # one picture per output keeps saved notebooks small
    html = data["text/html"]
    assert "<img alt=\"Segmentation of a 16x12 image" in html
    assert "untrained demo weights" in html and "IoU" in html
    picture = _fallback_picture(html)
    assert picture.format == "JPEG" and picture.width >= 16
    assert data[WIDGET_MIME]["model_id"] == viewer.model_id


def test_saved_output_of_a_photo_viewer_stays_small():
    """A 600x512 photo: the PNG beside an HTML copy of it took 1.2 MB per output before."""
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, size=(600, 512, 3), dtype=np.uint8)  # noise: a worst case
    w = SegmentationViewer(photo, make_result(600, 512, mc=True), compare=make_result(
        600, 512, seed=4, mc=True), title="size")
    size = len(json.dumps(w._repr_mimebundle_()[0]))
    assert size < 700_000, size


@pytest.mark.parametrize("layer", ["confidence", "entropy", "margin", "predictive_entropy",
                                   "expected_entropy", "mutual_information"])
def test_html_fallback_shows_the_colour_bar_and_units_of_every_map_layer(viewer, layer):
    viewer.set_state({"layer": layer})
    html = viewer._repr_mimebundle_()[0]["text/html"]
    assert html.count("sv-static-colorbar") == 1 and "linear-gradient" in html
    assert LAYERS[layer].label in html
    if LAYERS[layer].units == "nats":
        assert "nats" in html


def test_html_fallback_of_the_ground_truth_layer_has_the_truths_own_legend(viewer):
    viewer.set_state({"layer": "ground_truth"})
    html = viewer._repr_mimebundle_()[0]["text/html"]
    assert "ground truth (annotation): classes by share of labelled pixels" in html
    truth = make_result(seed=3).labels
    top = np.bincount(truth.reshape(-1)).argmax()
    after = html.split("ground truth (annotation): classes by share")[1]
    assert after.index(f"class{top}<") < after.index("</table>")  # its largest class listed


def test_static_png_follows_the_state(viewer):
    before = viewer.to_png()
    viewer.set_state({"layer": "entropy"})
    assert viewer.to_png() != before


def test_trained_result_has_no_banner():
    w = SegmentationViewer(make_image(), make_result(is_trained=True))
    data, _ = w._repr_mimebundle_()
    assert w.meta["banner"] == "" and "untrained" not in data["text/html"]
    assert "untrained" not in repr(w)


def test_repr_is_cheap_and_never_serialises():
    w = SegmentationViewer(make_image(300, 400), make_result(300, 400))
    with mock.patch.object(SegmentationViewer, "get_state", side_effect=AssertionError), \
         mock.patch.object(SegmentationViewer, "to_png", side_effect=AssertionError):
        text = repr(w)
    assert text.startswith("SegmentationViewer(stand-in, 400x300") and len(text) < 200


def test_compare_mode_adds_disagreement():
    a, b = make_result(seed=1), make_result(seed=2)
    w = SegmentationViewer(make_image(), a, compare=b)
    assert "disagreement" in w.meta["layers"] and len(w.panels) == 2
    assert w.meta["disagreement"] == pytest.approx(float((a.labels != b.labels).mean()))
    assert [p["title"] for p in w.panels] == ["stand-in (A)", "stand-in (B)"]
    w.set_state({"layer": "disagreement"})
    assert w.render().shape == (12, 16, 3)


def test_large_image_factor_is_shown():
    w = SegmentationViewer(make_image(300, 400), make_result(300, 400), max_pixels=100 * 100)
    assert w.meta["factor"] == 4 and (w.meta["width"], w.meta["height"]) == (100, 75)
    assert "shown at 1/4" in w._repr_mimebundle_()[0]["text/html"]


def test_ground_truth_can_be_another_result():
    ref = make_result(seed=9)
    w = SegmentationViewer(make_image(), make_result(), ground_truth=ref)
    assert w.meta["has_ground_truth"]
    np.testing.assert_array_equal(w._data.full_ground_truth, ref.labels)
