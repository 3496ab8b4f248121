"""The repos the tests load, written into one Hugging Face cache (see `hub_repos` for layouts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from hub_repos import (
    CITYSCAPES_NAMES,
    CausalLMRepo,
    RepoRef,
    byte_level_tokenizer_files,
    causal_lm_files,
    legacy_preprocessor,
    nvidia_segformer_files,
    segformer_config,
    tokenizer_vocab_size,
    write_repo,
)

from segpile_lab.seg.ade20k import ADE20K

B2_ADE = "nvidia/segformer-b2-finetuned-ade-512-512"
B0_ADE = "nvidia/segformer-b0-finetuned-ade-512-512"
B0_CITYSCAPES = "nvidia/segformer-b0-finetuned-cityscapes-1024-1024"
MIT_B0 = "nvidia/mit-b0"
GPT2 = "openai-community/gpt2"
PYTHIA = "EleutherAI/pythia-70m"
LLAMA = "meta-llama/Llama-2-7b-hf"
NEOX_SHARDED_BIN = "EleutherAI/gpt-neox-20b"


@dataclass
class HubCache:
    """The cache folder, each repo's seeded reference model and its snapshot folders."""

    root: Path
    models: dict[str, torch.nn.Module]
    snapshots: dict[str, dict[str, Path]]

    def commit(self, repo_id: str, ref: str = "main") -> str:
        return self.snapshots[repo_id][ref].name


def _lm_repos(vocab: int) -> list[CausalLMRepo]:
    """Real config keys of each family, widths and depths shrunk (the real ones are 0.1–20 B)."""
    gpt2 = {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1,
        "bos_token_id": vocab - 1,
        "embd_pdrop": 0.1,
        "eos_token_id": vocab - 1,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2",
        "n_ctx": 64,
        "n_embd": 32,
        "n_head": 4,
        "n_layer": 2,
        "n_positions": 64,
        "resid_pdrop": 0.1,
        "summary_activation": None,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "vocab_size": vocab,
    }
    neox = {
        "architectures": ["GPTNeoXForCausalLM"],
        "bos_token_id": 0,
        "eos_token_id": vocab - 1,
        "hidden_act": "gelu",
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 128,
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": 64,
        "model_type": "gpt_neox",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "rotary_emb_base": 10000,
        "rotary_pct": 0.25,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "use_cache": True,
        "use_parallel_residual": True,
        "vocab_size": vocab,
    }
    llama = {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "bos_token_id": vocab - 1,
        "eos_token_id": vocab - 1,
        "hidden_act": "silu",
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "max_position_embeddings": 64,
        "model_type": "llama",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-05,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "vocab_size": vocab,
    }
    return [
        CausalLMRepo(GPT2, gpt2, "both"),
        CausalLMRepo(PYTHIA, neox, "safetensors", branches=("step1000",)),
        CausalLMRepo(LLAMA, llama, "sharded-safetensors"),
        CausalLMRepo(NEOX_SHARDED_BIN, neox, "sharded-bin"),
    ]


def build_hub_cache(root: Path, *, with_b2: bool = True) -> HubCache:
    """Write every repo the tests load into the cache `root`; see `hub_repos` for the layouts."""
    models: dict[str, Any] = {}
    snapshots: dict[str, dict[str, Path]] = {}
    ade = ADE20K.id2label
    segformers = [(B0_ADE, "b0", ade, 512, True)]
    if with_b2:
        segformers.append((B2_ADE, "b2", ade, 512, True))
    segformers.append((B0_CITYSCAPES, "b0", dict(enumerate(CITYSCAPES_NAMES)), 1024, False))
    for seed, (repo_id, size, labels, side, reduce) in enumerate(segformers):
        config = segformer_config(size, labels)
        main, converted, model = nvidia_segformer_files(
            config, legacy_preprocessor(side, reduce_labels=reduce), seed=seed
        )
        snapshots[repo_id] = write_repo(
            root, repo_id, [RepoRef("main", main), RepoRef("refs/pr/1", converted)]
        )
        models[repo_id] = model
    imagenet = {i: f"imagenet class {i}" for i in range(1000)}
    encoder = segformer_config("b0", imagenet, architectures=["SegformerForImageClassification"])
    main, _, model = nvidia_segformer_files(encoder, None, seed=7)
    snapshots[MIT_B0] = write_repo(root, MIT_B0, [RepoRef("main", main)])
    models[MIT_B0] = model
    tokenizer = byte_level_tokenizer_files()
    for seed, repo in enumerate(_lm_repos(tokenizer_vocab_size(tokenizer)), start=20):
        files, model = causal_lm_files(repo, tokenizer, seed=seed)
        refs = [RepoRef("main", files)] + [RepoRef(branch, files) for branch in repo.branches]
        snapshots[repo.repo_id] = write_repo(root, repo.repo_id, refs)
        models[repo.repo_id] = model
    return HubCache(root, models, snapshots)
