"""Load Hugging Face checkpoints as the hub ships them, with errors a person can act on.

A model is named by a hub id (``nvidia/segformer-b2-finetuned-ade-512-512``) or a local
directory, optionally at a ``revision`` (branch, tag, ``refs/pr/N`` or commit). Hub ids go
through the standard cache (``HF_HOME`` / ``HF_HUB_CACHE``) and honour ``HF_HUB_OFFLINE``.

Weights load the way transformers loads them: ``model.safetensors`` (single or sharded with its
index) when the revision has it, else PyTorch's ``pytorch_model.bin`` (single or sharded), and
the latter only through ``torch.load(weights_only=True)``, which rebuilds tensors and plain
containers and refuses any pickle that would construct other objects or call code. Remote code
is never trusted. Which weights the checkpoint did not cover (a head the file lacks, as in an
encoder-only checkpoint) is reported in `LoadedModel`, so callers never call such a model
trained.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from segpile_lab._progress import bars_disabled
from segpile_lab.errors import CheckpointError, ModelNotAvailableError

__all__ = [
    "LoadedModel",
    "hub_cache_dir",
    "hub_offline",
    "hub_reachable",
    "load_model",
    "load_pretrained",
    "read_checkpoint_json",
]


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache that `from_pretrained` reads (honours HF_HOME, HF_HUB_CACHE)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def hub_offline() -> bool:
    """True when HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) asks for no network access."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("TRANSFORMERS_OFFLINE", "") in {
        "1",
        "true",
        "TRUE",
        "yes",
    }


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """True when the hub endpoint accepts a TCP connection within `timeout_s` seconds.

    Behind a proxy (HTTPS_PROXY/HTTP_PROXY set) the direct probe says nothing, so it answers True
    and leaves the decision to the HTTP client.
    """
    from huggingface_hub import constants

    if any(
        os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
    ):
        return True
    parsed = urlparse(constants.ENDPOINT)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=timeout_s).close()
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class _Source:
    """Where a checkpoint comes from, resolved once: a local folder or a hub id (+ revision)."""

    name: str
    local: Path | None
    revision: str | None
    local_files_only: bool
    unreachable: bool

    @property
    def location(self) -> str:
        if self.local is not None:
            return str(self.local)
        org, _, repo = self.name.partition("/")
        return f"the Hugging Face cache at {hub_cache_dir() / f'models--{org}--{repo}'}"

    def mode(self) -> str:
        if self.unreachable:
            return "offline (the hub endpoint is unreachable from this machine)"
        if self.local_files_only and self.local is None:
            return "offline (HF_HUB_OFFLINE=1 or local_files_only=True)"
        return "online" if self.local is None else "from a local folder"

    def options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"local_files_only": self.local_files_only}
        if self.revision is not None and self.local is None:
            options["revision"] = self.revision
        return options

    @property
    def target(self) -> str:
        return str(self.local) if self.local is not None else self.name


def _resolve(
    source: str | os.PathLike[str], what: str, revision: str | None, local_files_only: bool | None
) -> _Source:
    name = os.fspath(source)
    local: Path | None = Path(name).expanduser()
    if local is not None and not local.is_dir():
        if local.exists() or name.startswith((".", "/", "~")) or name.count("/") > 1:
            raise ModelNotAvailableError(
                f"{what} {name!r}: no such local directory. Pass a folder holding config.json and "
                "weights (from `hf download ID --local-dir DIR` or save_pretrained()), or a hub "
                "id such as 'owner/name'."
            )
        local = None
    unreachable = False
    if local_files_only is None:
        local_files_only = hub_offline()
        if not local_files_only and local is None and not hub_reachable():
            # no network: read the cache at once instead of minutes of HTTP retries
            local_files_only = unreachable = True
    return _Source(name, local, revision, bool(local_files_only), unreachable)


def _advice(source: _Source, offline_alternative: str | None) -> str:
    if source.local is not None:
        fix = (
            f"Fix: check that {source.local} holds config.json and model.safetensors or "
            "pytorch_model.bin (as `hf download ID --local-dir DIR` or save_pretrained() write)."
        )
    else:
        revision = f" --revision {source.revision}" if source.revision else ""
        fix = (
            f"Fix: on a machine with internet access run `hf download {source.name}{revision}` "
            f"and copy its cache folder to {hub_cache_dir()} (or point HF_HOME / HF_HUB_CACHE "
            f"at it), or `hf download {source.name}{revision} --local-dir DIR` and pass DIR."
        )
    if offline_alternative:
        fix += f" Offline, {offline_alternative} runs without any download."
    return fix


