"""Hand-built stand-ins for the BPB tests: a uniform model and a table-driven scorer."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import torch

from segpile_lab.bpb.scores import DocumentScores


class UniformLM(torch.nn.Module):
    """Equal logits over `vocab_size` tokens at every position, whatever the input."""

    def __init__(self, vocab_size: int, max_length: int) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.config = SimpleNamespace(max_position_embeddings=max_length)

    def forward(self, input_ids, attention_mask=None, position_ids=None):
        return SimpleNamespace(logits=torch.zeros(*input_ids.shape, self.vocab_size))


class TableScorer:
    """Returns the NLL given for each text in a dict (hand-built exact cases)."""

    is_trained = True
    description = "hand-built table"

    def __init__(self, nll_by_text: dict[str, float], name: str = "table") -> None:
        self.nll_by_text = nll_by_text
        self.name = name

    def score(self, texts: Sequence[str], *, progress=None) -> DocumentScores:
        return DocumentScores(
            np.asarray([self.nll_by_text[t] for t in texts], dtype=np.float64),
            np.asarray([len(t) for t in texts], dtype=np.int64),
        )
