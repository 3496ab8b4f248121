"""Temperature scaling: the NLL minimum, ECE on an over-confident model, labels unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from segpile_lab.seg.calibration import fit_temperature
from segpile_lab.seg.dataset import SegmentationDataset
from segpile_lab.seg.metrics import evaluate


def _noisy_targets(segmenter, images, wrong=0.3, seed=0):
    """The model's own labels with `wrong` of the pixels set to another class."""
    rng = np.random.default_rng(seed)
    targets = []
    for image in images:
        labels = segmenter.predict(image, uncertainty=False, progress=False).labels
        noise = rng.random(labels.shape) < wrong
        target = np.where(noise, (labels + rng.integers(1, 150, labels.shape)) % 150, labels)
        targets.append(target.astype(np.uint8))
    return SegmentationDataset(images, targets, name="over-confident")


def test_fit_reaches_the_nll_minimum_of_a_grid_search(demo_b0, rgb_image):
    images = [rgb_image, np.ascontiguousarray(rgb_image[:, ::-1])]
    data = _noisy_targets(demo_b0, images)
    fit = fit_temperature(demo_b0, data, pixels_per_image=10_000, apply=False, progress=False)
    assert fit.pixels == 2 * 37 * 53  # every pixel taken
    # independent reference: all pixels' logits upsampled by F.interpolate, NLL on a T grid
    logits, targets = [], []
    for index in range(len(data)):
        image, target = data[index]
        grid = demo_b0.logits(demo_b0.preprocess([image]))
        full = F.interpolate(grid, size=target.shape, mode="bilinear", align_corners=False)[0]
        logits.append(full.flatten(1).T.double())
        targets.append(torch.from_numpy(target.reshape(-1).astype(np.int64)))
    logits, targets = torch.cat(logits), torch.cat(targets)

    def nll_grid(low: float, high: float) -> tuple[torch.Tensor, torch.Tensor]:
        temperatures = torch.exp(torch.linspace(np.log(low), np.log(high), 61).double())
        return temperatures, torch.stack(
            [F.cross_entropy(logits / t, targets) for t in temperatures]
        )

    coarse, coarse_nll = nll_grid(0.5, 1000.0)
    centre = float(coarse[coarse_nll.argmin()])
    temperatures, nll = nll_grid(centre / 1.2, centre * 1.2)  # steps of 0.6%
    best = float(temperatures[nll.argmin()])
    assert fit.temperature == pytest.approx(best, rel=0.01)
    assert fit.nll_after == pytest.approx(float(nll.min()), rel=1e-3)
    assert fit.nll_before == pytest.approx(float(F.cross_entropy(logits, targets)), rel=1e-3)


def _scale_logits(segmenter, factor):
    with torch.no_grad():
        segmenter.model.decode_head.classifier.weight.mul_(factor)
        segmenter.model.decode_head.classifier.bias.mul_(factor)


@pytest.mark.slow
def test_temperature_lowers_ece_of_a_model_made_overconfident(rgb_image):
    """Targets drawn from a model's own softmax make it calibrated by construction; its logits
    times 4 make it over-confident on purpose. The fit should find T ≈ 4 and cut the ECE."""
    import segpile_lab as sl

    with pytest.warns(sl.UntrainedModelWarning):
        segmenter = sl.load_segmenter("demo-b0", device="cpu")
    generator = torch.Generator().manual_seed(0)
    images, targets = [], []
    for photo in sl.demo_images().values():
        image = np.asarray(photo.resize((96, 80)))
        grid = segmenter.logits(segmenter.preprocess([image]))
        full = F.interpolate(grid, size=(80, 96), mode="bilinear", align_corners=False)[0]
        probabilities = full.softmax(0).flatten(1).T
        drawn = torch.multinomial(probabilities, 1, generator=generator).reshape(80, 96)
        images.append(image)
        targets.append(drawn.numpy().astype(np.uint8))
    data = SegmentationDataset(images, targets, name="drawn from the model")
    _scale_logits(segmenter, 4.0)
    before = evaluate(segmenter, data, progress=False)
    fit = fit_temperature(segmenter, data, pixels_per_image=5000, progress=False)
    assert segmenter.temperature == fit.temperature == pytest.approx(4.0, rel=0.2)
    after = evaluate(segmenter, data, progress=False)
    assert fit.ece_after < 0.5 * fit.ece_before and fit.nll_after < fit.nll_before
    assert after.ece() < 0.5 * before.ece()
    assert np.array_equal(after.confusion, before.confusion)  # labels unchanged
