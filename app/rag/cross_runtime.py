"""A person's cross-encoder (a sentence-transformers reranker) on the embedder's engines.

The reranker re-scores the fused top candidates of every search (`app.rag.rerank`); on
torch in fp32 a MiniLM-sized cross-encoder took ~2 s a question at top 30 on two cores
(issue 16, seventh round, BENCHMARKS.md). Here its network is exported once, from the
model on disk, as the embedder's is (`app.rag.onnx_export`, in a child process: this one
never imports torch for it; the logits of its classification head as the output) and run
on the embedder's engines (`auto_engines`): OpenVINO with int8 weights where the embedder
runs so (AVX-512 VNNI, no AMX), OpenVINO in bfloat16 with AMX, onnxruntime's fp32 network
with its BERT fusions otherwise. Measured against torch fp32 on 30 passages a question
(issue 16, twenty-fourth round, BENCHMARKS.md) on an AMD Zen 4: int8 3.8x as fast, the same
first passage and top five for 17 of 20 questions (fp32 2.2x, all 20); on it answering as
an AVX2-only processor, onnxruntime fp32 2.15x, all 20.

Tokenizing is the model's own `tokenizer.json` reading each (query, passage) pair as one
sequence, cut longest-first at the model's length as sentence-transformers cuts it; pairs
go to the network sorted by length, a few to a call; the score is the head's one logit
through the model's activation (sigmoid unless the model names another), so the scores
are the ones `CrossEncoder.predict` gives, within the runtime's arithmetic.

What these engines cannot run (more than one score, an activation not known here, an
export that fails) is said in the log, and the reranker runs on torch as before
(`app.rag.rerank.CrossEncoderReranker`). The installed app carries the export (torch's,
with `onnx`) and OpenVINO's ONNX reader for it, not onnxruntime's fusion tools: there the
cross-encoder runs on OpenVINO on every processor.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from app.rag.cache_tidy import mark_used
from app.rag.onnx_runtime import DEFAULT_RECIPE, OnnxEncoder, OrtNetwork, cached_model

log = logging.getLogger(__name__)

# The embedder's int8 recipe, for a classification head.
CROSS_INT8_RECIPE = dataclasses.replace(DEFAULT_RECIPE, classifier=True)
# The same, fused, in fp32 ("onnx-fp32").
CROSS_FP32_FUSED_RECIPE = dataclasses.replace(CROSS_INT8_RECIPE, quantized=False)
THREADS = 2
# Pairs per call: onnxruntime's (one int8 activation scale a call) as the embedder's; OpenVINO
# by padded tokens, as the embedder's (`app.rag.embedder`).
ONNX_PAIRS = 4
OPENVINO_PAIRS, OPENVINO_TOKENS = 32, 1024
# OpenVINO int8 for a cross-encoder (tests/bench/RULES.md, twenty-fourth round, third
# entry): a token's activations share a scale in groups of 32 values (the embedder's 128
# moved the top five), and the head (the pooler's and the classifier's MatMuls: the score
# is one projection of the pooler's output) keeps fp32 weights.
INT8_GROUP = 32
HEAD = ("/pooler/", "/classifier/")


# The activations sentence-transformers may name for a cross-encoder, as numpy.
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Sigmoid": _sigmoid,
    "Identity": np.asarray,
    "Tanh": np.tanh,
}


class UnsupportedCrossEncoder(ValueError):
    """The cross-encoder is not one this runtime reproduces (torch runs it instead)."""


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def activation_name(model_dir: Path) -> str:
    """The activation `CrossEncoder.predict` applies to this model's logits ("Sigmoid",
    "Identity", ...), read as sentence-transformers reads it; raises
    `UnsupportedCrossEncoder` for a model with more than one score."""
    config = _json(model_dir / "config.json")
    labels = int(config.get("num_labels") or len(config.get("id2label") or {"0": ""}))
    if labels != 1:
        raise UnsupportedCrossEncoder(f"{model_dir.name} gives {labels} scores, not one")
    named = (
        _json(model_dir / "config_sentence_transformers.json").get("activation_fn")
        or (config.get("sentence_transformers") or {}).get("activation_fn")
        or config.get("sbert_ce_default_activation_function")
        or "torch.nn.modules.activation.Sigmoid"
    )
    name = str(named).rsplit(".", 1)[-1]
    if not str(named).startswith("torch.") or name not in _ACTIVATIONS:
        raise UnsupportedCrossEncoder(f"{model_dir.name}'s activation {named} is not known here")
    return name


def max_length(model_dir: Path) -> int:
    """Word pieces a (query, passage) pair is cut to: the model's `max_seq_length` if it
    names one, else its tokenizer's `model_max_length`, at most its position embeddings."""
    positions = int(_json(model_dir / "config.json").get("max_position_embeddings") or 512)
    named = _json(model_dir / "sentence_bert_config.json").get("max_seq_length")
    if not named:
        named = _json(model_dir / "tokenizer_config.json").get("model_max_length")
    if not isinstance(named, int | float) or not math.isfinite(named) or named <= 0:
        return positions
    return min(int(named), positions)


