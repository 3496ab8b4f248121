"""`finetune`: adapt a SegFormer segmenter to labelled images (decoder only or the whole model).

A plain PyTorch loop, not transformers' `Trainer` (ARCHITECTURE.md says why): per step, a
batch of images is resized to `image_size`² (masks nearest), optionally flipped and
crop-rescaled, normalised as in inference; logits are upsampled to the mask size and scored
with cross-entropy (255 ignored); AdamW with a linear ("poly 1") decay to 0.

Policies, each tested:

* **decoder only** (``mode="decoder"``): the encoder's parameters get no gradient and the
  encoder runs in eval mode under ``no_grad`` (no stochastic depth), so its weights stay
  bit-identical; ``mode="full"`` trains everything.
* **frozen batch norm**: SegFormer's only batch norm (in the decode head) stays in eval mode,
  so its running statistics never change (batches of 2–8 images give noisy statistics, and the
  folded inference head is built from them); its scale and shift are still trained.
* **a new label set**: when the training data names other classes (``dataset.id2label``, e.g.
  the synthetic shapes), the classifier is replaced by a seeded new one of the right size.
* **determinism and resume**: the sample order of each epoch, each sample's augmentation and
  each step's dropout are seeded from ``(seed, epoch/step)``, and checkpoints hold the
  optimizer and schedule, so resuming gives the same weights as an uninterrupted run.
* **checkpoints**: ``save_pretrained`` (safetensors) into ``output_dir/checkpoint-<step>``
  plus ``optimizer.pt`` (tensors only, read back with ``torch.load(weights_only=True)``) and
  ``trainer_state.json``; the config drops the demo marker ``segpile_demo_weights`` and records
  ``segpile_finetuned_from``, ``segpile_finetune_steps``, ``segpile_finetune_mode``,
  ``segpile_synthetic_data`` and ``segpile_temperature``, so `load_segmenter(path)` reports
  ``is_trained=True`` for a checkpoint of at least one step.
"""

from __future__ import annotations

import copy
import json
import math
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch.nn import functional as F

from segpile_lab._output import output_folder
from segpile_lab._progress import progress_bar
from segpile_lab.errors import DataError
from segpile_lab.seg.ade20k import IGNORE_INDEX
from segpile_lab.seg.dataset import SegmentationDataset, as_dataset
from segpile_lab.seg.model import _DEMO_MARKER
from segpile_lab.seg.preprocess import Preprocessing, normalise

Mode = Literal["decoder", "full"]
#: A SegformerForSemanticSegmentation: its parts (decode_head, config, ...) are read by name.
HFSegformer = Any
DEFAULT_LR = {"decoder": 1e-3, "full": 6e-5}  # SegFormer's paper: AdamW 6e-5 for the full model
TRAINER_STATE = "trainer_state.json"
OPTIMIZER_STATE = "optimizer.pt"


@dataclass
class FinetuneResult:
    """What `finetune` returns.

    Attributes:
        segmenter: a new `Segmenter` on the trained model (the input segmenter is unchanged).
        history: Polars frame, one row per step: ``step``, ``epoch``, ``loss``, ``lr`` and, on
            evaluation steps, ``val_loss``, ``val_miou``, ``val_pixel_accuracy``; with
            validation data a first row ``step`` 0 (no loss) scores the starting model.
        checkpoint: the last checkpoint folder written, or None.
    """

    segmenter: Any
    history: Any
    checkpoint: Path | None = None

    def plot(self) -> Any:
        """Matplotlib figure: training loss (and validation loss) and validation mIoU by step."""
        return plot_history(self.history.to_dicts())


