"""A remote fit reads only what it needs: the whole header when it is small, the
architecture keys (cut before a 262k-token vocabulary) when it is not; local reads are
unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.library.gguf import read_header, read_header_from
from app.library.hub import FIRST_RANGE, HEADER_MAX_TRANSFER
from app.library.service import ModelLibrary
from app.library.verdict import estimate_fit
from tests.support.hub import GEMMA_FILE, GEMMA_REPO, SMOL_FILE, SMOL_REPO, FakeHub


def test_budget_reads_a_small_header_whole(smollm_path: Path) -> None:
    plain = read_header(smollm_path)
    with smollm_path.open("rb") as f:
        budgeted = read_header_from(f, budget=3 * 1024**2)
    assert budgeted.complete and plain.complete
    assert budgeted.metadata == plain.metadata
    assert budgeted.tensors == plain.tensors
    assert budgeted.data_offset == plain.data_offset
    assert budgeted.bytes_read < plain.bytes_read  # numeric arrays were seeked past


def test_budget_cuts_a_large_vocabulary(gemma_path: Path) -> None:
    plain = read_header(gemma_path)
    with gemma_path.open("rb") as f:
        cut = read_header_from(f, budget=3 * 1024**2)
    assert plain.complete and not cut.complete
    assert cut.tensors == [] and cut.n_tensors == len(plain.tensors)
    for key in ("block_count", "embedding_length", "attention.head_count_kv", "context_length"):
        assert cut.arch_value(key) == plain.arch_value(key)
    assert cut.metadata["tokenizer.ggml.tokens"] == 262144
    assert 2 * 1024**2 < cut.data_offset <= plain.data_offset  # a lower bound
    assert cut.bytes_read < 64 * 1024
    with gemma_path.open("rb") as f, pytest.raises(ValueError, match="before the model's shape"):
        read_header_from(f, budget=500)


def test_remote_fit_of_a_large_header_is_approximate_and_small(
    library: ModelLibrary, hub: FakeHub, gemma_path: Path
) -> None:
    fit, transferred = library.remote_fit(GEMMA_REPO, GEMMA_FILE, n_ctx=2048)
    assert transferred <= FIRST_RANGE < HEADER_MAX_TRANSFER
    ranges = [r for _m, path, r in hub.requests if path.endswith(f"/{GEMMA_FILE}")]
    assert ranges == [f"bytes=0-{FIRST_RANGE - 1}"]  # one small request, no more
    full = estimate_fit(read_header(gemma_path), gemma_path.stat().st_size, 2048)
    assert fit.approximate and not full.approximate
    assert abs(fit.total / full.total - 1) < 0.05
    assert fit.kv_cache == full.kv_cache
    assert "approximate" in fit.describe()
    assert fit.as_dict()["approximate"] is True


def test_remote_fit_of_a_small_header_is_exact(library: ModelLibrary, smollm_path: Path) -> None:
    fit, transferred = library.remote_fit(SMOL_REPO, SMOL_FILE, n_ctx=2048)
    full = estimate_fit(read_header(smollm_path), smollm_path.stat().st_size, 2048)
    assert not fit.approximate and fit.total == full.total
    assert transferred <= HEADER_MAX_TRANSFER
