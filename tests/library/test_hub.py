"""Search, file listing and header reads against the loopback hub, as huggingface_hub
speaks to it; the app stays offline outside each action."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.library.errors import GatedRepoError, HubNotFoundError
from app.library.gguf import read_header
from app.library.service import ModelLibrary
from tests.support.hub import GEMMA_FILE, GEMMA_REPO, SMOL_FILE, SMOL_REPO, FakeHub


def test_search_sorts_and_goes_back_offline(library: ModelLibrary) -> None:
    from huggingface_hub import constants

    seen: list[bool] = []
    library.hub.listeners.append(seen.append)
    assert constants.HF_HUB_OFFLINE
    by_downloads = library.search("carrel-test")
    assert [r.id for r in by_downloads] == [SMOL_REPO, GEMMA_REPO]
    assert [r.id for r in library.search("carrel", sort="likes")] == [GEMMA_REPO, SMOL_REPO]
    assert [r.id for r in library.search("gemma")] == [GEMMA_REPO]
    assert constants.HF_HUB_OFFLINE, "the offline flag must come back after the action"
    assert seen == [True, False, True, False, True, False]
    assert not library.hub.is_online


def test_files_list_quant_size_sha_and_fit(
    library: ModelLibrary, hub: FakeHub, gemma_path: Path
) -> None:
    details, choices = library.files(GEMMA_REPO, n_ctx=2048)
    assert details.license == "gemma"
    assert details.revision == hub.repos[GEMMA_REPO].sha
    assert len(choices) == 1  # README.md is not a model
    c = choices[0]
    assert c.file.name == GEMMA_FILE and c.file.quant == "Q4_K_M"
    assert c.file.size == gemma_path.stat().st_size
    assert c.file.sha256 == hub.repos[GEMMA_REPO].hashes[GEMMA_FILE]
    assert c.fit is not None and c.fit.verdict in ("cpu", "full-gpu", "partial")
    d = c.as_dict()
    assert d["fit"] == c.fit.verdict and d["estimated_bytes"] == c.fit.total


def test_remote_fit_reads_only_the_header(
    library: ModelLibrary, hub: FakeHub, smollm_path: Path
) -> None:
    fit, transferred = library.remote_fit(SMOL_REPO, SMOL_FILE, n_ctx=2048)
    local = read_header(smollm_path)
    assert transferred <= 4 * 1024**2
    assert transferred >= local.data_offset
    # The server counts after sending, so it may lag; the client-side count is the figure.
    assert hub.bytes_served(SMOL_FILE) <= transferred
    assert fit.weights == smollm_path.stat().st_size - local.data_offset
    assert all(r.startswith("bytes=") for m, p, r in hub.requests if "/resolve/" in p)


def test_token_required_gives_gated_error(library: ModelLibrary, hub: FakeHub) -> None:
    hub.token = "secret"
    with pytest.raises(GatedRepoError, match="gated or private"):
        library.files(SMOL_REPO)
    with pytest.raises(GatedRepoError):
        library.search("x")
    library.hub._token = "secret"
    details, _ = library.files(SMOL_REPO, fit=True)
    assert details.id == SMOL_REPO


def test_unknown_repo_and_file_are_not_found(library: ModelLibrary) -> None:
    with pytest.raises(HubNotFoundError, match="no repository 'nobody/nothing'"):
        library.files("nobody/nothing")
    with pytest.raises(HubNotFoundError, match=r"no file 'missing\.gguf'"):
        library.prepare_download(SMOL_REPO, "missing.gguf")
