"""A tiny causal LM with seeded random weights, for notebooks and tests that run offline.

Its numbers say nothing about language: they exercise the scoring pipeline. The model carries
``untrained_demo_weights`` in its config (read by `is_demo_model`), so every table and figure
made from it says "untrained demo weights".
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

import torch

from segpile_lab.errors import UntrainedModelWarning
from segpile_lab.provenance import UNTRAINED

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

__all__ = ["byte_level_tokenizer", "demo_causal_lm"]

END_OF_TEXT = "<|endoftext|>"


def is_demo_model(model: Any) -> bool:
    """Whether `model` (a transformers causal LM) holds `demo_causal_lm`'s untrained weights,
    also after ``save_pretrained`` / ``from_pretrained``."""
    return bool(getattr(getattr(model, "config", None), "untrained_demo_weights", False))


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable characters."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += list(range(ord("®"), ord("ÿ") + 1))
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


def byte_level_tokenizer() -> PreTrainedTokenizerFast:
    """A fast tokenizer with one token per UTF-8 byte (id = byte value) and EOS = 256.

    Used when no real ``tokenizer.json`` is available offline; ``len(tokenizer) == 257``.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {char: byte for byte, char in _bytes_to_unicode().items()}
    vocab[END_OF_TEXT] = 256
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens([END_OF_TEXT])
    return PreTrainedTokenizerFast(tokenizer_object=backend, eos_token=END_OF_TEXT)


def demo_causal_lm(
    arch: str = "gpt2",
    tokenizer_file: str | os.PathLike[str] | None = None,
    *,
    seed: int = 0,
    layers: int = 2,
    hidden_size: int = 64,
    heads: int = 4,
    max_length: int = 256,
) -> tuple[Any, Any]:
    """A small randomly initialised GPT-2 or GPT-NeoX model and its tokenizer.

    Args:
        arch: "gpt2" or "gpt-neox".
        tokenizer_file: a real ``tokenizer.json`` (e.g. GPT-2's); None uses
            `byte_level_tokenizer`.
        seed: seeds the weights (same seed, same model).
        layers, hidden_size, heads: model size; max_length: maximum positions.
    Returns:
        ``(model, tokenizer)``; `is_demo_model` is True for the model.
    Warns:
        UntrainedModelWarning: always; its scores come from untrained demo weights.
    """
    from transformers import AutoModelForCausalLM, GPT2Config, GPTNeoXConfig, PretrainedConfig

    from segpile_lab.bpb.hf_scorer import load_tokenizer

    tokenizer = byte_level_tokenizer() if tokenizer_file is None else load_tokenizer(tokenizer_file)
    eos = tokenizer.convert_tokens_to_ids(END_OF_TEXT)
    common: dict[str, Any] = {
        "vocab_size": len(tokenizer), "bos_token_id": eos, "eos_token_id": eos
    }
    config: PretrainedConfig
    if arch == "gpt2":
        config = GPT2Config(
            n_layer=layers, n_embd=hidden_size, n_head=heads, n_positions=max_length, **common
        )
    elif arch == "gpt-neox":
        config = GPTNeoXConfig(
            num_hidden_layers=layers,
            hidden_size=hidden_size,
            num_attention_heads=heads,
            intermediate_size=4 * hidden_size,
            max_position_embeddings=max_length,
            **common,
        )
    else:
        raise ValueError(f"unknown demo architecture {arch!r}; use 'gpt2' or 'gpt-neox'")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config).eval()
    model.config.untrained_demo_weights = True  # survives save_pretrained / from_pretrained
    model.name_or_path = f"demo-{arch}"
    warnings.warn(
        f"demo-{arch}: {UNTRAINED}; its bits per byte measure nothing about language",
        UntrainedModelWarning,
        stacklevel=2,
    )
    return model, tokenizer
