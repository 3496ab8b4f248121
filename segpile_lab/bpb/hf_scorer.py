"""Score documents with any Hugging Face causal language model, windows batched across documents.

Each document is tokenized alone (no special tokens), prefixed with BOS (or EOS when the
tokenizer has no BOS) and cut into rolling-loglikelihood windows (`segpile_lab.bpb.windows`).
Windows of all documents are sorted by length and packed into right-padded batches with an
attention mask and explicit position ids, so a window's logits do not depend on its batch
neighbours: the result equals scoring each document alone up to float rounding.

The output layer runs only on scored positions, a few hundred rows at a time: padding and
context-only positions never get logits, and no ``(B, T, V)`` float32 tensor is ever built
(4,096 tokens × GPT-2's 50,257 would be 823 MB). Models whose logits are not their output
layer applied to the last hidden state (soft-capping, scaling) are detected once and take
the full forward instead.
"""

from __future__ import annotations

import contextlib
import copy
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from segpile_lab._hub import load_model, load_pretrained
from segpile_lab._progress import progress_bar
from segpile_lab._torch_utils import resolve_device, resolve_dtype
from segpile_lab.bpb.demo_lm import demo_causal_lm, is_demo_model
from segpile_lab.bpb.scores import DocumentScores
from segpile_lab.bpb.windows import rolling_windows
from segpile_lab.errors import CheckpointError, UntrainedModelWarning, wrap_errors
from segpile_lab.provenance import UNTRAINED

__all__ = ["HFCausalLMScorer", "WindowBatch", "load_tokenizer"]

#: names that build the untrained demo language models (`segpile_lab.bpb.demo_lm`)
DEMO_LM_NAMES = ("demo-gpt2", "demo-gpt-neox")
_IGNORE = -100
_HEAD_CHUNK_BYTES = 128 << 20  # float32-equivalent logits per output-layer matmul
_LOSS_CHUNK_BYTES = 2 << 20  # float32 logits per cross-entropy call: small enough for L2


