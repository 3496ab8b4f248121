"""A Hugging Face cache holding the real repos' layouts (built once per session), used offline."""

from __future__ import annotations

import pytest
from hub_cache import HubCache, build_hub_cache


@pytest.fixture(scope="session")
def hub_cache(tmp_path_factory: pytest.TempPathFactory) -> HubCache:
    return build_hub_cache(tmp_path_factory.mktemp("hf-hub-cache"))


@pytest.fixture
def offline_hub(hub_cache: HubCache, monkeypatch: pytest.MonkeyPatch) -> HubCache:
    """Point huggingface-hub at the cache, offline, as ``HF_HUB_OFFLINE=1 HF_HUB_CACHE=…``."""
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(hub_cache.root))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache.root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return hub_cache
