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
import logging
import threading
from pathlib import Path
from typing import Any, Protocol

from app.citation import Citation
from app.rag.errors import RerankerUnavailableError

log = logging.getLogger(__name__)

# Candidates the reranker re-scores per search.
DEPTH = 30


class Reranker(Protocol):
    """Scores how well each text answers the query (higher is better)."""

    name: str

    def score(self, query: str, texts: list[str]) -> list[float]: ...


class CrossEncoderReranker:
    """A sentence-transformers cross-encoder from a folder on disk, loaded on first use: on
    the embedder's CPU engines (`app.rag.cross_runtime`: 2.2-3.8x as fast as torch on 30
    passages) unless `runtime` is "torch", torch sees a GPU, or no engine can run it (said
    in the log); on torch otherwise. `runtime` may also name an engine ("openvino",
    "openvino-int8", "onnx-int8", "onnx-fp32"). `cache_dir`: where its exported network is
    kept (Carrel's cache by default)."""

    def __init__(
        self,
        folder: Path,
        name: str | None = None,
        runtime: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        self.folder = folder
        self.name = name or folder.name
        self.runtime = runtime
        self._cache_dir = cache_dir
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def active_runtime(self) -> str:
        """What runs it ("openvino-int8", "onnx-int8", ..., or "torch"; loads it)."""
        with self._lock:
            return str(getattr(self._load(), "engine", "torch"))

    def _load(self) -> Any:
        if self._model is None:
            self._model = self._fast() or self._torch()
        return self._model

    def _fast(self) -> Any:
        """The cross-encoder on the embedder's CPU runtime, or None where torch runs it."""
        from app.rag.torch_runtime import torch_may_see_a_gpu

        if self.runtime == "torch" or (self.runtime == "auto" and torch_may_see_a_gpu()):
            return None
        from app.rag.cross_runtime import auto_engines, load_cross_encoder

        for engine in auto_engines() if self.runtime == "auto" else [self.runtime]:
            try:
                return load_cross_encoder(engine, self.folder, self._cache_dir)
            except Exception as exc:
                if self.runtime == engine:
                    raise RerankerUnavailableError(
                        f"The reranker {self.name} cannot run on {engine}: {exc}"
                    ) from exc
                log.warning("The reranker %s could not run on %s (%s)", self.name, engine, exc)
        log.info("The reranker %s runs on torch", self.name)
        return None

    def _torch(self) -> Any:
        try:
            from sentence_transformers import CrossEncoder

            # On the GPU when torch sees one (what "auto" leaves to torch), else the CPU.
            return CrossEncoder(str(self.folder), device=None)
        except Exception as exc:  # damaged files fail in many ways (SafetensorError, ...)
            raise RerankerUnavailableError(
                f"The reranker {self.name} cannot be loaded from {self.folder}"
                f" ({type(exc).__name__}: {exc}): download or import it again."
            ) from exc

    def score(self, query: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        with self._lock:
            model = self._load()
        if not hasattr(model, "predict"):
            fast: list[float] = model.score(query, texts)
            return fast
        with self._lock:
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