class OnnxCrossEncoder:
    """A cross-encoder's network on onnxruntime or OpenVINO: `score(query, texts)` gives
    one score per text, as `CrossEncoder.predict` on the pairs would. Thread-safe as its
    network is (both runtimes' are); `engine` says which runs it."""

    def __init__(
        self, model_dir: Path, network: Any, engine: str, calls: tuple[int, int | None]
    ) -> None:
        self.engine = engine
        self._activation = _ACTIVATIONS[activation_name(model_dir)]
        # The encoder's tokenizer cuts a pair longest-first, as sentence-transformers does.
        self._encoder = OnnxEncoder(model_dir, network=network, max_length=max_length(model_dir))
        self._calls = calls

    def score(self, query: str, texts: list[str]) -> list[float]:
        logits = np.zeros(len(texts), np.float32)
        pairs = [(query, text) for text in texts]
        for part, out, _, _ in self._encoder.batches(pairs, *self._calls):
            logits[part] = out.reshape(len(part), -1)[:, 0]
        return [float(s) for s in self._activation(logits.astype(np.float64))]


def auto_engines() -> list[str]:
    """The runtimes "auto" tries in turn for a cross-encoder on this processor, picked under
    rules named first (tests/bench/RULES.md, twenty-fourth round): where the embedder runs
    OpenVINO int8 (AVX-512 VNNI, no AMX), OpenVINO int8 with groups of 32 and the head in
    fp32 (~1.7x fp32's speed, the same first passage and top five for 17 of 20 questions);
    else OpenVINO's fp32 network where the embedder runs on OpenVINO (bfloat16 with AMX);
    else onnxruntime's fused fp32 network, then OpenVINO's (where onnxruntime's fusions are
    not there to make it: the installed app; as fast and as faithful on the AVX2 stand-in).
    The int8 networks made as the embedder's put another passage first for 3 to 7
    questions of 20 and moved the top five for 8 (BENCHMARKS.md, issue 16)."""
    from app.rag.embedder import auto_engines as embedder_engines

    first = embedder_engines()[0]
    if first == "openvino-int8":
        return ["openvino-int8", "openvino", "onnx-fp32"]
    if first.startswith("openvino"):
        return ["openvino", "onnx-fp32"]
    return ["onnx-fp32", "openvino"]


def load_cross_encoder(engine: str, model_dir: Path, cache_dir: Path | None) -> OnnxCrossEncoder:
    """The cross-encoder in `model_dir` on `engine` ("openvino": bfloat16 with AMX, fp32
    without; "openvino-int8": `INT8_GROUP`, the `HEAD` in fp32; "onnx-int8" or
    "onnx-fp32"), its network exported into
    Carrel's cache the first time. Raises `UnsupportedCrossEncoder` for a model these
    engines do not reproduce, and what the export or the engine raised otherwise."""
    activation_name(model_dir)  # before any export: a model with two scores is not exported
    if cache_dir is None:
        from app.config import Paths

        cache_dir = Paths.default().cache_dir
    if engine.startswith("openvino"):
        from app.rag.openvino_runtime import (
            CROSS_FP32_RECIPE,
            OpenVinoNetwork,
            has_amx,
            openvino_model,
        )

        model_file = openvino_model(model_dir, cache_dir, CROSS_FP32_RECIPE)
        network: Any = OpenVinoNetwork(
            model_file,
            cache_dir / "onnx" / "openvino",
            THREADS,
            precision="bf16" if has_amx() else "f32",
            int8=engine == "openvino-int8",
            group=INT8_GROUP,
            int8_skip=HEAD,
        )
        return OnnxCrossEncoder(model_dir, network, engine, (OPENVINO_PAIRS, OPENVINO_TOKENS))
    if engine not in ("onnx-int8", "onnx-fp32"):
        raise ValueError(f"a cross-encoder runs on OpenVINO or onnxruntime, not {engine!r}")
    recipe = CROSS_INT8_RECIPE if engine == "onnx-int8" else CROSS_FP32_FUSED_RECIPE
    model_file = cached_model(model_dir, cache_dir, recipe)
    if model_file.parent == cache_dir / "onnx":
        mark_used(model_file)
    return OnnxCrossEncoder(model_dir, OrtNetwork(model_file, THREADS), engine, (ONNX_PAIRS, None))
