"""The fast decode head computes exactly what HF's `SegformerDecodeHead` computes."""

from __future__ import annotations

import pytest
import torch

from segpile_lab.seg.decode_head import fast_decode_head
from segpile_lab.seg.model import demo_model


@pytest.mark.parametrize(
    ("name", "batch", "side"),
    [
        ("demo-b0", 1, 512),
        ("demo-b0", 2, 256),
        ("demo-b0", 1, 96),
        ("demo-b2", 1, 512),
        ("demo-b2", 2, 128),
    ],
)
def test_fast_decode_head_is_bit_identical_to_hf(name, batch, side):
    model = demo_model(name)
    pixels = torch.randn(batch, 3, side, side, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        reference = model(pixel_values=pixels).logits
        states = model.segformer(pixels, output_hidden_states=True).hidden_states
        ours = fast_decode_head(model.decode_head, states)
    assert ours.shape == reference.shape == (batch, 150, side // 4, side // 4)
    assert torch.equal(ours, reference)


@pytest.mark.slow
def test_fast_decode_head_compiles_to_the_same_logits():
    model = demo_model("demo-b0")
    pixels = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        states = model.segformer(pixels, output_hidden_states=True).hidden_states
        eager = fast_decode_head(model.decode_head, states)
    compiled = torch.compile(fast_decode_head, dynamic=False)
    with torch.no_grad():
        out = compiled(model.decode_head, states)
    torch.testing.assert_close(out, eager, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("batch", [1, 2])
def test_upsampled_maps_and_fused_input_are_freed_before_batch_norm(batch, monkeypatch):
    """At batch 8 (B2, 512²) they hold 3.2 GB; kept alive, they slowed the later layers
    (bench_segmentation.py, see ARCHITECTURE.md)."""
    import weakref

    from segpile_lab.seg import decode_head as module

    model = demo_model("demo-b0")
    head = model.decode_head
    pixels = torch.randn(batch, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    made = []
    interpolate = module.F.interpolate

    def recorded(*args, **kwargs):
        out = interpolate(*args, **kwargs)
        made.append(weakref.ref(out))
        return out

    monkeypatch.setattr(module.F, "interpolate", recorded)
    head.linear_fuse.register_forward_pre_hook(lambda _, args: made.append(weakref.ref(args[0])))
    alive = []
    head.batch_norm.register_forward_pre_hook(
        lambda _, args: alive.append(sum(ref() is not None for ref in made))
    )
    with torch.inference_mode():
        states = model.segformer(pixels, output_hidden_states=True).hidden_states
        fast_decode_head(head, states)
    assert len(made) == 5 and alive == [0]
