"""Score documents with any Hugging Face causal language model, windows batched across documents.

Each document is tokenized alone (no special tokens), prefixed with BOS (or EOS when the
tokenizer has no BOS) and cut into rolling-loglikelihood windows (`segpile_lab.bpb.windows`).
Windows of all documents are sorted by length and packed into right-padded batches with an
attention mask and explicit position ids, so a window's logits do not depend on its batch
neighbours: the result equals scoring each document alone up to float rounding.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from segpile_lab._hub import load_pretrained
from segpile_lab._progress import progress_bar
from segpile_lab._torch_utils import resolve_device, resolve_dtype
from segpile_lab.bpb.scores import DocumentScores
from segpile_lab.bpb.windows import rolling_windows

__all__ = ["HFCausalLMScorer", "WindowBatch", "load_tokenizer"]

_IGNORE = -100


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


def load_tokenizer(source: Any, *, local_files_only: bool | None = None) -> Any:
    """A tokenizer object, a ``tokenizer.json`` file, a local directory or a hub id → tokenizer."""
    if not isinstance(source, (str, os.PathLike)):
        return source
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    path = os.fspath(source)
    if path.endswith(".json") and os.path.isfile(path):
        return PreTrainedTokenizerFast(tokenizer_file=path, eos_token="<|endoftext|>")
    return load_pretrained(
        AutoTokenizer, path, what="tokenizer", weights=False, local_files_only=local_files_only
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
        model: a hub id, a local directory saved with ``save_pretrained``, or a loaded model
            (any ``AutoModelForCausalLM``; also any module returning ``.logits`` ``(B, T, V)``).
        tokenizer: tokenizer object, ``tokenizer.json`` path, directory or hub id; defaults to
            the model's own when `model` is an id or directory.
        max_length: ``L``, tokens per window; defaults to the model's maximum positions.
        stride: None for disjoint windows (the paper's convention); ``S < L`` for sliding
            windows that score ``S`` new tokens per window (lower BPB; label it).
        batch_size: most windows per forward pass.
        batch_tokens: most padded tokens (``B × T``) per forward pass (bounds logits memory).
        min_padding_efficiency: a batch closes before its real tokens fall below this share of
            its padded ``B × T`` tokens (so padding never wastes more than 10 % by default).
        device: "auto", "cpu", "cuda", ...
        dtype: None = fp32 on CPU and autocast bf16 (fp16 without bf16 support) on CUDA;
            "bf16"/"fp16" autocast; "fp32" none.
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
        batch_tokens: int = 4096,
        min_padding_efficiency: float = 0.9,
        device: str | torch.device = "auto",
        dtype: str | torch.dtype | None = None,
        local_files_only: bool | None = None,
        prefix_token: int | None = None,
        name: str | None = None,
    ) -> None:
        source = model if isinstance(model, (str, os.PathLike)) else None
        if source is not None:
            from transformers import AutoModelForCausalLM

            model = load_pretrained(
                AutoModelForCausalLM,
                source,
                what="causal language model",
                local_files_only=local_files_only,
            )
            if tokenizer is None:
                tokenizer = source
        if tokenizer is None:
            raise ValueError("pass the tokenizer together with a loaded model")
        self.tokenizer = load_tokenizer(tokenizer, local_files_only=local_files_only)
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.max_length = max_length or _max_length_of(model)
        if not self.max_length:
            raise ValueError("the model has no maximum length in its config; pass max_length=")
        self.stride = None if stride in (None, self.max_length) else stride
        rolling_windows(1, self.max_length, self.stride)  # validates stride early
        self.batch_size = batch_size
        self.batch_tokens = max(batch_tokens, self.max_length)
        self.min_padding_efficiency = min_padding_efficiency
        self.autocast_dtype = self._autocast_dtype(dtype)
        if prefix_token is None:
            prefix_token = self.tokenizer.bos_token_id
            if prefix_token is None:
                prefix_token = self.tokenizer.eos_token_id
        if prefix_token is None:
            raise ValueError("the tokenizer has neither BOS nor EOS; pass prefix_token=")
        self.prefix_token = int(prefix_token)
        untrained_config = getattr(getattr(model, "config", None), "untrained_demo_weights", False)
        self.is_trained = bool(getattr(model, "is_trained", True)) and not untrained_config
        self.name = name or str(
            source
            or getattr(model, "name_or_path", "")
            or getattr(getattr(model, "config", None), "model_type", "causal-lm")
        )

    def _autocast_dtype(self, dtype: str | torch.dtype | None) -> torch.dtype | None:
        resolved = resolve_dtype(dtype)
        if resolved is None and self.device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return None if resolved in (None, torch.float32) else resolved

    @property
    def description(self) -> str:
        windows = (
            f"disjoint windows of {self.max_length} tokens"
            if self.stride is None
            else f"sliding windows of {self.max_length} tokens, stride {self.stride}"
        )
        precision = "fp32" if self.autocast_dtype is None else f"autocast {self.autocast_dtype}"
        trained = "" if self.is_trained else ", untrained demo weights"
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
        autocast = (
            torch.autocast(self.device.type, dtype=self.autocast_dtype)
            if self.autocast_dtype is not None
            else contextlib.nullcontext()
        )
        with torch.inference_mode(), autocast:
            output = self.model(
                input_ids=batch.input_ids.to(self.device),
                attention_mask=batch.attention_mask.to(self.device),
                position_ids=batch.position_ids.to(self.device),
            )
        return output.logits if hasattr(output, "logits") else output[0]

    def token_losses(self, batch: WindowBatch) -> torch.Tensor:
        """NLL in nats ``(B, T)`` float32 of each scored position; 0 at unscored ones."""
        logits = self.forward(batch)
        rows, width, vocab = logits.shape
        with torch.inference_mode():
            losses = F.cross_entropy(
                logits.reshape(rows * width, vocab).float(),
                batch.labels.reshape(-1).to(logits.device),
                ignore_index=_IGNORE,
                reduction="none",
            )
        return losses.reshape(rows, width).cpu()

    def score(self, texts: Sequence[str], *, progress: bool | None = None) -> DocumentScores:
        """Per-document NLL (nats), token counts and loss by window position."""
        sequences = self.tokenize(texts)
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