def _wrap(
    exc: BaseException, source: _Source, what: str, offline_alternative: str | None
) -> ModelNotAvailableError:
    """Turn a third-party loading error into our typed error naming the checkpoint and the fix."""
    detail = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    head = f"{what} {source.name!r}"
    if source.revision:
        head += f" at revision {source.revision!r}"
    if isinstance(exc, pickle.UnpicklingError):
        return CheckpointError(
            f"{head}: refused to load {source.location}: its PyTorch pickle holds more than "
            "tensors, and pickles are only read with torch.load(weights_only=True), which never "
            f"builds arbitrary objects or runs code ({detail}). Use a safetensors checkpoint."
        )
    missing = isinstance(exc, (OSError, FileNotFoundError)) or "local_files_only" in str(exc)
    if missing:
        # the first line is for readers (notebooks show it alone); the loader's own words last
        return ModelNotAvailableError(
            f"{head} could not be loaded from {source.location}, {source.mode()}.\n"
            + _advice(source, offline_alternative)
            + f"\nLoader error: {detail}"
        )
    return CheckpointError(
        f"{head}: the checkpoint at {source.location} is there but cannot be loaded: {detail}"
    )


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """Keep transformers' and the hub's progress bars and load logs out of pages.

    transformers draws a "Loading weights" tqdm for every checkpoint and logs a table of
    missing keys; under a kernel both become widgets or raw stderr blocks in exported reports.
    The missing keys come back to the caller in `LoadedModel` instead. Download bars stay on in
    interactive use and are hidden when ``TQDM_DISABLE`` is set (report mode).
    """
    import huggingface_hub.utils as hub_utils
    from transformers.utils import logging as hf_logging

    report_mode = bars_disabled()
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hub_bars_were_off = hub_utils.are_progress_bars_disabled()
    verbosity = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity(logging.ERROR)
    if report_mode:
        hub_utils.disable_progress_bars()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars_were_on:
            hf_logging.enable_progress_bar()
        if report_mode and not hub_bars_were_off:
            hub_utils.enable_progress_bars()


@dataclass(frozen=True)
class LoadedModel:
    """A model from `load_model` and what its checkpoint left out.

    Attributes:
        model: the loaded module, in eval mode.
        newly_initialised: parameter/buffer names the checkpoint did not hold (random values).
    """

    model: Any
    newly_initialised: tuple[str, ...]

    def coverage_problem(self) -> str | None:
        """None when the checkpoint set every weight; else one sentence saying what it missed."""
        if not self.newly_initialised:
            return None
        names = sorted(self.newly_initialised)
        prefixes = sorted({name.split(".")[0] for name in names})
        return (
            f"{len(names)} weights were not in the checkpoint and are random "
            f"(in {', '.join(prefixes)}; e.g. {names[0]})"
        )


def load_model(
    loader: Any,
    source: str | os.PathLike[str],
    *,
    what: str,
    revision: str | None = None,
    local_files_only: bool | None = None,
    offline_alternative: str | None = None,
    **kwargs: Any,
) -> LoadedModel:
    """``loader.from_pretrained(source)`` with safe weights, quiet output and typed errors.

    Args:
        loader: a transformers model class (``SegformerForSemanticSegmentation``,
            ``AutoModelForCausalLM``…).
        source: hub id or local folder.
        what: what is being loaded, for messages ("SegFormer model").
        revision: branch, tag, ``refs/pr/N`` or commit of a hub id (None = ``main``).
        local_files_only: None follows HF_HUB_OFFLINE (and an unreachable hub); True never
            touches the network.
        offline_alternative: what works without a download, for the advice
            (``"load_segmenter('demo-b2')"``).
        kwargs: passed to ``from_pretrained`` (e.g. ``num_labels``).
    Raises:
        ModelNotAvailableError: the files are not there (names the cache tried and the fix).
        CheckpointError: the files are there but unsafe (a pickle of arbitrary objects) or
            broken (corrupt file, shapes that do not fit the config).
    """
    model, info = load_pretrained(
        loader,
        source,
        what=what,
        revision=revision,
        local_files_only=local_files_only,
        offline_alternative=offline_alternative,
        weights_only=True,  # .bin pickles: tensors and plain containers only
        output_loading_info=True,
        **kwargs,
    )
    return LoadedModel(
        model=model.eval(),
        newly_initialised=tuple(sorted(info.get("missing_keys", ()))),
    )


def load_pretrained(
    loader: Any,
    source: str | os.PathLike[str],
    *,
    what: str,
    revision: str | None = None,
    local_files_only: bool | None = None,
    offline_alternative: str | None = None,
    **kwargs: Any,
) -> Any:
    """``loader.from_pretrained(source)`` for weightless parts (tokenizers, processors, configs),
    with the same source rules and errors as `load_model`."""
    resolved = _resolve(source, what, revision, local_files_only)
    try:
        with _quiet_loading():
            return loader.from_pretrained(
                resolved.target, trust_remote_code=False, **resolved.options(), **kwargs
            )
    except Exception as exc:
        raise _wrap(exc, resolved, what, offline_alternative) from exc


def read_checkpoint_json(
    source: str | os.PathLike[str],
    file_name: str,
    *,
    revision: str | None = None,
    local_files_only: bool | None = None,
) -> dict[str, Any] | None:
    """The JSON file `file_name` of a checkpoint (``preprocessor_config.json``…), or None when
    the checkpoint has none. Hub ids resolve through the cache like the weights do."""
    resolved = _resolve(source, file_name, revision, local_files_only)
    if resolved.local is not None:
        local = resolved.local / file_name
        path: Path | None = local if local.is_file() else None
    else:
        from transformers.utils import cached_file

        try:
            found = cached_file(
                resolved.name,
                file_name,
                _raise_exceptions_for_missing_entries=False,
                _raise_exceptions_for_connection_errors=False,
                **resolved.options(),
            )
        except Exception as exc:
            raise _wrap(exc, resolved, file_name, None) from exc
        path = Path(found) if found else None
    if path is None:
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: not a readable JSON file: {exc}") from exc
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value
