"""INT8 conversions: op-type choice, sensitive-node exclusion, calibration methods, caching."""

from __future__ import annotations

from collections import Counter

import onnx
import pytest

from segpile_lab.backends import quantize
from segpile_lab.backends.onnx_export import export_onnx
from segpile_lab.errors import BackendError

SIZE = 128


@pytest.fixture(scope="module")
def fp32_path(seg_b0, onnx_cache):
    return export_onnx(seg_b0, image_size=SIZE, cache_dir=onnx_cache).path


def op_counts(path) -> Counter:
    return Counter(node.op_type for node in onnx.load(str(path)).graph.node)


def test_dynamic_int8_quantises_matmuls_but_not_convs_by_default(fp32_path):
    default = quantize.quantize_dynamic_int8(fp32_path)
    ops = op_counts(default.path)
    assert ops["MatMulInteger"] > 0 and ops["ConvInteger"] == 0
    all_ops = quantize.quantize_dynamic_int8(fp32_path, op_types=None)
    assert op_counts(all_ops.path)["ConvInteger"] > 0
    assert default.path != all_ops.path


def test_sensitive_nodes_are_layernorm_softmax_and_attention_scores(fp32_path):
    pre = quantize.preprocessed(fp32_path)
    graph = onnx.load(str(pre)).graph
    by_name = {node.name: node for node in graph.node}
    names = quantize.sensitive_nodes(pre)
    kinds = Counter(by_name[name].op_type for name in names)
    depth = 8  # demo-b0: 2+2+2+2 blocks, one attention each
    assert kinds["Softmax"] == depth
    assert kinds["LayerNormalization"] >= 2 * depth
    assert kinds["MatMul"] == 2 * depth  # Q·Kᵀ before and probabilities·V after each softmax


def test_static_exclusion_keeps_sensitive_nodes_in_float(fp32_path, pixels):
    calibration = pixels.numpy()
    plain = quantize.quantize_static_int8(fp32_path, calibration)
    kept = quantize.quantize_static_int8(fp32_path, calibration, exclude="sensitive")
    assert kept.excluded_nodes > 0 and plain.excluded_nodes == 0

    def quantised_inputs(path, op_type) -> int:
        graph = onnx.load(str(path)).graph
        dequantised = {
            out for n in graph.node if n.op_type == "DequantizeLinear" for out in n.output
        }
        return sum(1 for n in graph.node if n.op_type == op_type and n.input[0] in dequantised)

    for op_type in ("LayerNormalization", "Softmax"):
        assert quantised_inputs(plain.path, op_type) > 0
        assert quantised_inputs(kept.path, op_type) == 0


@pytest.mark.parametrize("method", ["entropy", "percentile"])
def test_other_calibration_methods_produce_a_model(fp32_path, pixels, method):
    model = quantize.quantize_static_int8(fp32_path, pixels[:1].numpy(), method=method)
    assert op_counts(model.path)["QuantizeLinear"] > 0
    assert method in model.notes


def test_quantisation_is_cached(fp32_path, pixels):
    first = quantize.quantize_static_int8(fp32_path, pixels.numpy())
    again = quantize.quantize_static_int8(fp32_path, pixels.numpy())
    assert again.cache_hit and again.path == first.path
    other_data = quantize.quantize_static_int8(fp32_path, pixels[:1].numpy())
    assert other_data.path != first.path


def test_bad_calibration_input_is_rejected(fp32_path):
    import numpy as np

    with pytest.raises(ValueError, match="calibration must be pixel values"):
        quantize.quantize_static_int8(fp32_path, np.zeros((3, 64, 64), np.float32))
    with pytest.raises(ValueError, match="method must be one of"):
        quantize.quantize_static_int8(
            fp32_path, np.zeros((1, 3, SIZE, SIZE), np.float32), method="kl"
        )


def test_fp16_conversion_keeps_float32_io(fp32_path):
    converted = quantize.convert_fp16(fp32_path)
    model = onnx.load(str(converted.path))
    onnx.checker.check_model(model)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert any(init.data_type == onnx.TensorProto.FLOAT16 for init in model.graph.initializer)


def test_failing_quantisation_raises_backend_error_and_leaves_no_file(fp32_path, monkeypatch):
    import onnxruntime.quantization

    def unsupported(*args, **kwargs):
        raise NotImplementedError("no INT8 kernel for op 'Erf'")

    monkeypatch.setattr(onnxruntime.quantization, "quantize_dynamic", unsupported)
    quantize.preprocessed(fp32_path)  # cached pre-pass, made by the first quantisation
    before = set(fp32_path.parent.iterdir())
    with pytest.raises(BackendError, match=r"dynamic INT8 quantisation failed: .*'Erf'"):
        quantize.quantize_dynamic_int8(fp32_path, op_types=("MatMul",), exclude=["nothing"])
    assert set(fp32_path.parent.iterdir()) == before
