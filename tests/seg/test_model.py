"""Loading: demo models from the real configs, local directories, loaded models, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segpile_lab.errors import (
    GenericLabelsWarning,
    ModelNotAvailableError,
    UntrainedModelWarning,
)
from segpile_lab.seg.ade20k import ADE20K
from segpile_lab.seg.model import demo_model, load_segmenter


@pytest.mark.parametrize(
    ("name", "depths", "hidden", "decoder"),
    [
        ("demo-b0", [2, 2, 2, 2], [32, 64, 160, 256], 256),
        ("demo-b2", [3, 4, 6, 3], [64, 128, 320, 512], 768),
    ],
)
def test_demo_configs_are_the_real_architectures(name, depths, hidden, decoder):
    config = demo_model(name).config
    assert config.depths == depths and config.hidden_sizes == hidden
    assert config.num_attention_heads == [1, 2, 5, 8] and config.sr_ratios == [8, 4, 2, 1]
    assert config.decoder_hidden_size == decoder
    assert config.classifier_dropout_prob == 0.1 and config.drop_path_rate == 0.1
    assert config.id2label == ADE20K.id2label


def test_demo_b2_has_the_published_parameter_count():
    parameters = sum(p.numel() for p in demo_model("demo-b2").parameters())
    assert parameters == pytest.approx(27.4e6, rel=0.01)  # SegFormer-B2 ADE20K: 27.4 M


def test_demo_weights_are_seeded():
    first, second = demo_model("demo-b0"), demo_model("demo-b0")
    assert all(
        torch.equal(a, b)
        for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True)
    )


def test_demo_segmenter_attributes(demo_b0):
    assert demo_b0.is_trained is False and demo_b0.name == "demo-b0"
    assert demo_b0.num_labels == 150 and demo_b0.id2label[0] == "wall"
    assert demo_b0.device == torch.device("cpu") and "untrained demo weights" in repr(demo_b0)


def test_local_directory_round_trip_keeps_the_demo_marker(tmp_path):
    demo_model("demo-b0").save_pretrained(tmp_path / "b0")
    with pytest.warns(UntrainedModelWarning):
        segmenter = load_segmenter(tmp_path / "b0", device="cpu")
    assert segmenter.is_trained is False and segmenter.name == str(tmp_path / "b0")


def test_loaded_model_object_is_accepted():
    model = demo_model("demo-b0")
    model.config.segpile_demo_weights = False  # pretend it was trained
    segmenter = load_segmenter(model, device="cpu")
    assert segmenter.model is model and segmenter.is_trained


def test_missing_weights_offline_names_id_cache_and_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        ModelNotAvailableError, match=r"nvidia/segformer-b2-finetuned-ade-512-512.*offline"
    ) as info:
        load_segmenter(local_files_only=True)
    assert "Fix:" in str(info.value) and "Hugging Face cache at" in str(info.value)


def test_checkpoint_without_names_gets_generic_names():
    from transformers import SegformerConfig, SegformerForSemanticSegmentation

    model = SegformerForSemanticSegmentation(
        SegformerConfig(
            depths=[1, 1, 1, 1], hidden_sizes=[8, 8, 8, 8], decoder_hidden_size=8, num_labels=19
        )
    )
    with pytest.warns(GenericLabelsWarning, match="no names"):
        segmenter = load_segmenter(model, device="cpu")
    assert segmenter.id2label[18] == "class 18" and segmenter.palette.shape == (19, 3)
    result = segmenter.predict(np.zeros((20, 30, 3), dtype=np.uint8), progress=False)
    assert result.labels.shape == (20, 30) and int(result.labels.max()) < 19
    assert result.class_shares()["name"][0].startswith("class ")


def test_checkpoint_with_other_named_classes_says_so():
    from transformers import SegformerConfig, SegformerForSemanticSegmentation

    config = SegformerConfig(
        depths=[1, 1, 1, 1],
        hidden_sizes=[8, 8, 8, 8],
        decoder_hidden_size=8,
        num_labels=2,
        id2label={0: "road", 1: "car"},
    )
    with pytest.warns(GenericLabelsWarning, match="2 classes of no known label set"):
        segmenter = load_segmenter(SegformerForSemanticSegmentation(config), device="cpu")
    assert segmenter.id2label == {0: "road", 1: "car"}


def test_wrong_type_raises():
    with pytest.raises(TypeError, match="hub id"):
        load_segmenter(3.5)
