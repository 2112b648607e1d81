"""The fake hub serving the real default models, and a library pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Paths
from app.library.hub import HubClient
from app.library.registry import ModelRegistry
from app.library.service import ModelLibrary
from app.store import Store
from tests.conftest import GUARD
from tests.hubserver import FakeHub

SMOL_REPO = "carrel-test/SmolLM2-135M-Instruct-GGUF"
SMOL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA_REPO = "carrel-test/gemma-3-270m-it-GGUF"
GEMMA_FILE = "gemma-3-270m-Q4_K_M.gguf"


@pytest.fixture
def hub(smollm_path: Path, gemma_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    server = FakeHub()
    server.add_repo(SMOL_REPO, {SMOL_FILE: smollm_path}, downloads=500, likes=3)
    server.add_repo(
        GEMMA_REPO,
        {GEMMA_FILE: gemma_path, "README.md": smollm_path.parent / "__init__.py"},
        license="gemma",
        downloads=100,
        likes=9,
    )
    server.start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    # The suite runs with HF_HUB_OFFLINE=1, which Carrel honours by never asking the hub;
    # these tests browse the stand-in on purpose.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield server
    server.stop()


@pytest.fixture
def library(hub: FakeHub, carrel_home: Path) -> Iterator[ModelLibrary]:
    paths = Paths.default().ensure()
    store = Store(paths.database)
    lib = ModelLibrary(
        paths,
        store,
        ModelRegistry(paths.models_dir),
        hub=HubClient(hub.url, allow=GUARD.allow),
    )
    yield lib
    lib.close()
    store.close()
