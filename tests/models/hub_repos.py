"""Hugging Face cache trees laid out file for file as the hub's real repos ship them.

`save_pretrained` writes a folder; users get something else: ``hf download`` (and
``from_pretrained``) fill ``$HF_HUB_CACHE/models--org--name/`` with content-addressed ``blobs/``,
``snapshots/<commit>/<file>`` symlinks into them and ``refs/<branch>`` files naming the commit.
`write_repo` lays out exactly that, and the `REPOS` table says which files each real repo holds
on which ref and with which config keys, so the loading code meets what users download.

Weights are seeded random tensors with the real architecture (SegFormer: the full published
B0/B2 configurations; language models: the real config keys and model classes, shrunk in width
and depth so that a test runs in seconds). Nothing here is a trained model.

The layouts, as these repos publish them (the nvidia ones as issue #11 lists them; this machine
cannot reach the hub, so they were not re-read from it here):

* ``nvidia/segformer-b*-finetuned-{ade-512-512,ade-640-640,cityscapes-1024-1024}``: ``main`` holds
  ``config.json``, a legacy ``preprocessor_config.json`` (``SegformerFeatureExtractor``,
  ``reduce_labels``, ``size`` as an int), ``pytorch_model.bin`` and ``tf_model.h5``, and no
  safetensors; the hub bot's conversion PR ``refs/pr/N`` adds ``model.safetensors``.
* ``nvidia/mit-b0``: the encoder alone, as ``SegformerForImageClassification`` (1,000 ImageNet
  classes), ``pytorch_model.bin`` on ``main``.
* ``openai-community/gpt2``: ``model.safetensors`` and ``pytorch_model.bin`` side by side, the
  GPT-2 tokenizer files.
* ``EleutherAI/pythia-*``: ``model.safetensors``, ``tokenizer.json``; the training checkpoints
  as branches (``step1000`` …).
* Llama-family repos: sharded ``model-0000k-of-0000n.safetensors`` with
  ``model.safetensors.index.json``; older large repos: sharded ``pytorch_model-…bin`` with
  ``pytorch_model.bin.index.json``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

# Config keys of the real nvidia SegFormer checkpoints (transformers 4.12 conversions).
SEGFORMER_COMMON: dict[str, Any] = {
    "architectures": ["SegformerForSemanticSegmentation"],
    "attention_probs_dropout_prob": 0.0,
    "classifier_dropout_prob": 0.1,
    "decoder_hidden_size": 256,
    "downsampling_rates": [1, 4, 8, 16],
    "drop_path_rate": 0.1,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.0,
    "image_size": 224,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-06,
    "mlp_ratios": [4, 4, 4, 4],
    "model_type": "segformer",
    "num_attention_heads": [1, 2, 5, 8],
    "num_channels": 3,
    "num_encoder_blocks": 4,
    "patch_sizes": [7, 3, 3, 3],
    "reshape_last_stage": True,
    "semantic_loss_ignore_index": 255,
    "sr_ratios": [8, 4, 2, 1],
    "strides": [4, 2, 2, 2],
    "torch_dtype": "float32",
    "transformers_version": "4.12.0.dev0",
}
SEGFORMER_SIZES: dict[str, dict[str, Any]] = {
    "b0": {"depths": [2, 2, 2, 2], "hidden_sizes": [32, 64, 160, 256], "decoder_hidden_size": 256},
    "b1": {"depths": [2, 2, 2, 2], "hidden_sizes": [64, 128, 320, 512], "decoder_hidden_size": 256},
    "b2": {"depths": [3, 4, 6, 3], "hidden_sizes": [64, 128, 320, 512], "decoder_hidden_size": 768},
}
# id2label of the nvidia Cityscapes checkpoints (train ids 0-18)
CITYSCAPES_NAMES = (
    *("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light"),
    *("traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car"),
    *("truck", "bus", "train", "motorcycle", "bicycle"),
)


def legacy_preprocessor(size: int, *, reduce_labels: bool) -> dict[str, Any]:
    """The `preprocessor_config.json` of the nvidia SegFormer repos (pre-ImageProcessor era)."""
    return {
        "do_normalize": True,
        "do_resize": True,
        "feature_extractor_type": "SegformerFeatureExtractor",
        "image_mean": [0.485, 0.456, 0.406],
        "image_std": [0.229, 0.224, 0.225],
        "reduce_labels": reduce_labels,
        "resample": 2,
        "size": size,
    }


def current_preprocessor(height: int, width: int, *, reduce_labels: bool) -> dict[str, Any]:
    """The same processor as `save_pretrained` writes it today (`do_reduce_labels`, size dict)."""
    return {
        "do_normalize": True,
        "do_reduce_labels": reduce_labels,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": [0.485, 0.456, 0.406],
        "image_processor_type": "SegformerImageProcessor",
        "image_std": [0.229, 0.224, 0.225],
        "resample": 2,
        "rescale_factor": 0.00392156862745098,
        "size": {"height": height, "width": width},
    }


def _git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class RepoRef:
    """One ref of a repo: its name (``main``, ``refs/pr/1`` → ``pr/1``, a tag) and its files."""

    name: str
    files: Mapping[str, bytes]


def write_repo(cache: Path, repo_id: str, refs: list[RepoRef]) -> dict[str, Path]:
    """Lay out `repo_id` in the hub cache `cache` as ``hf download`` leaves it.

    Large files (weights) are blobs named by their SHA-256 (the LFS oid), small ones by their git
    blob id, as the hub's ETags are. Returns each ref's snapshot folder; its commit hash is the
    folder's name.
    """
    org, name = repo_id.split("/")
    root = cache / f"models--{org}--{name}"
    snapshots: dict[str, Path] = {}
    for ref in refs:
        digests = {path: hashlib.sha256(data).hexdigest() for path, data in ref.files.items()}
        commit = hashlib.sha1(json.dumps([ref.name, sorted(digests.items())]).encode()).hexdigest()
        snapshot = root / "snapshots" / commit
        for path, data in ref.files.items():
            blob_id = digests[path] if len(data) > 1 << 20 else _git_blob_id(data)
            blob = root / "blobs" / blob_id
            blob.parent.mkdir(parents=True, exist_ok=True)
            if not blob.exists():
                blob.write_bytes(data)
            link = snapshot / path
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(blob, link.parent))
        ref_file = root / "refs" / ref.name
        ref_file.parent.mkdir(parents=True, exist_ok=True)
        ref_file.write_text(commit)
        snapshots[ref.name] = snapshot
    return snapshots


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True).encode()


def torch_bin(state: Mapping[str, torch.Tensor]) -> bytes:
    """A `pytorch_model.bin` as `torch.save` writes it (zip container, tensors only)."""
    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    return buffer.getvalue()


def safetensors_file(state: Mapping[str, torch.Tensor]) -> bytes:
    from safetensors.torch import save

    return save({k: v.contiguous() for k, v in state.items()}, metadata={"format": "pt"})


def shard(state: Mapping[str, torch.Tensor], *, parts: int, kind: str) -> dict[str, bytes]:
    """Split `state` into `parts` files plus the index, named as transformers names them.

    `kind` is ``"safetensors"`` (``model-00001-of-00002.safetensors``,
    ``model.safetensors.index.json``) or ``"bin"`` (``pytorch_model-00001-of-00002.bin``,
    ``pytorch_model.bin.index.json``).
    """
    keys = list(state)
    files: dict[str, bytes] = {}
    weight_map: dict[str, str] = {}
    prefix, suffix, writer = (
        ("model", "safetensors", safetensors_file)
        if kind == "safetensors"
        else ("pytorch_model", "bin", torch_bin)
    )
    for index in range(parts):
        chunk = keys[index::parts]
        file_name = f"{prefix}-{index + 1:05d}-of-{parts:05d}.{suffix}"
        files[file_name] = writer({k: state[k] for k in chunk})
        weight_map.update(dict.fromkeys(chunk, file_name))
    total = sum(t.numel() * t.element_size() for t in state.values())
    files[f"{prefix}.{suffix}.index.json"] = _json(
        {"metadata": {"total_size": total}, "weight_map": weight_map}
    )
    return files


def _seeded(build: Callable[[], torch.nn.Module], seed: int) -> torch.nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build().eval()


def segformer_config(size: str, id2label: Mapping[int, str], **extra: Any) -> dict[str, Any]:
    """The config.json of `nvidia/segformer-{size}-finetuned-…` with these labels."""
    labels = {str(k): v for k, v in id2label.items()}
    return {
        **SEGFORMER_COMMON,
        **SEGFORMER_SIZES[size],
        "id2label": labels,
        "label2id": {v: int(k) for k, v in labels.items()},
        **extra,
    }


def segformer_model(config: Mapping[str, Any], *, seed: int = 0) -> torch.nn.Module:
    """A seeded random model of the class the config's ``architectures`` names."""
    import transformers

    cls = getattr(transformers, config["architectures"][0])
    hf_config = transformers.SegformerConfig.from_dict(dict(config))
    return _seeded(lambda: cls(hf_config), seed)