def finetune(
    segmenter: Any,
    train: Any,
    val: Any = None,
    *,
    mode: Mode = "decoder",
    epochs: int = 1,
    max_steps: int | None = None,
    lr: float | None = None,
    batch_size: int = 4,
    image_size: int = 512,
    augment: bool = True,
    amp: bool | Literal["auto"] = "auto",
    seed: int = 0,
    eval_every: int | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    save_every: int | None = None,
    resume_from: str | os.PathLike[str] | None = None,
    weight_decay: float = 0.01,
    progress: bool | None = None,
    live_plot: bool | None = None,
) -> FinetuneResult:
    """Fine-tune `segmenter` on `train`, scoring `val` as it goes.

    Args:
        train, val: `SegmentationDataset`s (or folders / sequences, see ``as_dataset``).
        mode: ``"decoder"`` (encoder frozen) or ``"full"``.
        epochs: passes over `train`; `max_steps` stops earlier.
        lr: AdamW peak learning rate (default 1e-3 decoder, 6e-5 full), decayed linearly to 0.
        batch_size: images per step; image_size: training side in pixels (square).
        augment: random horizontal flip and random crop of 60–100 % of each side.
        amp: ``"auto"`` = bf16 autocast on CUDA, none on CPU; True = bf16 autocast anywhere.
        eval_every: evaluate `val` every this many steps (default: once per epoch).
        output_dir: write checkpoints ``checkpoint-<step>`` here (every `save_every` steps
            and at the end); resume_from: a checkpoint folder to continue from.
        live_plot: redraw loss and mIoU in the notebook after each evaluation (default: when
            running in a Jupyter kernel).
    """
    if mode not in DEFAULT_LR:
        raise ValueError(f"mode must be 'decoder' or 'full', got {mode!r}")
    train_set = as_dataset(train)
    val_set = as_dataset(val) if val is not None else None
    if len(train_set) == 0:
        raise DataError("the training set is empty")
    device = segmenter.device
    model = _starting_model(segmenter, resume_from, train_set.id2label, seed).to(device)
    trainable = _set_trainable(model, mode)
    steps_per_epoch = math.ceil(len(train_set) / batch_size)
    total = (
        epochs * steps_per_epoch if max_steps is None else min(max_steps, epochs * steps_per_epoch)
    )
    optimizer = torch.optim.AdamW(trainable, lr=lr or DEFAULT_LR[mode], weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / total))
    rows: list[dict[str, Any]] = []
    start = 0
    if resume_from is not None:
        start, rows = _load_training_state(Path(resume_from), optimizer, schedule)
    autocast = _autocast(device, amp)
    stats = segmenter.preprocessing  # the checkpoint's mean/std, as in inference
    eval_every = eval_every or steps_per_epoch
    plotter = _LivePlot() if (live_plot if live_plot is not None else _in_kernel()) else None
    checkpoint = None
    if val_set is not None and start == 0:  # the starting point of the curve
        rows.append({"step": 0, "epoch": 0, "loss": None, "lr": schedule.get_last_lr()[0]})
        rows[-1] |= evaluate_loss_and_miou(model, val_set, image_size, batch_size, autocast, stats)
    with progress_bar(total=total, progress=progress, desc=f"fine-tuning ({mode})") as bar:
        bar.update(start)
        for step in range(start, total):
            epoch, position = divmod(step, steps_per_epoch)
            order = np.random.default_rng([seed, epoch]).permutation(len(train_set))
            indices = order[position * batch_size : (position + 1) * batch_size]
            pixels, masks = _batch(train_set, indices, image_size, stats, augment, [seed, epoch])
            _train_mode(model, mode)
            torch.manual_seed(seed * 1_000_003 + step)  # dropout / drop path of this step
            with autocast:
                loss = _loss(model, pixels.to(device), masks.to(device), mode)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            row = {
                "step": step + 1,
                "epoch": epoch,
                "loss": float(loss.detach()),
                "lr": schedule.get_last_lr()[0],
            }
            if val_set is not None and ((step + 1) % eval_every == 0 or step + 1 == total):
                row |= evaluate_loss_and_miou(
                    model, val_set, image_size, batch_size, autocast, stats
                )
            rows.append(row)
            bar.update(1)
            bar.set_postfix(loss=f"{row['loss']:.3f}")
            if plotter is not None and "val_miou" in row:
                plotter.update(rows)
            done = step + 1 == total
            if output_dir is not None and (done or (save_every and (step + 1) % save_every == 0)):
                checkpoint = save_checkpoint(
                    model, Path(output_dir) / f"checkpoint-{step + 1}", segmenter, train_set,
                    mode, step + 1, optimizer, schedule, rows,
                )  # fmt: skip
    model.eval()
    _mark_trained(model.config, segmenter, train_set, mode, total)
    trained = _new_segmenter(model, segmenter, checkpoint)
    return FinetuneResult(trained, _history_frame(rows), checkpoint)


