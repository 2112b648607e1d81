"""Re-scoring the fused candidates of a search with a reranker the person chose.

A reranker reads the query and a passage together (a cross-encoder), which the embedder
never does, so it can tell a passage that answers from one that merely shares the topic.
It is slow next to a vector search (one model pass per passage), so it sees only the
fused top `DEPTH` candidates and re-orders them; both scores are kept on each `Citation`
(`score` the fusion's, `rerank` the reranker's) and shown. Two kinds run here:
sentence-transformers cross-encoders (a snapshot in the model library) and GGUF models with
rank pooling run by llama.cpp (`app.rag.llama_models.LlamaReranker`).
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any, Protocol

from app.citation import Citation
from app.rag.errors import EmbedderUnavailableError

# Candidates the reranker re-scores per search.
DEPTH = 30


class Reranker(Protocol):
    """Scores how well each text answers the query (higher is better)."""

    name: str

    def score(self, query: str, texts: list[str]) -> list[float]: ...


class CrossEncoderReranker:
    """A sentence-transformers cross-encoder from a folder on disk, loaded on first use."""

    def __init__(self, folder: Path, name: str | None = None) -> None:
        self.folder = folder
        self.name = name or folder.name
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            try:
                from sentence_transformers import CrossEncoder

                self._model = CrossEncoder(str(self.folder), device="cpu")
            except (ImportError, OSError, ValueError) as exc:
                raise EmbedderUnavailableError(f"{self.folder}: {exc}") from exc
        return self._model

    def score(self, query: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        with self._lock:
            model = self._load()
            scores = model.predict(
                [(query, t) for t in texts], batch_size=32, show_progress_bar=False
            )
        return [float(s) for s in scores]


def rerank(reranker: Reranker, query: str, found: list[Citation], k: int) -> list[Citation]:
    """The best `k` of `found` by the reranker's score, each keeping its fused score."""
    if not found:
        return []
    scores = reranker.score(query, [c.text for c in found])
    marked = [dataclasses.replace(c, rerank=s) for c, s in zip(found, scores, strict=True)]
    marked.sort(key=lambda c: -(c.rerank or 0.0))
    return marked[:k]
