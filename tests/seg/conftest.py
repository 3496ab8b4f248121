"""Fixtures of the segmentation tests: demo models (built once) and small images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segpile_lab.errors import UntrainedModelWarning


@pytest.fixture(scope="session", autouse=True)
def _two_threads():
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def demo_b0():
    from segpile_lab.seg.model import load_segmenter

    with pytest.warns(UntrainedModelWarning, match="untrained demo weights"):
        return load_segmenter("demo-b0", device="cpu")


@pytest.fixture(scope="session")
def ade20k_dir(shared_data):
    return shared_data / "ade20k"


@pytest.fixture
def rgb_image() -> np.ndarray:
    """A small (37, 53, 3) uint8 picture with structure (gradients and a square)."""
    y, x = np.mgrid[0:37, 0:53]
    image = np.stack([x * 4, y * 6, (x + y) * 2], axis=-1).astype(np.uint8)
    image[10:20, 10:30] = (250, 20, 20)
    return image