# -- model preparation --------------------------------------------------------------------------
def _starting_model(
    segmenter: Any, resume_from: Any, id2label: dict[int, str] | None, seed: int
) -> HFSegformer:
    if resume_from is not None:
        from transformers import SegformerForSemanticSegmentation

        return SegformerForSemanticSegmentation.from_pretrained(
            os.fspath(resume_from), use_safetensors=True, local_files_only=True
        )
    model = copy.deepcopy(segmenter.model)
    if id2label is not None and dict(id2label) != dict(segmenter.id2label):
        _replace_classifier(model, id2label, seed)
    return model


def _replace_classifier(model: HFSegformer, id2label: dict[int, str], seed: int) -> None:
    """A new seeded classifier for the label set `id2label` (HF's init: normal(0, 0.02))."""
    old = model.decode_head.classifier
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        new = torch.nn.Conv2d(old.in_channels, len(id2label), kernel_size=1)
        torch.nn.init.normal_(new.weight, std=model.config.initializer_range)
        torch.nn.init.zeros_(new.bias)  # type: ignore[arg-type]  # Conv2d(bias=True) has one
    model.decode_head.classifier = new.to(old.weight.device)
    model.config.num_labels = len(id2label)
    model.config.id2label = {int(k): str(v) for k, v in id2label.items()}
    model.config.label2id = {str(v): int(k) for k, v in id2label.items()}


def _set_trainable(model: HFSegformer, mode: Mode) -> list[torch.nn.Parameter]:
    for parameter in model.parameters():
        parameter.requires_grad_(mode == "full")
    if mode == "decoder":
        for parameter in model.decode_head.parameters():
            parameter.requires_grad_(True)
    return [p for p in model.parameters() if p.requires_grad]


def _train_mode(model: HFSegformer, mode: Mode) -> None:
    """Train mode, except the frozen parts: the encoder (decoder mode) and every batch norm."""
    model.train()
    if mode == "decoder":
        model.segformer.eval()
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eval()


def _autocast(device: torch.device, amp: bool | str) -> Any:
    from contextlib import nullcontext

    if amp == "auto":
        amp = device.type == "cuda"
    if not amp:
        return nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


