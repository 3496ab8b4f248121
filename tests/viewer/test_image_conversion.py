"""The viewer shows exactly the pixels the model segmented, for every kind of input image.

Each case gives an input and its pixel computed by hand; the viewer's picture, an overlay and
the array `predict` hands to pre-processing must all equal it (one conversion,
``seg.images.rgb_array``; before, the viewer dropped transparency, clipped 16-bit values at
255 and showed bool masks as black).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_result
from PIL import Image

from segpile_lab.seg import inference
from segpile_lab.viewer._data import build_viewer_data
from segpile_lab.viewer._payload import as_rgb

H, W = 12, 16


def _rgba(alpha: int) -> np.ndarray:
    out = np.zeros((H, W, 4), np.uint8)
    out[..., 0], out[..., 3] = 200, alpha
    return out


CASES = {
    # name: (input, the RGB pixel the model sees, by hand)
    "rgba-transparent": (_rgba(0), (255, 255, 255)),  # composited on white, not dropped
    "rgba-half": (_rgba(128), (228, 127, 127)),  # 200·128/255 + 255·127/255 = 227.5
    "rgba-pil": (Image.fromarray(_rgba(0)), (255, 255, 255)),
    "uint16": (np.full((H, W, 3), 32896, np.uint16), (128, 128, 128)),  # 32896 / 257
    "uint16-max": (np.full((H, W), 65535, np.uint16), (255, 255, 255)),  # not clipped at 255
    "bool": (np.ones((H, W), bool), (255, 255, 255)),  # True is white, not 1/255
    "float-unit": (np.full((H, W, 3), 0.5, np.float32), (128, 128, 128)),
    "float-wide": (np.dstack([np.linspace(-1, 3, H * W).reshape(H, W)] * 3), None),  # stretched
    "grey-uint8": (np.full((H, W), 7, np.uint8), (7, 7, 7)),
    "la-pil": (Image.new("LA", (W, H), (10, 0)), (255, 255, 255)),
}


def _expected(name: str) -> np.ndarray:
    image, pixel = CASES[name]
    if pixel is not None:
        return np.broadcast_to(np.asarray(pixel, np.uint8), (H, W, 3))
    grey = np.rint((image[..., 0] + 1) / 4 * 255).astype(np.uint8)  # min..max -> 0..255
    return np.repeat(grey[..., None], 3, axis=2)


@pytest.mark.parametrize("name", CASES)
def test_viewer_picture_is_the_hand_computed_pixel(name):
    image, _ = CASES[name]
    expected = _expected(name)
    np.testing.assert_allclose(as_rgb(image), expected, atol=1)
    data = build_viewer_data(image, make_result(H, W))
    np.testing.assert_array_equal(data.image, as_rgb(image))


@pytest.mark.parametrize("name", CASES)
def test_predict_sees_the_same_pixels_as_the_viewer(name, monkeypatch):
    """Stop `predict` where it hands the loaded arrays to pre-processing, and compare."""
    image, _ = CASES[name]
    seen: list[np.ndarray] = []

    class Seen(Exception):
        pass

    def spy(arrays, *args, **kwargs):
        seen.extend(arrays)
        raise Seen

    monkeypatch.setattr("segpile_lab.seg.preprocess.preprocess_arrays", spy)

    class Segmenter:
        preprocessing = staticmethod(spy)  # the segmenter's own pre-processing, where used

        def logits(self, pixel_values):  # never reached
            raise AssertionError

    with pytest.raises(Seen):
        inference.predict(Segmenter(), image, backend=None, progress=False)
    np.testing.assert_array_equal(seen[0], as_rgb(image))
