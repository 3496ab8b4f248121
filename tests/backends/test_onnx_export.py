"""ONNX export: checker, parity with torch, dynamic batch, cache keyed by weights and options."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from segpile_lab.backends import onnx_export
from segpile_lab.backends._source import model_source
from segpile_lab.backends.onnx_export import export_onnx
from segpile_lab.errors import BackendError

SIZE = 128  # must match conftest.SIZE (pixel fixture)


@pytest.fixture(scope="module")
def exported(seg_b0, onnx_cache):
    return export_onnx(seg_b0, image_size=SIZE, cache_dir=onnx_cache)


def test_export_passes_checker_and_records_parity(exported):
    onnx.checker.check_model(str(exported.path))
    assert exported.exporter == "torchscript"
    assert 0 <= exported.max_abs_diff < 1e-4
    assert exported.size_mib > 1


def test_export_matches_torch_on_a_new_batch_size(exported, seg_b0, pixels):
    session = ort.InferenceSession(str(exported.path), providers=["CPUExecutionProvider"])
    batch = torch.cat([pixels, pixels[:1]])  # 3 images: the batch axis is dynamic
    (got,) = session.run(["logits"], {"pixel_values": batch.numpy()})
    with torch.inference_mode():
        expected = seg_b0.model(pixel_values=batch).logits.numpy()
    assert got.shape == (3, 150, SIZE // 4, SIZE // 4)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_second_export_is_a_cache_hit(exported, seg_b0, onnx_cache):
    mtime = exported.path.stat().st_mtime_ns
    again = export_onnx(seg_b0, image_size=SIZE, cache_dir=onnx_cache)
    assert again.cache_hit and not exported.cache_hit
    assert again.path == exported.path and again.path.stat().st_mtime_ns == mtime
    assert again.max_abs_diff == exported.max_abs_diff


def test_cache_key_changes_with_options_and_weights(seg_b0):
    source = model_source(seg_b0)
    base = onnx_export.cache_key(source, image_size=SIZE, opset=17, fold=False)
    assert onnx_export.cache_key(source, image_size=SIZE, opset=17, fold=True) != base
    assert onnx_export.cache_key(source, image_size=SIZE, opset=18, fold=False) != base
    assert onnx_export.cache_key(source, image_size=2 * SIZE, opset=17, fold=False) != base
    changed = __import__("copy").deepcopy(seg_b0.model)
    with torch.no_grad():
        changed.decode_head.classifier.bias[0] += 1
    other = model_source(changed)
    assert onnx_export.cache_key(other, image_size=SIZE, opset=17, fold=False) != base


def test_folded_export_matches_reference(seg_b0, pixels, onnx_cache):
    folded = export_onnx(seg_b0, image_size=SIZE, fold=True, cache_dir=onnx_cache)
    session = ort.InferenceSession(str(folded.path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["logits"], {"pixel_values": pixels.numpy()})
    expected = seg_b0.logits(pixels).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_image_size_must_be_a_multiple_of_32(seg_b0, onnx_cache):
    with pytest.raises(ValueError, match="multiple of 32"):
        export_onnx(seg_b0, image_size=100, cache_dir=onnx_cache)


def test_failing_exporter_raises_backend_error_and_leaves_no_file(seg_b0, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("Exporting the operator 'aten::weird' to ONNX opset 17 is not supported")

    monkeypatch.setitem(onnx_export._EXPORTERS, "torchscript", broken)
    monkeypatch.setitem(onnx_export._EXPORTERS, "dynamo", broken)
    with pytest.raises(BackendError, match=r"torchscript exporter: .*aten::weird.*dynamo exporter"):
        export_onnx(seg_b0, image_size=SIZE, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
