"""MiniLM on onnxruntime with int8 weights: exported and quantized here, from the model
on disk, once, and kept in Carrel's cache keyed by the model's files (their digest kept
between starts: `app.rag.digest`). The embedder's default runtime on a machine without a
GPU or AMX (`app.rag.embedder`); `OnnxEncoder`'s tokenizing, batching and pooling serve
OpenVINO's runtime too (`app.rag.openvino_runtime`).

The export is torch's, with onnxruntime's BERT fusions (Attention, SkipLayerNormalization,
BiasGelu, EmbedLayerNormalization), both made in a child process (`app.rag.onnx_export`:
this process never imports torch for them); then onnxruntime's quantization
(`quantize_dynamic`: int8 weights, one scale per output channel of a MatMul and one per
embedding table, activations quantized per batch on the fly).
The tokenizer is the model's own `tokenizer.json` read by `tokenizers` (what
sentence-transformers runs), cut at the model's `max_seq_length`; pooling is the mean of
the tokens under the attention mask, then L2 normalisation, as sentence-transformers pools
MiniLM. Nothing is fetched: a model that is not on disk is an error.

onnxruntime's own telemetry is switched off before it loads (`app/__init__.py`): without
that, the fusion and quantization steps looked up Microsoft's event collector's address
(measured under strace, issue 16 in BENCHMARKS.md). Measured there too: a whole ingest in
0.79x torch int8's wall time, vectors closer to fp32's (lowest cosine 0.982 against 0.953),
retrieval within the rule on both development sets.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from app.rag.cache_tidy import mark_used, remove_unused
from app.rag.digest import model_hash
from app.rag.onnx_export import export
from app.resources import resource

log = logging.getLogger(__name__)

# Where an installed Carrel keeps the model its installer's build made (under `resources/`),
# so an installed app never exports: it needs neither onnx nor the fusion tools.
SHIPPED = "embedder"

# Bumped whenever the export or the quantization below changes, so a cached file made by
# an older recipe is never reused.
RECIPE = 1


@dataclass(frozen=True)
class Recipe:
    """How the int8 model is made: which weights get int8 and how."""

    per_channel: bool = True
    # 7-bit weights: AVX2 without VNNI multiplies u8 by s8 into int16 pairs, which
    # saturate with full-range weights.
    reduce_range: bool = True
    # Keep the attention score products (activation by activation) in fp32.
    attention_fp32: bool = True
    # Keep the first and last layers' MatMuls in fp32.
    exclude_layers: tuple[int, ...] = ()
    quantized: bool = True
    # onnxruntime's transformer fusions (Attention, SkipLayerNormalization, BiasGelu)
    # before quantizing: int8 attention then runs as one QAttention kernel.
    fused: bool = False
    # With the fusions: the embedding tables (one EmbedLayerNormalization) in int8 too, as
    # QEmbedLayerNormalization. MiniLM's word-embedding table is 47 MB in fp32, most of the
    # file; in int8 the model is 23 MB instead of 59, its vectors as close to fp32's.
    embeddings: bool = False
    # A cross-encoder's network to its classification head's logits (`app.rag.cross_runtime`)
    # instead of the last hidden state.
    classifier: bool = False

    def key(self) -> str:
        fields = self.__dict__ | {"exclude_layers": list(self.exclude_layers)}
        if not self.classifier:  # the embedders' names as before it was a field
            del fields["classifier"]
        return json.dumps(fields)


def export_name(model_dir: Path, recipe: Recipe, memo_dir: Path | None = None) -> str:
    """The file name `cached_model` gives what `recipe` makes of `model_dir`: it changes with
    the model's files, the recipe and onnxruntime's version. `memo_dir`: where the model's
    digest is kept between starts (`app.rag.digest`)."""
    import onnxruntime

    digest = model_hash(model_dir, memo_dir)
    key = hashlib.sha256(
        f"{RECIPE}|{digest}|{recipe.key()}|{onnxruntime.__version__}".encode()
    ).hexdigest()[:16]
    return f"minilm-{key}.onnx"


def cached_model(model_dir: Path, cache_dir: Path, recipe: Recipe) -> Path:
    """The ONNX file for `model_dir` made by `recipe`, exported and quantized into
    `cache_dir` the first time (written to a temporary name, then renamed: two Carrels
    exporting at once each write their own and the last rename wins, with the same bytes)."""
    name = export_name(model_dir, recipe, cache_dir / "onnx")
    shipped = resource(SHIPPED, name)  # made when the installer was built (installer.spec)
    if shipped.is_file():
        return shipped
    folder = cache_dir / "onnx"
    target = folder / name
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        export(model_dir, fp32, fused=recipe.fused, classifier=recipe.classifier)
        made = Path(tmp) / "model.onnx"
        if recipe.quantized:
            quantize(fp32, made, recipe)
        else:
            fp32.rename(made)
        made.replace(target)
    log.info("%s exported to %s", model_dir, target)
    return target


def quantize(src: Path, dst: Path, recipe: Recipe) -> None:
    """int8 weights for the MatMuls of `src` (and, as `recipe` says, the fused attention
    and embedding layers); layer norms, biases and GELU stay fp32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(src)).graph
    exclude = []
    for node in graph.node:
        if node.op_type != "MatMul":
            continue
        weights = {init.name for init in graph.initializer}
        if recipe.attention_fp32 and not any(i in weights for i in node.input):
            exclude.append(node.name)  # activation x activation: scores, and scores x V
        elif any(f"/layer.{n}/" in node.name for n in recipe.exclude_layers):
            exclude.append(node.name)
    # Its advice to pre-process goes to the root logger on every call: not the person's.
    logging.getLogger().addFilter(_PREPROCESS_ADVICE)
    quantize_dynamic(
        str(src),
        str(dst),
        per_channel=recipe.per_channel,
        reduce_range=recipe.reduce_range,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=_quantized_ops(recipe),
        nodes_to_exclude=exclude,
        # The fused operators are outside ONNX's domain, where shape inference has no
        # types: their outputs are fp32.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _quantized_ops(recipe: Recipe) -> list[str]:
    if not recipe.fused:
        return ["MatMul"]
    return ["MatMul", "Attention"] + (["EmbedLayerNormalization"] if recipe.embeddings else [])


class _Drop(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


_PREPROCESS_ADVICE = _Drop("Please consider to run pre-processing before quantization")


class Network(Protocol):
    """The transformer as a call: a feed of token ids, mask and types (numpy, int64) to
    the last hidden state (texts x tokens x dim); `inputs` names what it takes."""

    inputs: set[str]

    def __call__(self, feed: dict[str, np.ndarray]) -> np.ndarray: ...


class OrtNetwork:
    """onnxruntime's session on an ONNX file (thread-safe)."""

    def __init__(self, model_file: Path, threads: int = 2) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        # Threads that wait sleep instead of spinning: on a shared machine a spinning
        # thread burns the CPU another process needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(model_file), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}

    def __call__(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self.session.run(None, feed)[0])


class OnnxEncoder:
    """A network over the cached model and the model's tokenizer; `encode` returns unit
    vectors as sentence-transformers' `encode(normalize_embeddings=True)` does. The network
    is onnxruntime's session on `model_file`, or another `Network` (OpenVINO's:
    `app.rag.openvino_runtime`)."""

    def __init__(
        self,
        model_dir: Path,
        model_file: Path | None = None,
        threads: int = 2,
        network: Network | None = None,
        max_length: int | None = None,
    ) -> None:
        """`max_length`: word pieces a text is cut to (by default the sentence-transformers
        model's `max_seq_length`)."""
        from tokenizers import Tokenizer

        if network is None:
            if model_file is None:
                raise ValueError("an OnnxEncoder needs a model file or a network")
            network = OrtNetwork(model_file, threads)
        self.network = network
        self.max_length = max_length or _max_seq_length(model_dir)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.no_padding()
        self._inputs = network.inputs

    def encode(
        self, texts: list[str], batch_size: int = 32, tokens: int | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), 0), np.float32)
        for part, hidden, mask, _ in self.batches(texts, batch_size, tokens):
            weights = mask[:, :, None]
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            if out.shape[1] == 0:
                out = np.zeros((len(texts), pooled.shape[1]), np.float32)
            out[part] = pooled / np.clip(norms, 1e-12, None)
        return out

    def batches(
        self,
        texts: Sequence[str] | Sequence[tuple[str, str]],
        batch_size: int = 32,
        tokens: int | None = None,
    ) -> Iterator[tuple[list[int], np.ndarray, np.ndarray, np.ndarray]]:
        """(indices, the network's output, attention mask, character offsets) per batch of
        texts (or pairs of texts, read as one sequence: a cross-encoder's) of similar
        length (sorted by length, padded to the batch's longest): at most `batch_size`
        texts, and with `tokens`, at most that many tokens once padded."""
        everything = self.tokenizer.encode_batch(list(texts))
        # By tokens under a token bound (and for pairs); by characters otherwise, as
        # measured (BENCHMARKS.md).
        by_tokens = bool(tokens) or (len(texts) > 0 and not isinstance(texts[0], str))
        size = (lambda i: len(everything[i].ids)) if by_tokens else (lambda i: len(texts[i]))
        order = sorted(range(len(texts)), key=size)
        for part in _calls(order, [len(e.ids) for e in everything], batch_size, tokens):
            encodings = [everything[i] for i in part]
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(part), width), np.int64)
            mask = np.zeros((len(part), width), np.int64)
            types = np.zeros((len(part), width), np.int64)
            offsets = np.zeros((len(part), width, 2), np.int64)
            for row, e in enumerate(encodings):
                n = len(e.ids)
                ids[row, :n] = e.ids
                mask[row, :n] = e.attention_mask
                types[row, :n] = e.type_ids
                offsets[row, :n] = e.offsets
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            feed = {k: v for k, v in feed.items() if k in self._inputs}
            hidden = np.asarray(self.network(feed), dtype=np.float32)
            yield part, hidden, mask.astype(np.float32), offsets


