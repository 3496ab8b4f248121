"""`model_source` reads whether weights are trained from the model itself, never assumes it."""

from __future__ import annotations

import copy

import pytest

from segpile_lab.backends._source import model_source
from segpile_lab.seg.model import demo_model, is_demo_model


def test_a_bare_demo_model_is_untrained_and_a_segmenter_keeps_its_own_label(seg_b0):
    bare = demo_model("demo-b0")
    assert is_demo_model(bare) and not model_source(bare).is_trained
    assert not model_source(seg_b0).is_trained and model_source(seg_b0).name == seg_b0.name


def test_a_bare_model_without_the_demo_marker_counts_as_trained():
    model = copy.deepcopy(demo_model("demo-b0"))
    del model.config.segpile_demo_weights  # what fine-tuning does to a trained checkpoint
    assert not is_demo_model(model) and model_source(model).is_trained


def test_something_that_only_looks_like_a_segmenter_is_refused(seg_b0):
    class Lookalike:
        model = seg_b0.model
        is_trained = True

    with pytest.raises(TypeError, match="expected a Segmenter"):
        model_source(Lookalike())
