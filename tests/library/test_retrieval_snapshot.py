"""A sentence-transformers model from the (stand-in) hub: every file verified, then
loaded with the hub offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Paths
from app.library.errors import HashMismatchError
from app.library.hub import HubClient
from app.library.retrieval import MANIFEST, snapshot, snapshot_folder
from app.rag.embedder import SentenceEmbedder
from app.rag.models import RetrievalModels
from tests.conftest import GUARD
from tests.support.hub import FakeHub, repo_files
from tests.support.tinymodels import save_tiny_embedder

REPO = "carrel-test/tiny-embedder"


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_embedder(tmp_path_factory.mktemp("st") / "tiny-embedder")


@pytest.fixture
def st_hub(model_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    server = FakeHub()
    server.add_repo(REPO, repo_files(model_folder), library="sentence-transformers")
    server.start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    yield server
    server.stop()


def test_snapshot_is_verified_and_loads_offline(st_hub: FakeHub, carrel_home: Path) -> None:
    paths = Paths.default().ensure()
    client = HubClient(st_hub.url, allow=GUARD.allow, offline=False)  # the person went online
    folder = snapshot(client, paths.models_dir, REPO, free_space=lambda: 1 << 40)
    assert folder == snapshot_folder(paths.models_dir, REPO)
    assert (folder / "1_Pooling" / "config.json").is_file()  # subfolders too
    manifest = (folder / MANIFEST).read_text(encoding="utf-8")
    assert st_hub.repos[REPO].sha in manifest
    # Small files came without a SHA-256 (not in LFS) and were checked by git blob id.
    assert '"sha256": ""' not in manifest
    models = RetrievalModels(paths.models_dir, SentenceEmbedder())
    found = models.find(REPO)
    assert found is not None and found.role == "embedder"
    assert found.revision == st_hub.repos[REPO].sha
    served = st_hub.bytes_served()
    vectors = models.embedder(REPO).embed(["tea leaf", "bicycle gear"])
    assert len(vectors[0]) == 32 and st_hub.bytes_served() == served  # nothing fetched


def test_a_corrupt_file_keeps_the_model_out(st_hub: FakeHub, carrel_home: Path) -> None:
    paths = Paths.default().ensure()
    st_hub.corrupt["model.safetensors"] = 100
    client = HubClient(st_hub.url, allow=GUARD.allow, offline=False)  # the person went online
    with pytest.raises(HashMismatchError):
        snapshot(client, paths.models_dir, REPO, free_space=lambda: 1 << 40)
    assert not snapshot_folder(paths.models_dir, REPO).exists()
    st_hub.corrupt.clear()  # the next attempt completes from what is left
    assert snapshot(client, paths.models_dir, REPO, free_space=lambda: 1 << 40).is_dir()