def _calls(
    order: list[int], lengths: list[int], most: int, tokens: int | None
) -> Iterator[list[int]]:
    """`order` (shortest first) cut into calls of at most `most` texts and, with `tokens`,
    at most that many padded tokens (a text longer than that goes alone)."""
    part: list[int] = []
    width = 0
    for i in order:
        width = max(width, lengths[i]) if part else lengths[i]
        if part and (len(part) == most or (tokens and (len(part) + 1) * width > tokens)):
            yield part
            part, width = [], lengths[i]
        part.append(i)
    if part:
        yield part


def _max_seq_length(model_dir: Path) -> int:
    try:
        config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        return int(config.get("max_seq_length") or 256)
    except (OSError, ValueError):
        return 256


# What `load_encoder` makes and runs (chosen by measurement: issue 16 in BENCHMARKS.md).
DEFAULT_RECIPE = Recipe(fused=True, reduce_range=False, embeddings=True)
THREADS = 2


def load_encoder(model_dir: Path, cache_dir: Path | None = None) -> OnnxEncoder:
    """The int8 model for `model_dir` from Carrel's cache (made there on first use)."""
    if cache_dir is None:
        from app.config import Paths

        cache_dir = Paths.default().cache_dir
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"  # app/__init__.py set it first; see there
    try:
        model_file = cached_model(model_dir, cache_dir, DEFAULT_RECIPE)
        encoder = OnnxEncoder(model_dir, model_file, threads=THREADS)
    except ImportError as exc:
        from app.rag.errors import EmbedderUnavailableError

        raise EmbedderUnavailableError(f"onnxruntime: {exc}") from exc
    # Exports an earlier Carrel or onnxruntime made, under other names (app.rag.cache_tidy).
    if model_file.parent == cache_dir / "onnx":
        mark_used(model_file)
    remove_unused(cache_dir / "onnx", {model_file.stem})
    return encoder
