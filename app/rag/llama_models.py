"""GGUF embedding and reranking models run by llama.cpp (llama-cpp-python), for a person
who imports them from disk on an air-gapped machine.

The GGUF says how its model pools (`<arch>.pooling_type`): mean or CLS make an embedder,
rank a reranker (a classification head on the pooled pair, one score). The models are
small encoders, so each object owns its `Llama` behind a lock and is used from whichever
thread asks (the chat model's one-owner-thread rule is about the generating model).
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path
from typing import Any

import numpy as np

from app.rag.errors import EmbedderUnavailableError

# llama.cpp's `enum llama_pooling_type`.
POOLING = {0: "none", 1: "mean", 2: "cls", 3: "last", 4: "rank"}
CONTEXT = 512  # tokens per sequence; a passage is cut past it, as MiniLM cuts at 256


def pooling_of(metadata: dict[str, Any]) -> str:
    """The pooling a GGUF header declares ("" when it declares none: a generating model)."""
    arch = metadata.get("general.architecture")
    value = metadata.get(f"{arch}.pooling_type")
    return POOLING.get(int(value), "") if value is not None else ""


def _load(path: Path, pooling: int) -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise EmbedderUnavailableError(str(exc)) from exc
    if not path.is_file():
        raise EmbedderUnavailableError(f"{path} is missing; import the model again")
    try:
        return llama_cpp.Llama(
            str(path),
            embedding=True,
            pooling_type=pooling,
            n_ctx=CONTEXT,
            n_batch=CONTEXT,
            n_ubatch=CONTEXT,
            n_seq_max=1,
            verbose=False,
        )
    except (ValueError, RuntimeError) as exc:
        raise EmbedderUnavailableError(f"{path.name} cannot be loaded by llama.cpp: {exc}") from exc


class _LlamaEncoder:
    """One GGUF encoder model, loaded on first use, every call under one lock."""

    def __init__(self, path: Path, name: str, pooling: int) -> None:
        self.path = path
        self.name = name
        self._pooling = pooling
        self._llama: Any = None
        self._lock = threading.Lock()

    def _model(self) -> Any:
        if self._llama is None:
            self._llama = _load(self.path, self._pooling)
        return self._llama

    def _run(self, tokens: list[int], width: int) -> np.ndarray:
        """Decode one sequence and read its pooled output (`width` floats)."""
        import llama_cpp
        from llama_cpp import _internals

        llama = self._model()
        # Past its trained length a BERT has no position embeddings: cut there, as
        # sentence-transformers cuts at its own limit.
        trained = llama_cpp.llama_model_n_ctx_train(llama.model)
        tokens = tokens[: min(llama.n_batch, trained)]
        batch = _internals.LlamaBatch(n_tokens=len(tokens), embd=0, n_seq_max=1)
        try:
            batch.add_sequence(tokens, 0, True)
            llama._ctx.kv_cache_clear()
            llama._ctx.decode(batch)
            pointer = llama_cpp.llama_get_embeddings_seq(llama._ctx.ctx, 0)
            if not pointer:
                raise EmbedderUnavailableError(f"{self.path.name} gave no pooled output")
            values = ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float * width)).contents
            return np.array(values, dtype=np.float32)
        finally:
            batch.close()  # type: ignore[no-untyped-call]

    def close(self) -> None:
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None


class LlamaEmbedder(_LlamaEncoder):
    """A GGUF embedding model (mean or CLS pooling): unit vectors, like `SentenceEmbedder`."""

    def __init__(self, path: Path, name: str | None = None, pooling: str = "mean") -> None:
        super().__init__(path, name or path.name, 2 if pooling == "cls" else 1)
        self.revision = ""
        with self._lock:
            self.dim = int(self._model().n_embd())

    def embed(self, texts: list[str]) -> list[list[float]]:
        out = []
        with self._lock:
            llama = self._model()
            for text in texts:
                vector = self._run(llama.tokenize(text.encode("utf-8"), add_bos=True), self.dim)
                norm = float(np.linalg.norm(vector))
                out.append((vector / norm if norm > 0 else vector).tolist())
        return out


class LlamaReranker(_LlamaEncoder):
    """A GGUF reranking model (rank pooling): one relevance score per (query, passage),
    the pair given as llama.cpp's own server gives it: [BOS] query [EOS] [SEP] passage
    [EOS], each special token only where the model has one."""

    def __init__(self, path: Path, name: str | None = None) -> None:
        super().__init__(path, name or path.name, 4)

    def score(self, query: str, texts: list[str]) -> list[float]:
        import llama_cpp

        out = []
        with self._lock:
            llama = self._model()
            vocab = llama_cpp.llama_model_get_vocab(llama.model)
            eos = llama_cpp.llama_vocab_eos(vocab)
            sep = llama_cpp.llama_vocab_sep(vocab)

            def body(text: str) -> list[int]:
                tokens = llama.tokenize(text.encode("utf-8"), add_bos=False)
                return [t for t in tokens if t not in (eos, sep)]

            head = [llama.token_bos(), *body(query), eos]
            if sep >= 0 and sep != eos:
                head.append(sep)
            for text in texts:
                tokens = [*head, *body(text), eos]
                out.append(float(self._run([t for t in tokens if t >= 0], 1)[0]))
        return out