def nvidia_segformer_files(
    config: Mapping[str, Any], preprocessor: Mapping[str, Any] | None, *, seed: int = 0
) -> tuple[dict[str, bytes], dict[str, bytes], torch.nn.Module]:
    """(main files, conversion-PR files, the model) of an nvidia SegFormer repo."""
    model = segformer_model(config, seed=seed)
    state = model.state_dict()
    main = {
        ".gitattributes": b"*.bin filter=lfs diff=lfs merge=lfs -text\n"
        b"*.h5 filter=lfs diff=lfs merge=lfs -text\n",
        "README.md": b"---\nlicense: other\ntags:\n- vision\n- image-segmentation\n---\n",
        "config.json": _json(config),
        "pytorch_model.bin": torch_bin(state),
        # TensorFlow weights are never read by a PyTorch loader; any bytes keep the file listed.
        "tf_model.h5": b"\x89HDF\r\n\x1a\n" + bytes(64),
    }
    if preprocessor is not None:
        main["preprocessor_config.json"] = _json(preprocessor)
    converted = {**main, "model.safetensors": safetensors_file(state)}
    return main, converted, model


@dataclass
class CausalLMRepo:
    """A causal-LM repo: the config (real keys, shrunk sizes) and how its weights are stored."""

    repo_id: str
    config: dict[str, Any]
    layout: str  # "safetensors", "bin", "both", "sharded-safetensors", "sharded-bin"
    branches: tuple[str, ...] = ()
    extra_files: dict[str, bytes] = field(default_factory=dict)


