"""SegFormer checkpoints as the hub ships them load offline, with their own labels and sizes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hub_cache import B0_ADE, B0_CITYSCAPES, B2_ADE, MIT_B0
from hub_repos import CITYSCAPES_NAMES, current_preprocessor, segformer_config

from segpile_lab.errors import CheckpointError, ModelNotAvailableError, UntrainedModelWarning
from segpile_lab.seg.cityscapes import CITYSCAPES_COLORS
from segpile_lab.seg.model import DEFAULT_MODEL, load_segmenter
from segpile_lab.seg.overlay import overlay


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _load(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a trained checkpoint loads without any warning
        return load_segmenter(*args, device="cpu", **kwargs)


def test_default_id_loads_offline_from_the_bin_only_main_branch(offline_hub):
    assert DEFAULT_MODEL == B2_ADE
    main = offline_hub.snapshots[B2_ADE]["main"]
    assert not (main / "model.safetensors").exists() and (main / "pytorch_model.bin").exists()
    segmenter = _load()
    assert segmenter.is_trained and segmenter.untrained_reason is None
    assert _same_weights(segmenter.model, offline_hub.models[B2_ADE])
    assert segmenter.input_size == (512, 512)
    assert segmenter.preprocessing.reduce_labels  # the legacy `reduce_labels: true`
    assert segmenter.num_labels == 150 and segmenter.id2label[0] == "wall"


def test_bin_weights_go_through_torch_load_weights_only(offline_hub, monkeypatch):
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    _load(B0_ADE)
    assert calls and all(flag is True for flag in calls)


@pytest.mark.parametrize("revision", ["refs/pr/1", "commit"])
def test_revision_selects_branch_pr_or_commit(offline_hub, monkeypatch, revision):
    if revision == "commit":
        revision = offline_hub.commit(B0_ADE, "refs/pr/1")

    def no_pickles(*args, **kwargs):
        raise AssertionError("the conversion PR has safetensors: no pickle may be read")

    monkeypatch.setattr(torch, "load", no_pickles)
    segmenter = _load(B0_ADE, revision=revision)
    assert _same_weights(segmenter.model, offline_hub.models[B0_ADE])


def test_cityscapes_checkpoint_brings_its_classes_palette_and_size(offline_hub):
    segmenter = _load(B0_CITYSCAPES)
    assert segmenter.num_labels == 19
    assert tuple(segmenter.id2label.values()) == CITYSCAPES_NAMES
    np.testing.assert_array_equal(segmenter.palette, CITYSCAPES_COLORS)
    assert segmenter.input_size == (1024, 1024)
    assert not segmenter.preprocessing.reduce_labels
    assert segmenter.preprocess([np.zeros((40, 60, 3), np.uint8)]).shape == (1, 3, 1024, 1024)
    image = np.full((48, 64, 3), 120, np.uint8)
    result = segmenter.predict(image)
    assert result.labels.shape == (48, 64) and int(result.labels.max()) < 19
    assert result.is_trained
    painted = overlay(image, result, alpha=1.0)  # every pixel in its class's Cityscapes colour
    np.testing.assert_array_equal(painted, CITYSCAPES_COLORS[result.labels])


def test_encoder_only_checkpoint_is_never_called_trained(offline_hub):
    with pytest.warns(UntrainedModelWarning, match="encoder-only"):
        segmenter = load_segmenter(MIT_B0, device="cpu")
    assert not segmenter.is_trained
    assert "decode head" in segmenter.untrained_reason
    assert segmenter.num_labels == 150  # a new head gets ADE20K's classes, not ImageNet's 1,000
    encoder = offline_hub.models[MIT_B0].segformer.state_dict()
    loaded = segmenter.model.segformer.state_dict()
    assert all(torch.equal(encoder[k], loaded[k]) for k in encoder)
    assert not segmenter.predict(np.full((32, 32, 3), 90, np.uint8)).is_trained


def test_current_processor_config_in_a_local_folder(tmp_path, hub_cache):
    import json

    from hub_repos import segformer_model, torch_bin

    config = segformer_config("b0", dict(enumerate(CITYSCAPES_NAMES)))
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps(current_preprocessor(768, 768, reduce_labels=False))
    )
    (tmp_path / "pytorch_model.bin").write_bytes(torch_bin(segformer_model(config).state_dict()))
    segmenter = _load(tmp_path)
    assert segmenter.input_size == (768, 768) and segmenter.is_trained


class _Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("touch exploit-ran",))


def test_a_pickle_of_objects_is_refused_and_never_run(tmp_path, monkeypatch):
    import json

    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(segformer_config("b0", {0: "a", 1: "b"})))
    torch.save({"weights": _Exploit()}, folder / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match=r"weights_only=True"):
        load_segmenter(folder, device="cpu")
    assert not (tmp_path / "exploit-ran").exists()


def test_corrupt_safetensors_names_the_checkpoint(tmp_path):
    import json

    (tmp_path / "config.json").write_text(json.dumps(segformer_config("b0", {0: "a", 1: "b"})))
    (tmp_path / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(CheckpointError, match=str(tmp_path)):
        load_segmenter(tmp_path, device="cpu")


def test_weights_that_do_not_fit_the_config_are_a_checkpoint_error(tmp_path, hub_cache):
    import json

    from hub_repos import segformer_model, torch_bin

    b0 = segformer_config("b0", {0: "a", 1: "b"})
    (tmp_path / "config.json").write_text(json.dumps(segformer_config("b2", {0: "a", 1: "b"})))
    (tmp_path / "pytorch_model.bin").write_bytes(torch_bin(segformer_model(b0).state_dict()))
    with pytest.raises(CheckpointError, match="cannot be loaded"):
        load_segmenter(tmp_path, device="cpu")


def test_missing_repo_offline_gives_advice_that_works(offline_hub):
    with pytest.raises(ModelNotAvailableError) as info:
        load_segmenter("nvidia/segformer-b5-finetuned-ade-640-640", revision="refs/pr/3")
    message = str(info.value)
    assert "hf download nvidia/segformer-b5-finetuned-ade-640-640 --revision refs/pr/3" in message
    assert "--local-dir" in message and "demo-b2" in message
    assert "huggingface-cli" not in message
    assert str(offline_hub.root) in message


@pytest.mark.parametrize(
    ("content", "message"),
    [(b'{"size": {"shortest_edge": 512}}', "fixed height and width"), (b"{oops", "not a readable")],
)
def test_unusable_preprocessor_config_is_a_checkpoint_error(tmp_path, content, message):
    import json

    from hub_repos import segformer_model, torch_bin

    config = segformer_config("b0", {0: "a", 1: "b"})
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "pytorch_model.bin").write_bytes(torch_bin(segformer_model(config).state_dict()))
    (tmp_path / "preprocessor_config.json").write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_segmenter(tmp_path, device="cpu")
