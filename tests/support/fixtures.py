"""Fixtures more than one test folder uses: the hub stand-in and a library pointed at it,
the embedder (one per session) and a `Documents` over it, a corpus made here, and a store.
`tests/conftest.py` loads this module as a plugin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Paths
from app.library.hub import HubClient
from app.library.registry import ModelRegistry
from app.library.service import ModelLibrary
from app.rag.embedder import SentenceEmbedder
from app.rag.service import Documents
from app.store import Store
from tests.support.files import build_corpus
from tests.support.hub import GEMMA_FILE, GEMMA_REPO, SMOL_FILE, SMOL_REPO, FakeHub

# Passages and questions the embedder tests of every runtime share: three passages, then
# two questions whose nearest passages are the first and the second.
EMBEDDER_TEXTS = [
    "Printer drivers\n\nThe driver sends the page to the printer at the chosen resolution.",
    "Package management\n\napt-get install fetches a package and the packages it depends on.",
    "Tea\n\nThe first flush is plucked in spring; black tea is fully oxidised.",
    "How do I add a printer?",
    "installing software with dependencies",
]


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
    from tests.conftest import GUARD

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


@pytest.fixture(scope="session")
def embedder() -> SentenceEmbedder:
    e = SentenceEmbedder()
    e.load()
    return e


@pytest.fixture
def documents(carrel_home: Path, embedder: SentenceEmbedder) -> Iterator[Documents]:
    paths = Paths.under(carrel_home).ensure()
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    yield docs
    docs.close()
    store.close()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A folder with one file per format, each with a fact found nowhere else."""
    return build_corpus(tmp_path / "corpus")


@pytest.fixture
def store(carrel_home: Path) -> Iterator[Store]:
    s = Store(carrel_home / "data" / "carrel.sqlite3")
    yield s
    s.close()
