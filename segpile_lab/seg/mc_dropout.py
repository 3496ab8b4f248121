"""Monte-Carlo dropout: T seeded stochastic passes with only dropout and drop-path active.

Only modules that actually drop something are switched to train mode: `nn.Dropout` with p > 0
and SegFormer's `SegformerDropPath` with drop_prob > 0. For the SegFormer ADE20K checkpoints
(and our demo models) that is the decode head's classifier dropout (p = 0.1) and the encoder's
stochastic depth (drop path rising linearly from 0 to 0.1 over the blocks); hidden and attention
dropout are 0 and stay off. Batch norm stays in eval mode. The maps are computed on the logit
grid (128×128) and upsampled by the caller like the other uncertainty maps:

* predictive entropy  H[E_t p_t]                       (nats)
* expected entropy    E_t H[p_t]                       (nats; aleatoric part)
* mutual information  H[E_t p_t] − E_t H[p_t] ≥ 0      (nats; epistemic part)
* top-class variance  Var_t p_t[c*], c* = argmax E_t p_t (population variance over the T passes)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch


def stochastic_modules(model: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """`(name, module)` of every dropout / drop-path module with a non-zero rate."""
    active = []
    for name, module in model.named_modules():
        rate = (
            getattr(module, "p", None)
            if isinstance(module, torch.nn.modules.dropout._DropoutNd)
            else None
        )
        if rate is None and type(module).__name__.endswith("DropPath"):
            rate = getattr(module, "drop_prob", 0.0)
        if rate:
            active.append((name, module))
    return active


@contextmanager
def mc_dropout_mode(model: torch.nn.Module) -> Iterator[list[str]]:
    """Switch the stochastic modules to train mode for the block; yields their names."""
    active = stochastic_modules(model)
    for _, module in active:
        module.train()
    try:
        yield [name for name, _ in active]
    finally:
        for _, module in active:
            module.eval()


def _entropy(probabilities: torch.Tensor) -> torch.Tensor:
    return -(probabilities * torch.log(probabilities.clamp_min(1e-30))).sum(dim=1)


def mc_dropout_maps(
    model: torch.nn.Module,
    logits_fn: Callable[[torch.Tensor], torch.Tensor],
    pixel_values: torch.Tensor,
    samples: int,
    *,
    seed: int = 0,
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Run `samples` stochastic passes of `logits_fn` on `pixel_values (N, 3, 512, 512)`.

    Returns maps `(N, h, w)` float32 keyed predictive_entropy, expected_entropy,
    mutual_information, top_class_variance, and the names of the active modules. Memory: two
    `(N, C, h, w)` running sums, whatever T is. The global RNG state is left untouched.
    """
    if samples < 1:
        raise ValueError("mc_samples must be >= 1")
    with torch.random.fork_rng(devices=[]), mc_dropout_mode(model) as active:
        torch.manual_seed(seed)
        first = torch.softmax(logits_fn(pixel_values), dim=1)
        total, total_sq, expected_entropy = first.clone(), first.square(), _entropy(first)
        for _ in range(samples - 1):
            probabilities = torch.softmax(logits_fn(pixel_values), dim=1)
            total += probabilities
            total_sq += probabilities.square()
            expected_entropy += _entropy(probabilities)
    mean = total / samples
    expected_entropy = expected_entropy / samples
    predictive_entropy = _entropy(mean)
    top = mean.argmax(dim=1, keepdim=True)
    variance = (total_sq / samples - mean.square()).gather(1, top)[:, 0].clamp_min(0.0)
    maps = {
        "predictive_entropy": predictive_entropy,
        "expected_entropy": expected_entropy,
        "mutual_information": (predictive_entropy - expected_entropy).clamp_min(0.0),
        "top_class_variance": variance,
    }
    return maps, active
