"""Load Hugging Face models the way the ecosystem does, with errors a person can act on.

A model is named by a hub id (``nvidia/segformer-b2-finetuned-ade-512-512``) or a local
directory. Hub ids go through the standard cache (``HF_HOME`` / ``HF_HUB_CACHE``) and honour
``HF_HUB_OFFLINE``. Remote code is never trusted, and weights load through safetensors.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from segpile_lab.errors import ModelNotAvailableError

T = TypeVar("T")


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


def load_pretrained(
    loader: Any,
    source: str | os.PathLike[str],
    *,
    what: str,
    local_files_only: bool | None = None,
    weights: bool = True,
    **kwargs: Any,
) -> Any:
    """Call ``loader.from_pretrained(source, ...)`` and turn every failure into one clear error.

    Args:
        loader: a transformers class with ``from_pretrained`` (a model or tokenizer class).
        source: hub id or local directory.
        what: what is being loaded, for the message ("SegFormer model", "tokenizer").
        local_files_only: None follows HF_HUB_OFFLINE; True never touches the network.
        weights: True for models (forces safetensors), False for tokenizers and processors.
    Raises:
        ModelNotAvailableError: naming the id, the cache path tried and the fix.
    """
    source_str = os.fspath(source)
    local = Path(source_str).expanduser()
    is_local = local.exists()
    if not is_local and (source_str.startswith((".", "/", "~")) or source_str.count("/") > 1):
        raise ModelNotAvailableError(
            f"{what} {source_str!r}: no such local directory. Pass an existing directory "
            "saved with save_pretrained(), or a hub id such as 'owner/name'."
        )
    unreachable = False
    if local_files_only is None:
        local_files_only = hub_offline()
        if not local_files_only and not is_local and not hub_reachable():
            # no network: read the cache at once instead of minutes of HTTP retries
            local_files_only = unreachable = True
    options: dict[str, Any] = {"trust_remote_code": False, **kwargs}
    if weights:
        options.setdefault("use_safetensors", True)
    try:
        return loader.from_pretrained(
            str(local) if is_local else source_str, local_files_only=local_files_only, **options
        )
    except (OSError, ValueError) as exc:
        where = str(local) if is_local else f"the Hugging Face cache at {hub_cache_dir()}"
        mode = "online"
        if unreachable:
            mode = "offline (the hub endpoint is unreachable from this machine)"
        elif local_files_only:
            mode = "offline (HF_HUB_OFFLINE=1 or local_files_only=True)"
        raise ModelNotAvailableError(
            f"{what} {source_str!r} could not be loaded from {where}, {mode}: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n"
            "Fix: download it on a machine with internet access "
            f"(`huggingface-cli download {source_str}`) and copy the cache folder here, "
            "set HF_HOME to that cache, or pass a local directory saved with save_pretrained(). "
            "Only safetensors weights are loaded and remote code is never run."
        ) from exc
