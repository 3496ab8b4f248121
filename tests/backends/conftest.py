"""Fixtures for the backend tests: demo-b0, realistic small pixel values, a private ONNX cache."""

from __future__ import annotations

import warnings

import pytest
import torch

from segpile_lab.errors import UntrainedModelWarning

SIZE = 128  # pixels; B0 at 128² keeps every backend test fast


@pytest.fixture(scope="session")
def seg_b0():
    import segpile_lab as sl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        return sl.load_segmenter("demo-b0", device="cpu")


@pytest.fixture(scope="session")
def pixels(seg_b0) -> torch.Tensor:
    """The two demo photos, preprocessed as SegFormer expects, resized to SIZE²: (2, 3, S, S)."""
    import segpile_lab as sl

    full = seg_b0.preprocess(list(sl.demo_images().values()))
    return torch.nn.functional.interpolate(full, size=(SIZE, SIZE), mode="bilinear", antialias=True)


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("onnx-cache"))


@pytest.fixture(autouse=True)
def one_thread():
    """Correctness tests run on one thread: on a shared 2-core machine two OpenMP threads can
    be 20× slower than one when the other core is busy."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
