"""Pillow's header guards (oversized text and ICC chunks) end in ImageLoadError, not ValueError."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from segpile_lab.errors import ImageLoadError
from segpile_lab.seg.images import load_image


def _text_bomb(path):
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "A" * (PngImagePlugin.MAX_TEXT_CHUNK * 2), zip=True)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path, pnginfo=info)


def _icc_bomb(path):
    profile = bytes(PngImagePlugin.MAX_TEXT_CHUNK * 2)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path, icc_profile=profile)


@pytest.mark.parametrize("make", [_text_bomb, _icc_bomb], ids=["zTXt", "iCCP"])
def test_oversized_png_chunks_are_refused_with_the_path(tmp_path, make):
    path = tmp_path / "chunk-bomb.png"
    make(path)
    with pytest.raises(ImageLoadError, match=r"chunk-bomb\.png: refused by Pillow's header"):
        load_image(path)