# -- data ---------------------------------------------------------------------------------------
def _batch(
    dataset: SegmentationDataset,
    indices: np.ndarray,
    size: int,
    stats: Preprocessing,
    augment: bool,
    seed: list[int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel values `(B, 3, size, size)` float32, normalised by the checkpoint's mean/std, and
    masks `(B, size, size)` int64."""
    images, masks = [], []
    for index in indices:
        image, mask = dataset[int(index)]
        rng = np.random.default_rng([*seed, int(index)]) if augment else None
        image, mask = _resized(image, mask, size, rng)
        images.append(torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1))
        masks.append(torch.from_numpy(mask.astype(np.int64)))
    return normalise(torch.stack(images), stats.mean, stats.std), torch.stack(masks)


def _resized(
    image: np.ndarray, mask: np.ndarray, size: int, rng: np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray]:
    """Resize (photo bilinear, mask nearest) to `size`², after a random crop and flip when
    `rng` is given."""
    from PIL import Image

    if rng is not None:
        height, width = mask.shape
        crop_h, crop_w = (max(1, int(s * rng.uniform(0.6, 1.0))) for s in (height, width))
        top, left = int(rng.integers(height - crop_h + 1)), int(rng.integers(width - crop_w + 1))
        image, mask = (
            image[top : top + crop_h, left : left + crop_w],
            mask[top : top + crop_h, left : left + crop_w],
        )
        if rng.random() < 0.5:
            image, mask = image[:, ::-1], mask[:, ::-1]
    photo = Image.fromarray(np.ascontiguousarray(image)).resize(
        (size, size), Image.Resampling.BILINEAR
    )
    labels = Image.fromarray(np.ascontiguousarray(mask).astype(np.int32)).resize(
        (size, size), Image.Resampling.NEAREST
    )
    return np.array(photo), np.array(labels)  # writable copies: torch.from_numpy needs them


# -- loss and evaluation -------------------------------------------------------------------------
def _logits(model: HFSegformer, pixels: torch.Tensor, mode: Mode) -> torch.Tensor:
    """Float32 logits `(B, C, S, S)` upsampled bilinearly from the model's `(S/4)²` grid; the
    encoder without autograd in decoder mode."""
    with torch.no_grad() if mode == "decoder" else torch.enable_grad():
        states = model.segformer(pixels, output_hidden_states=True).hidden_states
    logits = model.decode_head(states)
    return F.interpolate(
        logits.float(), size=pixels.shape[-2:], mode="bilinear", align_corners=False
    )


def _loss(
    model: HFSegformer, pixels: torch.Tensor, masks: torch.Tensor, mode: Mode
) -> torch.Tensor:
    return F.cross_entropy(_logits(model, pixels, mode), masks, ignore_index=IGNORE_INDEX)


def evaluate_loss_and_miou(
    model: HFSegformer,
    dataset: SegmentationDataset,
    image_size: int,
    batch_size: int,
    autocast: Any,
    stats: Preprocessing,
) -> dict[str, float]:
    """Validation loss, mIoU and pixel accuracy at `image_size` (no augmentation), pixels
    normalised by `stats` (the checkpoint's mean/std)."""
    from segpile_lab.seg.metrics import SegmentationMetrics

    model.eval()
    metrics = SegmentationMetrics(int(model.config.num_labels))
    total, count = 0.0, 0
    device = next(model.parameters()).device
    with torch.no_grad(), autocast:
        for start in range(0, len(dataset), batch_size):
            indices = np.arange(start, min(start + batch_size, len(dataset)))
            pixels, masks = _batch(dataset, indices, image_size, stats, False, [])
            upsampled = _logits(model, pixels.to(device), "decoder")
            masks = masks.to(device)
            total += float(
                F.cross_entropy(upsampled, masks, ignore_index=IGNORE_INDEX, reduction="sum")
            )
            count += int((masks != IGNORE_INDEX).sum())
            for predicted, target in zip(
                upsampled.argmax(1).cpu().numpy(), masks.cpu().numpy(), strict=True
            ):
                metrics.update(predicted, target)
    summary = metrics.summary()
    return {
        "val_loss": total / max(count, 1),
        "val_miou": summary["miou"],
        "val_pixel_accuracy": summary["pixel_accuracy"],
    }


# -- checkpoints ---------------------------------------------------------------------------------
def _mark_trained(
    config: Any, segmenter: Any, dataset: SegmentationDataset, mode: Mode, steps: int
) -> None:
    """Config keys of a fine-tuned model (see the module docstring)."""
    if steps > 0 and hasattr(config, _DEMO_MARKER):
        delattr(config, _DEMO_MARKER)
    config.segpile_finetuned_from = str(
        getattr(config, "segpile_finetuned_from", None) or segmenter.name
    )
    config.segpile_finetune_steps = int(steps)
    config.segpile_finetune_mode = mode
    config.segpile_synthetic_data = bool(dataset.synthetic)
    config.segpile_temperature = float(getattr(segmenter, "temperature", 1.0))


def save_checkpoint(
    model: HFSegformer,
    path: Path,
    segmenter: Any,
    dataset: SegmentationDataset,
    mode: Mode,
    step: int,
    optimizer: torch.optim.Optimizer,
    schedule: Any,
    rows: list[dict[str, Any]],
) -> Path:
    """Weights (safetensors) and config via ``save_pretrained``, optimizer and schedule state,
    and the history, in `path`."""
    saved = copy.deepcopy(model.config)
    _mark_trained(saved, segmenter, dataset, mode, step)
    output_folder(path)
    original, model.config = model.config, saved
    try:
        with _quiet_transformers():  # its "Writing model shards" bar is a widget in notebooks
            model.save_pretrained(path, safe_serialization=True)
    finally:
        model.config = original
    torch.save(
        {"optimizer": optimizer.state_dict(), "schedule": schedule.state_dict()},
        path / OPTIMIZER_STATE,
    )
    state = {"step": step, "mode": mode, "history": rows}
    (path / TRAINER_STATE).write_text(json.dumps(state, indent=1) + "\n")
    return path


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _load_training_state(
    path: Path, optimizer: Any, schedule: Any
) -> tuple[int, list[dict[str, Any]]]:
    for name in (TRAINER_STATE, OPTIMIZER_STATE):
        if not (path / name).is_file():
            raise DataError(f"{path}: not a fine-tuning checkpoint (no {name})")
    states = torch.load(path / OPTIMIZER_STATE, weights_only=True, map_location="cpu")
    optimizer.load_state_dict(states["optimizer"])
    schedule.load_state_dict(states["schedule"])
    trainer = json.loads((path / TRAINER_STATE).read_text())
    return int(trainer["step"]), list(trainer["history"])


def _new_segmenter(model: HFSegformer, segmenter: Any, checkpoint: Path | None) -> Any:
    from segpile_lab.seg.model import Segmenter

    name = os.fspath(checkpoint) if checkpoint is not None else f"{segmenter.name} (fine-tuned)"
    model.config._name_or_path = name
    with warnings.catch_warnings():  # a new label set gets generated colours: expected here
        warnings.simplefilter("ignore")
        return Segmenter(model, name=name, device=segmenter.device, dtype=segmenter.dtype)


# -- history and live plot -----------------------------------------------------------------------
def _history_frame(rows: list[dict[str, Any]]) -> Any:
    import polars as pl

    columns = ["step", "epoch", "loss", "lr", "val_loss", "val_miou", "val_pixel_accuracy"]
    return pl.DataFrame(
        [{c: row.get(c) for c in columns} for row in rows],
        schema={"step": pl.Int64, "epoch": pl.Int64, **{c: pl.Float64 for c in columns[2:]}},
    )


def plot_history(rows: list[dict[str, Any]]) -> Any:
    """Two panels: loss by step (train, and validation where evaluated); validation mIoU."""
    from segpile_lab._figures import matplotlib_figure

    fig, (left, right) = matplotlib_figure(9, 3.2, ncols=2, sharey=False)
    trained = [r for r in rows if r.get("loss") is not None]
    left.plot([r["step"] for r in trained], [r["loss"] for r in trained], lw=1, label="train loss")
    evaluated = [r for r in rows if r.get("val_miou") is not None]
    if evaluated:
        left.plot(
            [r["step"] for r in evaluated],
            [r["val_loss"] for r in evaluated],
            "o-",
            color="#d62728",
            label="validation loss",
        )
        right.plot(
            [r["step"] for r in evaluated],
            [r["val_miou"] for r in evaluated],
            "o-",
            color="#2ca02c",
        )
    left.set(xlabel="step", ylabel="cross-entropy (nats)", title="loss")
    left.legend(loc="upper right")
    right.set(xlabel="step", ylabel="mIoU", ylim=(0, 1), title="validation mIoU")
    right.grid(alpha=0.3)
    return fig


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class _LivePlot:
    """One notebook output redrawn in place (a PNG, so it survives export)."""

    def __init__(self) -> None:
        self._handle: Any = None

    def update(self, rows: list[dict[str, Any]]) -> None:
        from IPython.display import display

        fig = plot_history(rows)
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
