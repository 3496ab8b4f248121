"""Fine-tuning: loss goes down, frozen parts stay bit-identical, resume is exact, checkpoints
load back as trained."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

from segpile_lab.seg.finetune import finetune
from segpile_lab.seg.images import demo_images
from segpile_lab.seg.synthetic import SHAPE_CLASSES, synthetic_shapes

SMALL = {"image_size": 64, "batch_size": 4, "progress": False, "live_plot": False}


@pytest.fixture(scope="module")
def shapes():
    return synthetic_shapes(8, size=64, seed=3)


def _state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_synthetic_shapes_are_seeded_and_labelled(shapes):
    again = synthetic_shapes(8, size=64, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(shapes.images, again.images, strict=True))
    assert shapes.synthetic and shapes.id2label == SHAPE_CLASSES
    present = np.unique(np.concatenate([m.ravel() for m in shapes.targets]))
    assert set(present) == {0, 1, 2, 3}
    # each image is named by the demo photo behind its shapes (the gallery's cards), and a
    # subset keeps the names of its images
    photos = demo_images()
    for index in range(len(shapes)):
        behind = shapes.source(index).removeprefix("shapes on ")
        assert behind in photos and shapes.source(index) == f"shapes on {behind}"
    assert shapes.subset([5, 2]).sources == [shapes.source(5), shapes.source(2)]
    with pytest.raises(ValueError, match="8 images but 1 sources"):
        type(shapes)(shapes.images, shapes.targets, sources=["one"])


@pytest.mark.parametrize("mode", ["decoder", pytest.param("full", marks=pytest.mark.slow)])
def test_a_few_steps_reduce_the_loss_on_a_fixed_batch(demo_b0, shapes, mode):
    fixed = shapes.subset(range(4))  # one batch, the same every step (no augmentation)
    result = finetune(demo_b0, fixed, mode=mode, epochs=5, lr=1e-3, augment=False, **SMALL)
    losses = result.history["loss"].to_list()
    assert len(losses) == 5 and losses[-1] < 0.8 * losses[0]


def test_decoder_only_keeps_the_encoder_bit_identical_and_bn_statistics_frozen(demo_b0, shapes):
    encoder, head = _state(demo_b0.model.segformer), _state(demo_b0.model.decode_head)
    result = finetune(demo_b0, shapes, mode="decoder", epochs=1, **SMALL)
    trained = result.segmenter.model
    after = trained.segformer.state_dict()
    assert all(torch.equal(encoder[k], after[k]) for k in encoder)
    bn = trained.decode_head.batch_norm
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert torch.equal(getattr(bn, name), head[f"batch_norm.{name}"])  # frozen statistics
    assert not torch.equal(bn.weight, head["batch_norm.weight"])  # affine part still trained
    assert trained.decode_head.classifier.out_channels == 4  # the new label set
    assert _state(demo_b0.model.segformer).keys() == encoder.keys()  # input model untouched
    assert torch.equal(demo_b0.model.decode_head.classifier.weight, head["classifier.weight"])


@pytest.mark.slow
def test_full_mode_trains_the_encoder_but_not_bn_statistics(demo_b0, shapes):
    encoder, head = _state(demo_b0.model.segformer), _state(demo_b0.model.decode_head)
    trained = finetune(demo_b0, shapes, mode="full", epochs=1, **SMALL).segmenter.model
    after = trained.segformer.state_dict()
    assert any(not torch.equal(encoder[k], after[k]) for k in encoder)
    assert torch.equal(trained.decode_head.batch_norm.running_var, head["batch_norm.running_var"])


def test_resume_from_a_checkpoint_gives_the_uninterrupted_weights(demo_b0, shapes, tmp_path):
    options = {**SMALL, "batch_size": 2, "mode": "decoder", "epochs": 1, "seed": 5}
    whole = finetune(demo_b0, shapes, output_dir=tmp_path / "a", save_every=2, **options)
    assert whole.checkpoint == tmp_path / "a" / "checkpoint-4"
    halfway = tmp_path / "a" / "checkpoint-2"
    resumed = finetune(demo_b0, shapes, resume_from=halfway, output_dir=tmp_path / "b", **options)
    expected, got = _state(whole.segmenter.model), _state(resumed.segmenter.model)
    assert all(torch.equal(expected[k], got[k]) for k in expected)
    assert resumed.history["step"].to_list() == [1, 2, 3, 4]


def test_checkpoint_loads_back_as_trained(demo_b0, shapes, tmp_path):
    import segpile_lab as sl

    result = finetune(demo_b0, shapes, mode="decoder", max_steps=1, output_dir=tmp_path, **SMALL)
    config = json.loads((result.checkpoint / "config.json").read_text())
    assert "segpile_demo_weights" not in config
    assert config["segpile_finetuned_from"] == "demo-b0" and config["segpile_finetune_steps"] == 1
    assert config["segpile_synthetic_data"] is True
    assert (result.checkpoint / "model.safetensors").is_file()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = sl.load_segmenter(result.checkpoint, device="cpu")
    assert loaded.is_trained and result.segmenter.is_trained and not demo_b0.is_trained
    assert loaded.id2label == SHAPE_CLASSES
    image = shapes.images[0]
    assert np.array_equal(
        loaded.predict(image, progress=False).labels,
        result.segmenter.predict(image, progress=False).labels,
    )


def test_bad_arguments_and_data_fail_before_training(demo_b0, shapes, tmp_path):
    from segpile_lab.errors import DataError

    with pytest.raises(ValueError, match="mode must be"):
        finetune(demo_b0, shapes, mode="encoder", **SMALL)
    with pytest.raises(DataError, match="empty"):
        finetune(demo_b0, shapes.subset([]), **SMALL)
    with pytest.raises(DataError, match="not a fine-tuning checkpoint"):
        demo_b0.model.save_pretrained(tmp_path / "plain")
        finetune(demo_b0, shapes, resume_from=tmp_path / "plain", **SMALL)


def test_training_pixels_are_the_checkpoints_inference_pixels():
    """Without augmentation a training batch is exactly what `Preprocessing` feeds the model at
    inference, with the checkpoint's own mean/std (not ImageNet's by default)."""
    from segpile_lab.seg.dataset import SegmentationDataset
    from segpile_lab.seg.finetune import _batch
    from segpile_lab.seg.preprocess import Preprocessing

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    mask = rng.integers(0, 5, (37, 53), dtype=np.uint8)
    stats = Preprocessing(size=(64, 64), mean=(0.5, 0.4, 0.3), std=(0.2, 0.3, 0.25))
    pixels, masks = _batch(
        SegmentationDataset([image], [mask]), np.array([0]), 64, stats, False, []
    )
    assert torch.equal(pixels, stats([image]))
    assert masks.shape == (1, 64, 64) and set(masks.unique().tolist()) <= set(range(5))
