"""Every backend that runs here agrees with the fp32 reference on demo weights.

Bounds per backend: minimum pixel agreement on the logit grid, and maximum |logit error|
relative to the reference's largest |logit|. fp32 backends are exact up to rounding; the
bf16/fp16/INT8 bounds sit about 2× beyond what was measured on these inputs (demo-b0, the two
demo photos at 128²): bf16 98.8% / 1.1e-2, fp16 99.9% / 1.3e-3, dynamic INT8 98.3% / 1.5e-2,
default-op dynamic INT8 95.6% / 3.7e-2, static INT8 94.9% / 5.0e-2, compiled bf16 99.3% / 8.8e-3.
"""

from __future__ import annotations

import pytest
import torch

from segpile_lab.backends.registry import (
    available_backends,
    create_runner,
    default_backends,
    split_name,
)
from segpile_lab.errors import BackendError

SIZE = 128

CASES = [
    # name, min pixel agreement, max |logit error| / max |reference logit|
    ("torch-fp32+fold", 0.999, 1e-5),
    ("torch-bf16", 0.97, 0.025),
    ("torch-fp16", 0.995, 0.003),
    ("ort-fp32", 0.999, 1e-5),
    ("ort-fp32+fold", 0.999, 1e-5),
    ("ort-int8-dynamic", 0.96, 0.03),
    ("ort-int8-dynamic-default-ops", 0.91, 0.075),
    ("ort-int8-static", 0.90, 0.1),
    ("ort-int8-static+fold", 0.90, 0.1),
]
SLOW_CASES = [
    ("torch-compile", 0.999, 1e-5),
    ("torch-compile-bf16", 0.97, 0.025),
]


@pytest.fixture(scope="module")
def reference(seg_b0, pixels):
    return create_runner(seg_b0, "torch-fp32")(pixels)


def _check(seg_b0, pixels, reference, onnx_cache, name, min_agreement, max_error):
    runner = create_runner(
        seg_b0, name, image_size=SIZE, cache_dir=onnx_cache, calibration=pixels.numpy(), threads=1
    )
    logits = runner(pixels)
    assert logits.dtype == torch.float32 and logits.device.type == "cpu"
    assert logits.shape == reference.shape
    agreement = (logits.argmax(1) == reference.argmax(1)).float().mean().item()
    error = (logits - reference).abs().max().item() / reference.abs().max().item()
    assert agreement >= min_agreement, f"{name}: agreement {agreement:.4f}"
    assert error <= max_error, f"{name}: relative max logit error {error:.3g}"
    return runner


@pytest.mark.parametrize(("name", "min_agreement", "max_error"), CASES)
def test_backend_agrees_with_fp32(
    seg_b0, pixels, reference, onnx_cache, name, min_agreement, max_error
):
    runner = _check(seg_b0, pixels, reference, onnx_cache, name, min_agreement, max_error)
    assert runner.folded == name.endswith("+fold")
    assert runner.exact == (runner.precision == "fp32")


@pytest.mark.slow
@pytest.mark.parametrize(("name", "min_agreement", "max_error"), SLOW_CASES)
def test_compiled_backend_agrees_with_fp32(
    seg_b0, pixels, reference, onnx_cache, name, min_agreement, max_error
):
    _check(seg_b0, pixels, reference, onnx_cache, name, min_agreement, max_error)


def test_reference_is_the_segmenters_eager_path(seg_b0, pixels):
    assert torch.equal(create_runner(seg_b0, "torch-fp32")(pixels), seg_b0.logits(pixels))


def test_int8_models_are_smaller_than_fp32(seg_b0, pixels, onnx_cache):
    fp32 = create_runner(seg_b0, "ort-fp32", image_size=SIZE, cache_dir=onnx_cache)
    int8 = create_runner(seg_b0, "ort-int8-dynamic", image_size=SIZE, cache_dir=onnx_cache)
    assert int8.model_mib < 0.6 * fp32.model_mib


def test_available_backends_explains_what_cannot_run():
    table = available_backends()
    rows = {row["backend"]: row for row in table.iter_rows(named=True)}
    assert rows["torch-fp32"]["available"] and rows["ort-fp32"]["available"]
    for name in ("ort-fp16", "ort-tensorrt"):
        if not rows[name]["available"]:
            assert "ExecutionProvider" in rows[name]["reason"]


def test_unavailable_backend_raises_with_the_reason(seg_b0):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has the CUDA EP, so ort-fp16 is available")
    with pytest.raises(BackendError, match=r"not available here.*CUDAExecutionProvider"):
        create_runner(seg_b0, "ort-fp16")


@pytest.mark.parametrize("name", ["onnx", "ort-fp32+fold+fold", "torch-fp64", ""])
def test_unknown_backend_name(name):
    with pytest.raises(BackendError, match="unknown backend"):
        split_name(name)


def test_default_backends_include_folded_variants():
    names = default_backends()
    assert "torch-fp32" in names and "ort-fp32+fold" in names
    assert all(split_name(name) for name in names)


def test_runner_rejects_wrong_input_shape(seg_b0):
    runner = create_runner(seg_b0, "torch-fp32")
    with pytest.raises(ValueError, match=r"\(N, 3, S, S\)"):
        runner(torch.zeros(3, 64, 64))


def test_predict_runs_through_a_named_backend(seg_b0, monkeypatch, tmp_path):
    import segpile_lab as sl

    monkeypatch.setenv("SEGPILE_LAB_CACHE", str(tmp_path))
    image = sl.demo_images()["present_pack"]
    eager = seg_b0.predict(image, uncertainty=False)
    onnx = seg_b0.predict(image, uncertainty=False, backend="ort-fp32")
    assert onnx.labels.shape == eager.labels.shape == (128, 128)
    assert (onnx.labels == eager.labels).mean() >= 0.999