def causal_lm_files(
    repo: CausalLMRepo, tokenizer_files: Mapping[str, bytes], *, seed: int = 0
) -> tuple[dict[str, bytes], torch.nn.Module]:
    """The files of `repo` on one ref, and the seeded model they hold."""
    import transformers

    hf_config = transformers.AutoConfig.for_model(**repo.config)
    cls = getattr(transformers, repo.config["architectures"][0])
    model = _seeded(lambda: cls(hf_config), seed)
    state = {k: v for k, v in model.state_dict().items()}
    # Tied output embeddings are stored once, as the hub's files store them.
    if getattr(hf_config, "tie_word_embeddings", False):
        state = {k: v for k, v in state.items() if k != "lm_head.weight"}
    files: dict[str, bytes] = {"config.json": _json(repo.config), **tokenizer_files}
    if repo.layout in {"safetensors", "both"}:
        files["model.safetensors"] = safetensors_file(state)
    if repo.layout in {"bin", "both"}:
        files["pytorch_model.bin"] = torch_bin(state)
    if repo.layout == "sharded-safetensors":
        files.update(shard(state, parts=2, kind="safetensors"))
    if repo.layout == "sharded-bin":
        files.update(shard(state, parts=2, kind="bin"))
    files.update(repo.extra_files)
    return files, model


def byte_level_tokenizer_files(kind: str = "gpt2") -> dict[str, bytes]:
    """A small trained byte-level BPE tokenizer saved as the GPT-2 / GPT-NeoX repos save theirs.

    Core tests cannot rely on ``../shared`` (where the real tokenizers are), so this one is
    trained here in well under a second on a fixed text; ids 0–255 are the 256 bytes, the rest
    merges, ``<|endoftext|>`` the last id.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=384,
        special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    text = [
        "The Pile is an 825 GiB English text corpus for training large language models.",
        "It is built from 22 diverse high-quality subsets, both existing and newly built.",
        "def main():\n    return 0\n",
    ] * 20
    tokenizer.train_from_iterator(text, trainer)
    tokenizer.add_special_tokens(["<|endoftext|>"])
    files = {"tokenizer.json": tokenizer.to_str().encode()}
    special = {
        "bos_token": "<|endoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
    }
    files["tokenizer_config.json"] = _json(
        {
            "model_max_length": 2048 if kind == "neox" else 1024,
            "tokenizer_class": "GPTNeoXTokenizer" if kind == "neox" else "GPT2Tokenizer",
            **special,
        }
    )
    files["special_tokens_map.json"] = _json(special)
    return files


def tokenizer_vocab_size(files: Mapping[str, bytes]) -> int:
    from tokenizers import Tokenizer

    return Tokenizer.from_str(files["tokenizer.json"].decode()).get_vocab_size()
