"""Monte-Carlo dropout: which modules are active, seeding, and the information decomposition."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from segpile_lab.seg.mc_dropout import mc_dropout_maps, mc_dropout_mode, stochastic_modules
from segpile_lab.seg.model import demo_model


def test_b2_active_modules_are_classifier_dropout_and_nonzero_drop_paths():
    model = demo_model("demo-b2")
    names = [name for name, _ in stochastic_modules(model)]
    assert "decode_head.dropout" in names
    drop_paths = [n for n in names if n.endswith("drop_path")]
    assert len(drop_paths) == 3 + 4 + 6 + 3 - 1  # linear 0 → 0.1 over 16 blocks; the first is 0
    assert "segformer.stages.0.blocks.0.drop_path" not in names
    assert not any("attention" in n or "mlp" in n for n in names)  # hidden/attention dropout are 0


def test_mode_switches_only_stochastic_modules_and_restores_eval():
    model = demo_model("demo-b0")
    with mc_dropout_mode(model) as active:
        training = {name for name, module in model.named_modules() if module.training}
        assert training == set(active)
    assert not any(module.training for module in model.modules())


def _fake_passes(probabilities: list[list[float]]):
    """A logits_fn whose T successive calls return the given (C,) probability vectors."""
    calls = iter(probabilities)

    def logits_fn(pixels):
        p = torch.tensor(next(calls), dtype=torch.float32)
        return p.log().view(1, -1, 1, 1).expand(pixels.shape[0], -1, 2, 2)

    return logits_fn


def test_information_decomposition_hand_case():
    passes = [[0.9, 0.1], [0.1, 0.9]]  # two confident, contradicting passes
    maps, _ = mc_dropout_maps(torch.nn.Identity(), _fake_passes(passes), torch.zeros(1, 3, 4, 4), 2)
    h = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert maps["predictive_entropy"][0, 0, 0].item() == pytest.approx(math.log(2), rel=1e-5)
    assert maps["expected_entropy"][0, 0, 0].item() == pytest.approx(h, rel=1e-5)
    assert maps["mutual_information"][0, 0, 0].item() == pytest.approx(math.log(2) - h, rel=1e-5)
    assert maps["top_class_variance"][0, 0, 0].item() == pytest.approx(0.16, rel=1e-4)  # Var{.9,.1}


def test_identical_passes_have_zero_mutual_information():
    maps, _ = mc_dropout_maps(
        torch.nn.Identity(), _fake_passes([[0.7, 0.3]] * 3), torch.zeros(1, 3, 4, 4), 3
    )
    assert maps["mutual_information"].abs().max().item() < 1e-6
    assert maps["top_class_variance"].abs().max().item() < 1e-6


def test_seeded_and_global_rng_untouched(demo_b0, rgb_image):
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    first = demo_b0.predict(rgb_image, mc_samples=2, seed=5, progress=False)
    assert torch.equal(torch.random.get_rng_state(), before)
    again = demo_b0.predict(rgb_image, mc_samples=2, seed=5, progress=False)
    other = demo_b0.predict(rgb_image, mc_samples=2, seed=6, progress=False)
    assert np.array_equal(first.mutual_information, again.mutual_information)
    assert not np.array_equal(first.mutual_information, other.mutual_information)
    assert first.mc_samples == 2 and "decode_head.dropout" in first.mc_active
    assert first.mutual_information.shape == (37, 53) and first.mutual_information.min() >= 0
    np.testing.assert_allclose(
        first.predictive_entropy, first.expected_entropy + first.mutual_information, atol=1e-5
    )
    assert not any(module.training for module in demo_b0.model.modules())