@dataclass(frozen=True)
class WindowBatch:
    """One forward pass: ``B`` windows right-padded to ``T`` tokens.

    Attributes:
        input_ids, attention_mask, position_ids, labels: ``(B, T)`` int64 tensors on CPU;
            ``labels`` holds the predicted token at scored positions and -100 elsewhere.
        document: ``(B,)`` index of the document each window belongs to.
        n_real: tokens that are not padding.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    labels: torch.Tensor
    document: np.ndarray
    n_real: int


def load_tokenizer(
    source: Any, *, revision: str | None = None, local_files_only: bool | None = None
) -> Any:
    """A tokenizer object, a ``tokenizer.json`` file, a local directory or a hub id → tokenizer."""
    if not isinstance(source, (str, os.PathLike)):
        return source
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    path = os.fspath(source)
    if path.endswith(".json") and os.path.isfile(path):
        # tokenizers raises its own Exception type for a bad file
        with wrap_errors(CheckpointError, path, "not a usable tokenizer.json"):
            return PreTrainedTokenizerFast(tokenizer_file=path, eos_token="<|endoftext|>")
    return load_pretrained(
        AutoTokenizer,
        path,
        what="tokenizer",
        revision=revision,
        local_files_only=local_files_only,
        offline_alternative="a tokenizer.json file (tokenizer=PATH)",
    )


def _max_length_of(model: Any) -> int | None:
    config = getattr(model, "config", None)
    for key in ("max_position_embeddings", "n_positions", "n_ctx"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


class HFCausalLMScorer:
    """Per-document NLL of a causal LM under the rolling-loglikelihood convention.

    Args:
        model: a hub id (GPT-2, Pythia/GPT-NeoX, Llama-family… through
            ``AutoModelForCausalLM``; safetensors or PyTorch ``.bin``, single or sharded), a
            local folder, ``"demo-gpt2"`` / ``"demo-gpt-neox"`` (untrained, offline), or a
            loaded model (any module returning ``.logits`` ``(B, T, V)``).
        tokenizer: tokenizer object, ``tokenizer.json`` path, directory or hub id; defaults to
            the model's own when `model` is an id or directory.
        max_length: ``L``, tokens per window; defaults to the model's maximum positions.
        stride: None for disjoint windows (the paper's convention); ``S < L`` for sliding
            windows that score ``S`` new tokens per window (lower BPB; label it).
        batch_size: most windows per forward pass.
        batch_tokens: most padded tokens (``B × T``) per forward pass; None = 2,048 for fp32
            on CPU, else 4,096 (tried with ``bench_bpb.py --batch-tokens`` on this project's
            2-core CPU; the comparison is not in its results).
        min_padding_efficiency: a batch closes before its real tokens fall below this share of
            its padded ``B × T`` tokens (so padding never wastes more than 10 % by default).
        device: "auto", "cpu", "cuda", ...
        dtype: None = fp32 on CPU and autocast bf16 (fp16 without bf16 support) on CUDA.
            "bf16"/"fp16": autocast on CUDA; on CPU the weights themselves are held in that
            dtype (a passed fp32 model is copied, the original left alone) rather than cast
            by autocast at every forward pass (GPT-2 small with bf16 weights: 1.9–2.2× fp32
            in ``bench_bpb.py``'s naive rows). Losses are always float32.
            "fp32": none.
        revision: branch, tag (Pythia's ``step143000``…), ``refs/pr/N`` or commit of a hub id.
        local_files_only: None follows HF_HUB_OFFLINE.
        prefix_token: override the BOS-or-EOS prefix token id.
        name: label of this scorer in result tables.
    Raises:
        ModelNotAvailableError: weights or tokenizer cannot be loaded (offline, bad id/path).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        max_length: int | None = None,
        stride: int | None = None,
        batch_size: int = 32,
        batch_tokens: int | None = None,
        min_padding_efficiency: float = 0.9,
        device: str | torch.device = "auto",
        dtype: str | torch.dtype | None = None,
        revision: str | None = None,
        local_files_only: bool | None = None,
        prefix_token: int | None = None,
        name: str | None = None,
    ) -> None:
        source = model if isinstance(model, (str, os.PathLike)) else None
        untrained_reason = None
        if source is not None and os.fspath(source) in DEMO_LM_NAMES:
            model, demo_tokenizer = demo_causal_lm(os.fspath(source).removeprefix("demo-"))
            tokenizer = tokenizer if tokenizer is not None else demo_tokenizer
            source = None
        elif source is not None:
            from transformers import AutoModelForCausalLM

            loaded = load_model(
                AutoModelForCausalLM,
                source,
                what="causal language model",
                revision=revision,
                local_files_only=local_files_only,
                offline_alternative="the demo model ('demo-gpt2', untrained)",
            )
            model, untrained_reason = loaded.model, loaded.coverage_problem()
            if untrained_reason:
                warnings.warn(
                    f"{source}: {UNTRAINED} ({untrained_reason}); its bits per byte measure "
                    "nothing about language",
                    UntrainedModelWarning,
                    stacklevel=2,
                )
            if tokenizer is None:
                tokenizer = source
        if tokenizer is None:
            raise ValueError("pass the tokenizer together with a loaded model")
        self.tokenizer = load_tokenizer(
            tokenizer,
            revision=revision if tokenizer is source else None,
            local_files_only=local_files_only,
        )
        self.device = resolve_device(device)
        self.autocast_dtype, weight_dtype = self._precision(dtype)
        if weight_dtype is not None and _weight_dtype(model) != weight_dtype:
            model = (copy.deepcopy(model) if source is None else model).to(dtype=weight_dtype)
        self.weight_dtype = _weight_dtype(model)
        self.model = model.to(self.device).eval()
        window = max_length or _max_length_of(model)
        if not window:
            raise ValueError("the model has no maximum length in its config; pass max_length=")
        self.max_length: int = window
        self.stride = None if stride in (None, self.max_length) else stride
        rolling_windows(1, self.max_length, self.stride)  # validates stride early
        self.batch_size = batch_size
        if batch_tokens is None:
            fp32_cpu = self.device.type == "cpu" and self.weight_dtype == torch.float32
            batch_tokens = 2048 if fp32_cpu else 4096
        self.batch_tokens = max(batch_tokens, self.max_length)
        self.min_padding_efficiency = min_padding_efficiency
        if prefix_token is None:
            prefix_token = self.tokenizer.bos_token_id
            if prefix_token is None:
                prefix_token = self.tokenizer.eos_token_id
        if prefix_token is None:
            raise ValueError("the tokenizer has neither BOS nor EOS; pass prefix_token=")
        self.prefix_token = int(prefix_token)
        self.is_trained = not is_demo_model(model) and untrained_reason is None
        #: why the scores mean nothing (random weights), or None
        self.untrained_reason = untrained_reason or (
            None if self.is_trained else UNTRAINED
        )
        self.name = name or str(
            source
            or getattr(model, "name_or_path", "")
            or getattr(getattr(model, "config", None), "model_type", "causal-lm")
        )
        self._split = _split_output_layer(self.model, self.autocast, self.device)

    def _precision(
        self, dtype: str | torch.dtype | None
    ) -> tuple[torch.dtype | None, torch.dtype | None]:
        """``(autocast dtype, weight dtype)``: autocast on CUDA, converted weights on CPU."""
        resolved = resolve_dtype(dtype)
        if resolved is None and self.device.type == "cuda":
            resolved = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if resolved in (None, torch.float32):
            return None, None
        return (resolved, None) if self.device.type == "cuda" else (None, resolved)

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """This scorer's autocast context (a no-op without an autocast dtype)."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    @property
    def description(self) -> str:
        windows = (
            f"disjoint windows of {self.max_length} tokens"
            if self.stride is None
            else f"sliding windows of {self.max_length} tokens, stride {self.stride}"
        )
        if self.autocast_dtype is not None:
            precision = f"autocast {_short_name(self.autocast_dtype)}"
        else:
            precision = f"{_short_name(self.weight_dtype)} weights"
        trained = "" if self.is_trained else f", {UNTRAINED}"
        return f"{self.name}: {windows}, {precision}{trained}"

    def tokenize(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each text as ``[prefix] + tokens`` (int64), tokenized alone without special tokens."""
        if not texts:
            return []
        encoded = self.tokenizer(list(texts), add_special_tokens=False, verbose=False)
        return [
            np.asarray([self.prefix_token, *ids], dtype=np.int64) for ids in encoded["input_ids"]
        ]

    def batches(self, sequences: Sequence[np.ndarray]) -> Iterator[WindowBatch]:
        """Windows of all `sequences` (from `tokenize`), longest first, packed into batches."""
        spans = [
            np.column_stack((np.full(len(s), d), s))
            for d, seq in enumerate(sequences)
            if len(s := rolling_windows(len(seq) - 1, self.max_length, self.stride))
        ]
        if not spans:
            return
        windows = np.concatenate(spans)
        windows = windows[np.argsort(windows[:, 1] - windows[:, 2], kind="stable")]
        lengths = windows[:, 2] - windows[:, 1]
        start = 0
        while start < len(windows):
            width = int(lengths[start])
            count = min(self.batch_size, max(1, self.batch_tokens // width), len(windows) - start)
            # lengths fall along the batch: stop before padding exceeds its budget
            real = np.cumsum(lengths[start : start + count])
            efficient = real >= self.min_padding_efficiency * width * np.arange(1, count + 1)
            count = int(np.argmin(efficient)) if not efficient.all() else count
            yield self._pack(sequences, windows[start : start + count], width)
            start += count

    def _pack(
        self, sequences: Sequence[np.ndarray], windows: np.ndarray, width: int
    ) -> WindowBatch:
        rows = len(windows)
        input_ids = torch.full((rows, width), self.prefix_token, dtype=torch.long)
        labels = torch.full((rows, width), _IGNORE, dtype=torch.long)
        attention_mask = torch.zeros((rows, width), dtype=torch.long)
        for row, (doc, start, end, n_scored) in enumerate(windows.tolist()):
            seq = sequences[doc]
            length = end - start
            input_ids[row, :length] = torch.from_numpy(seq[start:end])
            labels[row, length - n_scored : length] = torch.from_numpy(
                seq[end - n_scored + 1 : end + 1]
            )
            attention_mask[row, :length] = 1
        position_ids = torch.arange(width).expand(rows, width)
        n_real = int(attention_mask.sum())
        return WindowBatch(input_ids, attention_mask, position_ids, labels, windows[:, 0], n_real)

    def forward(self, batch: WindowBatch) -> torch.Tensor:
        """The model's logits ``(B, T, V)`` for one batch (under autocast when configured)."""
        with torch.inference_mode(), self.autocast():
            output = self.model(**self._model_inputs(batch))
        return output.logits if hasattr(output, "logits") else output[0]

    def token_losses(self, batch: WindowBatch) -> torch.Tensor:
        """NLL in nats ``(B, T)`` float32 of each scored position; 0 at unscored ones."""
        labels = batch.labels.to(self.device)
        scored = labels != _IGNORE
        with torch.inference_mode():
            if self._split is None:
                logits = self.forward(batch)[scored]
                losses = F.cross_entropy(logits.float(), labels[scored], reduction="none")
            else:
                body, head = self._split
                with self.autocast():
                    hidden = _last_hidden(body(**self._model_inputs(batch)))[scored]
                losses = _output_layer_losses(hidden, labels[scored], head, self.autocast)
            out = torch.zeros(labels.shape, dtype=torch.float32, device=self.device)
            out[scored] = losses
        return out.cpu()

    def _model_inputs(self, batch: WindowBatch) -> dict[str, torch.Tensor]:
        return {
            "input_ids": batch.input_ids.to(self.device),
            "attention_mask": batch.attention_mask.to(self.device),
            "position_ids": batch.position_ids.to(self.device),
        }

    def score(self, texts: Sequence[str], *, progress: bool | None = None) -> DocumentScores:
        """Per-document NLL (nats), token counts and loss by window position."""
        return self.score_sequences(self.tokenize(texts), progress=progress)

    def score_sequences(
        self, sequences: Sequence[np.ndarray], *, progress: bool | None = None
    ) -> DocumentScores:
        """`score` of texts already tokenized by `tokenize` (so that a sweep over window
        lengths and strides tokenizes once)."""
        nll = np.zeros(len(sequences), dtype=np.float64)
        position_nll = np.zeros(self.max_length, dtype=np.float64)
        position_tokens = np.zeros(self.max_length, dtype=np.int64)
        n_tokens = np.asarray([len(s) - 1 for s in sequences], dtype=np.int64)
        bar = progress_bar(
            total=int(n_tokens.sum()), progress=progress, unit="tok", desc=f"scoring {self.name}"
        )
        with bar:
            for batch in self.batches(sequences):
                losses = self.token_losses(batch).double()
                np.add.at(nll, batch.document, losses.sum(dim=1).numpy())
                width = losses.shape[1]
                position_nll[:width] += losses.sum(dim=0).numpy()
                scored = (batch.labels != _IGNORE).sum(dim=0).numpy()
                position_tokens[:width] += scored
                bar.update(int(scored.sum()))
        return DocumentScores(nll, n_tokens, position_nll, position_tokens)


def _short_name(dtype: torch.dtype) -> str:
    return {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}.get(
        dtype, str(dtype).removeprefix("torch.")
    )


def _weight_dtype(model: Any) -> torch.dtype:
    """The dtype of the model's first floating-point parameter (float32 when it has none)."""
    params = model.parameters() if hasattr(model, "parameters") else ()
    return next((p.dtype for p in params if p.is_floating_point()), torch.float32)


def _last_hidden(output: Any) -> torch.Tensor:
    return output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]


def _output_layer_losses(
    hidden: torch.Tensor,
    targets: torch.Tensor,
    head: torch.nn.Linear,
    autocast: Any,
) -> torch.Tensor:
    """Cross-entropy ``(N,)`` float32 of ``head(hidden)``, `hidden` ``(N, H)``, in row chunks.

    The matmul takes hundreds of rows at a time (large matrices run fastest); the float32
    cross-entropy takes a few rows at a time, so its logits never leave the cache.
    """
    rows = max(1, _HEAD_CHUNK_BYTES // (4 * head.out_features))
    loss_rows = max(1, _LOSS_CHUNK_BYTES // (4 * head.out_features))
    losses = torch.empty(len(targets), dtype=torch.float32, device=hidden.device)
    for start in range(0, len(targets), rows):
        with autocast():
            logits = head(hidden[start : start + rows])
        for first in range(0, len(logits), loss_rows):
            part = logits[first : first + loss_rows]
            rows_done = slice(start + first, start + first + len(part))
            losses[rows_done] = F.cross_entropy(part.float(), targets[rows_done], reduction="none")
    return losses


def _split_output_layer(
    model: Any, autocast: Any, device: torch.device
) -> tuple[torch.nn.Module, torch.nn.Linear] | None:
    """``(body, output layer)`` when ``logits == output_layer(body(...).last_hidden_state)``.

    Checked once on a 6-token probe, because some models post-process their logits (Gemma-2
    soft-caps them, Cohere scales them); those, and modules that are not Hugging Face
    models, return None and are scored through their full forward.
    """
    get_head = getattr(model, "get_output_embeddings", None)
    head = get_head() if callable(get_head) else None
    body = getattr(model, "base_model", None)
    if not isinstance(head, torch.nn.Linear) or body is None or body is model:
        return None
    probe = torch.arange(6, device=device).unsqueeze(0) % head.out_features
    inputs = {"input_ids": probe, "attention_mask": torch.ones_like(probe)}
    try:
        with torch.inference_mode(), autocast():
            full = model(**inputs).logits.float()
            split = head(_last_hidden(body(**inputs))).float()
    except Exception:  # whatever the reason, the full forward is the safe path
        return None
    if full.shape != split.shape or not torch.allclose(full, split, rtol=1e-3, atol=1e-3):
        return None
    return body, head
