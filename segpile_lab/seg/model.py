"""`load_segmenter` and `Segmenter`: a SegFormer model with its labels, device and fast forward.

A model is named by a hub id of the SegFormer family (``nvidia/segformer-b0…b5-finetuned-ade-…``,
``…-cityscapes-1024-1024``; any revision), a local folder (``hf download … --local-dir`` or
``save_pretrained``), an already loaded `SegformerForSemanticSegmentation`, or one of the
built-in demo names. Class names, palette, input size and normalisation come from the
checkpoint (``config.json``, ``preprocessor_config.json``). A checkpoint that does not set every
weight (the encoder-only ``nvidia/mit-b*``: its decode head is new) loads with
``is_trained=False`` and the reason.

Demo models (``"demo-b0"``, ``"demo-b2"``) are SegFormer built from the real B0/B2
configurations with the real 150 ADE20K labels and *seeded random weights*, the classifier
scaled ×100 (`DEMO_LOGIT_SCALE`) so that its confidence and uncertainty maps show structure
instead of a flat 1/150: they run offline everywhere, and everything made from them says
"untrained demo weights".
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch

from segpile_lab._torch_utils import resolve_device, resolve_dtype
from segpile_lab.errors import (
    CheckpointError,
    GenericLabelsWarning,
    UntrainedModelWarning,
)
from segpile_lab.provenance import UNTRAINED, Provenance
from segpile_lab.seg.ade20k import ADE20K
from segpile_lab.seg.decode_head import fast_decode_head
from segpile_lab.seg.palette import label_set, palette_for
from segpile_lab.seg.preprocess import Preprocessing

DEFAULT_MODEL = "nvidia/segformer-b2-finetuned-ade-512-512"
_DEMO_MARKER = "segpile_demo_weights"

# The published SegFormer encoder sizes (Xie et al. 2021, Table 1; HF configs of nvidia/mit-b*).
DEMO_CONFIGS: dict[str, dict[str, Any]] = {
    "demo-b0": {
        "depths": [2, 2, 2, 2],
        "hidden_sizes": [32, 64, 160, 256],
        "num_attention_heads": [1, 2, 5, 8],
        "sr_ratios": [8, 4, 2, 1],
        "decoder_hidden_size": 256,
    },
    "demo-b2": {
        "depths": [3, 4, 6, 3],
        "hidden_sizes": [64, 128, 320, 512],
        "num_attention_heads": [1, 2, 5, 8],
        "sr_ratios": [8, 4, 2, 1],
        "decoder_hidden_size": 768,
    },
}
DEMO_SEED = 0
# HF's initialisation gives logits with a spread of ~0.03, i.e. a flat softmax (confidence ≈ 1/150
# everywhere) and blank uncertainty maps. Scaling the random classifier makes the demo's maps
# show structure; the model is no less untrained.
DEMO_LOGIT_SCALE = 100.0
DEMO_REASON = f"seeded random demo weights, classifier logits scaled ×{DEMO_LOGIT_SCALE:g}"


def demo_model(name: str, *, seed: int = DEMO_SEED) -> Any:
    """Build the demo SegFormer `name` ("demo-b0" / "demo-b2") with seeded random weights."""
    from transformers import SegformerConfig, SegformerForSemanticSegmentation

    options: dict[str, Any] = {
        **DEMO_CONFIGS[name],
        "num_labels": ADE20K.num_classes,  # a PretrainedConfig keyword
        "id2label": ADE20K.id2label,
        "label2id": {label: index for index, label in ADE20K.id2label.items()},
        "classifier_dropout_prob": 0.1,
        "drop_path_rate": 0.1,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "semantic_loss_ignore_index": ADE20K.ignore_index,
    }
    config = SegformerConfig(**options)
    setattr(config, _DEMO_MARKER, True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SegformerForSemanticSegmentation(config)
    with torch.no_grad():
        model.decode_head.classifier.weight.mul_(DEMO_LOGIT_SCALE)
    model.config._name_or_path = name
    return model.eval()


def is_demo_model(model: Any) -> bool:
    """Whether `model` (a SegFormer) holds `demo_model`'s seeded random weights, also after
    ``save_pretrained`` / ``from_pretrained`` (fine-tuning removes the marker)."""
    return bool(getattr(getattr(model, "config", None), _DEMO_MARKER, False))


class Segmenter:
    """A SegFormer semantic-segmentation model ready for inference.

    Attributes:
        model: the `SegformerForSemanticSegmentation` (eval mode, on `device`).
        name: hub id, directory or demo name.
        id2label: class id → name; num_labels: number of classes.
        palette: `(num_labels, 3)` uint8 colours (ADE20K's for ADE20K models).
        is_trained: False for demo models and for checkpoints that left weights random;
            untrained_reason says why (None when trained).
        preprocessing: the checkpoint's input size, normalisation and label convention;
            input_size: its `(height, width)` in pixels.
        device: where the model runs; dtype: autocast dtype (None = float32).
        temperature: logits are divided by it before every softmax (1.0 = uncalibrated;
            saved in the config as ``segpile_temperature`` by fine-tuning checkpoints).
    """

    def __init__(
        self,
        model: Any,
        *,
        name: str,
        device: torch.device,
        dtype: torch.dtype | None = None,
        preprocessing: Preprocessing | None = None,
        untrained_reason: str | None = None,
    ):
        self.model = model.to(device).eval()
        self.name = name
        self.device = device
        self.dtype = dtype
        # softmax temperature (`segpile_lab.seg.calibration.fit_temperature`); 1.0 = as trained
        self.temperature = float(getattr(model.config, "segpile_temperature", 1.0))
        if is_demo_model(model):
            untrained_reason = DEMO_REASON
        self.untrained_reason = untrained_reason
        self.is_trained = untrained_reason is None
        self.id2label, self.palette = _labels_and_palette(model.config, name)
        # without a preprocessor config: 512², ImageNet statistics, and ADE20K's label
        # convention (id + 1, 0 = ignore) exactly when the classes are ADE20K's
        self.preprocessing = preprocessing or Preprocessing(
            reduce_labels=label_set(self.id2label) == "ADE20K"
        )
        self.num_labels = len(self.id2label)

    @property
    def provenance(self) -> Provenance:
        """Untrained (with `untrained_reason`) for demo models and random-weight checkpoints."""
        return Provenance(is_trained=self.is_trained, reason=self.untrained_reason or "")

    @property
    def input_size(self) -> tuple[int, int]:
        """`(height, width)` in pixels that images are resized to before the model."""
        return self.preprocessing.size

    def __repr__(self) -> str:
        trained = f", {self.provenance.note}" if not self.is_trained else ""
        dtype = "fp32" if self.dtype is None else str(self.dtype).removeprefix("torch.")
        return (
            f"Segmenter({self.name!r}, {self.num_labels} classes, "
            f"{self.input_size[0]}×{self.input_size[1]}, {self.device}, {dtype}{trained})"
        )

    def preprocess(self, images: Sequence[Any]) -> torch.Tensor:
        """Images (anything `load_image` takes) → pixel values `(N, 3, *input_size)` float32
        (CPU), resized and normalised as the checkpoint's preprocessor config says."""
        from segpile_lab.seg.images import load_image

        return self.preprocessing([np.asarray(load_image(image)) for image in images])

    def logits(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Pixel values `(N, 3, H, W)` → logits `(N, C, H/4, W/4)` float32 on CPU.

        The eager forward with the fast decode head (bit-identical to HF's), under
        ``torch.inference_mode`` and autocast when `dtype` is bf16/fp16. Dropout modules
        follow their own train/eval flags (Monte-Carlo dropout switches some on).
        """
        autocast = (
            torch.autocast(self.device.type, dtype=self.dtype)
            if self.dtype is not None and self.dtype != torch.float32
            else nullcontext()
        )
        with torch.inference_mode(), autocast:
            pixel_values = pixel_values.to(self.device)
            states = self.model.segformer(pixel_values, output_hidden_states=True).hidden_states
            logits = fast_decode_head(self.model.decode_head, states)
        return logits.float().cpu()

    def predict(self, images: Any, **options: Any) -> Any:
        """Segment one image or a list of images; see `segpile_lab.seg.inference.predict`."""
        from segpile_lab.seg.inference import predict

        return predict(self, images, **options)


def _labels_and_palette(config: Any, name: str) -> tuple[dict[int, str], np.ndarray]:
    """The checkpoint's class names (generic ones when it has none) and a palette."""
    count = int(config.num_labels)
    # config.json stores ids as sorted strings ("0", "1", "10", …): order them as numbers
    raw = dict(sorted((int(k), str(v)) for k, v in (config.id2label or {}).items()))
    named = len(raw) == count and not all(v == f"LABEL_{k}" for k, v in raw.items())
    id2label = raw if named else {i: f"class {i}" for i in range(count)}
    if not named:
        warnings.warn(
            f"{name}: the checkpoint's {count} classes have no names; using 'class 0' … "
            f"'class {count - 1}'",
            GenericLabelsWarning,
            stacklevel=4,
        )
    if named and label_set(id2label) is None:
        warnings.warn(
            f"{name}: {count} classes of no known label set (ADE20K, Cityscapes); using its "
            "names and a generated palette",
            GenericLabelsWarning,
            stacklevel=4,
        )
    return id2label, palette_for(id2label)


def load_segmenter(
    model: Any = DEFAULT_MODEL,
    *,
    revision: str | None = None,
    device: str | torch.device = "auto",
    dtype: str | torch.dtype | None = None,
    local_files_only: bool | None = None,
) -> Segmenter:
    """Load a SegFormer segmenter.

    Args:
        model: hub id (any SegFormer checkpoint: ``nvidia/segformer-b0…b5-finetuned-ade-…``,
            ``…-cityscapes-1024-1024``, the encoder-only ``nvidia/mit-b*``), local folder, a
            loaded `SegformerForSemanticSegmentation`, or a demo name (``"demo-b0"``,
            ``"demo-b2"``: real architecture, seeded random weights).
        revision: branch, tag, ``refs/pr/N`` or commit of a hub id (None = ``main``).
        device: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda:0"``…
        dtype: None/"fp32", or "bf16"/"fp16" for autocast inference.
        local_files_only: None follows ``HF_HUB_OFFLINE``; True never touches the network.
    Raises:
        ModelNotAvailableError: weights missing (names the id, the cache tried and the fix).
        CheckpointError: weights present but refused (an unsafe pickle) or broken.
    Warns:
        UntrainedModelWarning: when the model is a demo or its checkpoint left weights random.
    """
    from transformers import SegformerForSemanticSegmentation

    preprocessing, reason = None, None
    if isinstance(model, SegformerForSemanticSegmentation):
        loaded, name = model, str(model.config._name_or_path or "custom SegFormer")
    elif isinstance(model, str) and model in DEMO_CONFIGS:
        loaded, name = demo_model(model), model
    elif isinstance(model, (str, os.PathLike)):
        name = os.fspath(model)
        loaded, preprocessing, reason = _load_checkpoint(name, revision, local_files_only)
    else:
        raise TypeError(
            f"load_segmenter expects a hub id, a directory, a SegformerForSemanticSegmentation or "
            f"one of {sorted(DEMO_CONFIGS)}; got {type(model).__name__}"
        )
    segmenter = Segmenter(
        loaded,
        name=name,
        device=resolve_device(device),
        dtype=resolve_dtype(dtype),
        preprocessing=preprocessing,
        untrained_reason=reason,
    )
    if not segmenter.is_trained:
        warnings.warn(
            f"{name}: {UNTRAINED} ({segmenter.untrained_reason}); predictions are "
            "meaningless until you load a trained checkpoint such as " + DEFAULT_MODEL,
            UntrainedModelWarning,
            stacklevel=2,
        )
    return segmenter


def _load_checkpoint(
    name: str, revision: str | None, local_files_only: bool | None
) -> tuple[Any, Preprocessing | None, str | None]:
    """(model, preprocessing or None without a preprocessor config, why it is untrained or
    None) of a hub id or folder."""
    from transformers import SegformerForSemanticSegmentation

    from segpile_lab._hub import load_model, read_checkpoint_json

    where: dict[str, Any] = {"revision": revision, "local_files_only": local_files_only}
    config = read_checkpoint_json(name, "config.json", **where) or {}
    architectures = config.get("architectures") or []
    encoder_only = bool(architectures) and not any(
        "SemanticSegmentation" in arch for arch in architectures
    )
    options: dict[str, Any] = {}
    if encoder_only:
        # e.g. nvidia/mit-b0 (SegformerForImageClassification): its 1,000 ImageNet classes mean
        # nothing to a new decode head, which gets ADE20K's 150 (the default task) instead.
        options = {
            "num_labels": ADE20K.num_classes,
            "id2label": ADE20K.id2label,
            "label2id": {label: index for index, label in ADE20K.id2label.items()},
        }
    loaded = load_model(
        SegformerForSemanticSegmentation,
        name,
        what="SegFormer model",
        offline_alternative="the demo model (load_segmenter('demo-b2'), --seg-model demo-b2)",
        **where,
        **options,
    )
    processor = read_checkpoint_json(name, "preprocessor_config.json", **where)
    try:
        preprocessing = None if processor is None else Preprocessing.from_config(processor)
    except ValueError as exc:
        raise CheckpointError(f"{name}: preprocessor_config.json: {exc}") from exc
    reason = loaded.coverage_problem()
    if reason and encoder_only:
        reason = (
            f"encoder-only checkpoint ({architectures[0]}): the decode head is newly "
            "initialised; fine-tune it first"
        )
    return loaded.model, preprocessing, reason
