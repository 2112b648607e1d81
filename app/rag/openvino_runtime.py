"""MiniLM on OpenVINO: in bfloat16 on a processor with AMX, and with int8 weights on one
with AVX-512 VNNI and no AMX; the embedder's runtime on both ("auto", `app.rag.embedder`).

OpenVINO compiles MiniLM's fp32 ONNX export (`app.rag.onnx_export.export`), kept as its
own format (IR) with the weights stored in fp16, 45 MB against the export's 87
(`openvino_model`: shipped by the installer, or made once from the model on disk and kept
in Carrel's cache), for the CPU with bfloat16 inference precision: the matrix products run
on AMX tiles with fp32 accumulation, so the vectors stay those of fp32 (lowest cosine to
torch fp32's 0.99994 on 400 development passages, against 0.976 for onnxruntime's int8
weights) while an ingest runs ~1.6x as fast as on onnxruntime int8 on the same Xeon, with
1.5-1.6x less CPU (issue 16, ninth round, BENCHMARKS.md; the fp16 storage lost no hit@5
question on any set and moved MRR@10 by at most 0.008, eleventh round). The model
compiles in ~0.2 s and `import openvino` takes ~0.13 s, so a fresh Carrel's first search
does not wait as it does for torch.

Without AMX, bf16 is emulated and fp32 is slower than onnxruntime int8, so "openvino-int8"
gives each MatMul with constant weights of the same network (the 36 of MiniLM's linear
layers) int8 weights with one scale per output channel (`int8_weights`; nothing more is
shipped), the first time it loads, and keeps the result in Carrel's cache as IR (35 MB)
beside its compiled network (35 MB), so later loads read nothing (`int8_network`); the CPU
plugin then quantizes the activations on the fly per token, in groups of
`DYNAMIC_QUANTIZATION_GROUP` values, and multiplies in int8 with VNNI. Unlike
onnxruntime's int8, whose activations share one scale per call, a text's vector barely
depends on the texts beside it, and the vectors are closer to fp32's (lowest cosine 0.998
against 0.984). Measured on the Xeon with AMX refused to the process (issue 16, tenth and
eleventh rounds): 1.2-1.3x less ingest CPU than onnxruntime int8, retrieval kept; a fresh
process's first query vector in ~0.3 s once its network is kept (~1.1 s the first time).
It is chosen only where there is VNNI: on a processor answering as an AVX2-only one (a
stand-in, thirteenth round) it runs, but an ingest takes 1.3-1.5x onnxruntime int8's time.
Where a first call fails (as it did with oneDNN held to AVX2 by `ONEDNN_MAX_CPU_ISA`), the
load's warm-up call turns that into an error "auto" falls back from.

Each network OpenVINO compiles keeps its compiled form in a folder named after it, which
each load marks as used; networks no start has loaded for 30 days (an earlier Carrel's or
OpenVINO's, 35-91 MB each; `app.rag.cache_tidy`) are removed then, as are the compiled
networks Carrel before this kept loose in the cache (`tidy`), and onnxruntime's exports
no start has loaded for as long. The networks' names follow the
model's digest, kept between starts (`app.rag.digest`), so a start reads no weights.

Tokenizing, batching and pooling are `OnnxEncoder`'s: only the network's call differs.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from app.rag.cache_tidy import mark_used, remove_unused
from app.rag.onnx_runtime import SHIPPED, OnnxEncoder, Recipe, cached_model, export_name
from app.resources import resource

# The export OpenVINO compiles: fp32, before onnxruntime's own fusions (which OpenVINO does
# not read) and without quantization.
FP32_RECIPE = Recipe(quantized=False)
CROSS_FP32_RECIPE = Recipe(quantized=False, classifier=True)
THREADS = 2


# "openvino-int8": values of a token's activations sharing one int8 scale (OpenVINO's
# DYNAMIC_QUANTIZATION_GROUP_SIZE; 384 is MiniLM's width, 1,536 its feed-forward's).
DYNAMIC_QUANTIZATION_GROUP = 128
# Changes when `int8_weights` makes other weights, so no network kept by an older one loads.
INT8_RECIPE = "per-channel-symmetric-1"

log = logging.getLogger(__name__)


@cache
def _cpu_flags() -> frozenset[str]:
    """The processor's flags (Linux: /proc/cpuinfo); none where that cannot be read."""
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[-1].split())
    except OSError:
        pass
    return frozenset()


def has_amx() -> bool:
    """Whether this processor has AMX with bfloat16."""
    return "amx_bf16" in _cpu_flags()


def has_vnni() -> bool:
    """Whether this processor has AVX-512's int8 dot products (VNNI)."""
    return "avx512_vnni" in _cpu_flags()


def int8_weights(model: Any, skip: tuple[str, ...] = ()) -> int:
    """Give every MatMul of `model` (an `openvino.Model`) whose second input is a constant
    2-D matrix int8 weights: one symmetric scale per output channel, decompressed by a
    Convert and a Multiply the CPU plugin folds into its int8 kernel; a MatMul whose name
    holds one of `skip` stays fp32. Returns how many."""
    import openvino
    from openvino import opset13 as ops

    changed = 0
    for node in list(model.get_ordered_ops()):
        if node.get_type_name() != "MatMul":
            continue
        if any(part in node.get_friendly_name() for part in skip):
            continue
        source = node.input_value(1).get_node()
        if source.get_type_name() == "Convert":  # fp16 weights, as an IR keeps them
            source = source.input_value(0).get_node()
        if source.get_type_name() != "Constant":
            continue
        weights = np.asarray(source.get_data(), dtype=np.float32)
        if weights.ndim != 2:
            continue
        attributes = node.get_attributes()
        rows = weights if attributes.get("transpose_b", False) else weights.T  # out x in
        scale = np.abs(rows).max(axis=1, keepdims=True) / 127.0
        scale[scale == 0] = 1.0
        quantized = np.clip(np.round(rows / scale), -127, 127).astype(np.int8)
        decompressed = ops.multiply(
            ops.convert(ops.constant(quantized), openvino.Type.f32),
            ops.constant(scale.astype(np.float32)),
        )
        product = ops.matmul(
            node.input_value(0), decompressed, attributes.get("transpose_a", False), True
        )
        node.output(0).replace(product.output(0))
        changed += 1
    model.validate_nodes_and_infer_types()
    return changed


def _kept(target: Path) -> bool:
    """Whether the IR at `target` is there: the file naming the network and its weights."""
    return target.is_file() and target.with_suffix(".bin").is_file()


def _keep(model: Any, target: Path, fp16: bool) -> None:
    """Write `model` as IR at `target`: to a temporary name, then renamed, the weights'
    file before the one that names the network (as `cached_model` does), so a reader never
    finds a network without its weights and two Carrels writing at once each rename whole
    files of the same bytes. `fp16`: fp32 weights stored in fp16. OSError if it cannot."""
    import openvino

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        made = Path(tmp) / "model.xml"
        openvino.save_model(model, str(made), compress_to_fp16=fp16)
        made.with_suffix(".bin").replace(target.with_suffix(".bin"))
        made.replace(target)


def openvino_model(model_dir: Path, cache_dir: Path, recipe: Recipe = FP32_RECIPE) -> Path:
    """The network OpenVINO compiles: the fp32 export of `model_dir` (as `recipe` makes it:
    a cross-encoder's with `CROSS_FP32_RECIPE`) kept as OpenVINO's IR with its weights in
    fp16 (45 MB against the export's 87; the products still run in bfloat16 or fp32):
    shipped by the installer (resources/embedder), or made in `cache_dir` the first time
    from an export made in a temporary folder and not kept."""
    import openvino

    source = export_name(model_dir, recipe, cache_dir / "onnx")
    key = hashlib.sha256(f"{source}|fp16|{openvino.__version__}".encode()).hexdigest()[:16]
    name = f"minilm-ov-{key}.xml"
    shipped = resource(SHIPPED, name)  # made when the installer was built (installer.spec)
    if _kept(shipped):
        return shipped
    target = cache_dir / "onnx" / "openvino" / name
    if _kept(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        export = cached_model(model_dir, Path(tmp), recipe)
        _keep(openvino.Core().read_model(str(export)), target, fp16=True)
    log.info("the OpenVINO network of %s made in %s", model_dir, target)
    # Carrel before this kept the fp32 export itself in the cache: nothing reads it now.
    (cache_dir / "onnx" / export.name).unlink(missing_ok=True)
    return target


def int8_name(model_file: Path, skip: tuple[str, ...] = ()) -> str:
    """The name (without suffix) of the int8 network made from `model_file` (the MatMuls
    named by `skip` left in fp32)."""
    import openvino

    key = f"{model_file.name}|{INT8_RECIPE}|{openvino.__version__}"
    key += f"|fp32:{','.join(skip)}" if skip else ""
    return f"minilm-int8-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def int8_network(
    core: Any, model_file: Path, folder: Path | None, skip: tuple[str, ...] = ()
) -> Any:
    """What `OpenVinoNetwork` compiles for "openvino-int8": `model_file` with int8 weights,
    kept in `folder` as IR the first time (`_keep`), so later loads pass its path and
    OpenVINO's model cache answers without reading or transforming anything (a fresh
    process's first query vector waited ~0.9 s for that); where it cannot be written (a
    full disk, a read-only cache), the network stays in memory for this load, logged."""
    if folder is not None:
        target = folder / f"{int8_name(model_file, skip)}.xml"
        if _kept(target):
            return str(target)
    model = core.read_model(str(model_file))
    int8_weights(model, skip)
    if folder is None:
        return model
    try:
        _keep(model, target, fp16=False)
    except OSError as exc:
        log.warning("the embedder's int8 network was not kept (%s): it is made at each start", exc)
        return model
    return str(target)


def _compile_int8(
    core: Any,
    model_file: Path,
    folder: Path | None,
    config: dict[str, Any],
    skip: tuple[str, ...] = (),
) -> Any:
    """`int8_network` compiled; a kept network OpenVINO cannot read (a damaged file) is
    made again from the export, logged."""
    network = int8_network(core, model_file, folder, skip)
    try:
        return core.compile_model(network, "CPU", config)
    except RuntimeError as exc:
        if not isinstance(network, str):
            raise
        log.warning("the embedder's kept int8 network could not be read, made again: %s", exc)
        Path(network).unlink(missing_ok=True)
        return core.compile_model(int8_network(core, model_file, folder, skip), "CPU", config)


def tidy(folder: Path, used: str, made_from: str = "") -> bool:
    """Mark network `used` as loaded now (its compiled folder's time) and remove from
    `folder` what no start has loaded for `UNUSED_DAYS` (but `used` and the network it was
    `made_from`): a network kept as IR with its compiled folder, and the compiled networks
    Carrel before this kept loose in `folder` (`*.blob`, which nothing reads now), at once
    (`app.rag.cache_tidy`). Returns whether `used`'s compiled folder is there to be written
    to."""
    compiled = folder / used
    try:
        compiled.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.info("OpenVINO's cache in %s not tidied: %s", folder, exc)
        return compiled.is_dir()
    if mark_used(compiled):
        remove_unused(folder, {used, made_from}, loose=".blob")
    return True


class OpenVinoNetwork:
    """The compiled network, called with `OnnxEncoder`'s feed. One infer request, one call
    at a time (a request is not thread-safe): with a request per calling thread, freed as
    its thread ended, the GUI's process crashed later in Qt's text layout (a segfault in
    tests/ui/test_answers.py, where a worker thread searches). A question asked during an
    ingest waits for the call under way (four passages, ~30 ms)."""

    def __init__(
        self,
        model_file: Path,
        compiled_dir: Path | None = None,
        threads: int = THREADS,
        precision: str = "bf16",
        int8: bool = False,
        group: int = DYNAMIC_QUANTIZATION_GROUP,
        int8_skip: tuple[str, ...] = (),
    ) -> None:
        """`compiled_dir`: where the int8 network is kept and OpenVINO keeps each compiled
        network (its model cache, a folder named after the network), so a later start loads
        it (~0.08 s) instead of reading and compiling the export (~0.3 s here, ~0.5 s the
        first time); what no start has loaded for `UNUSED_DAYS` is removed (`tidy`).
        `int8`: int8 weights (`int8_network`) and activations quantized per token, in fp32
        otherwise (`precision` is then not used): `group` values of a token share a scale,
        and the MatMuls named by `int8_skip` stay fp32 (`int8_weights`)."""
        import openvino

        core = openvino.Core()
        if compiled_dir is not None:
            name = int8_name(model_file, int8_skip) if int8 else model_file.stem
            # OpenVINO refuses a cache folder it cannot make: without one it compiles
            # at each start (~0.3 s) rather than fail.
            if tidy(compiled_dir, name, made_from=model_file.stem):
                core.set_property({"CACHE_DIR": str(compiled_dir / name)})
        config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": "f32" if int8 else precision,
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",
        }
        if int8:
            config["DYNAMIC_QUANTIZATION_GROUP_SIZE"] = str(group)
            self.compiled = _compile_int8(core, model_file, compiled_dir, config, int8_skip)
        else:
            self.compiled = core.compile_model(str(model_file), "CPU", config)
        self.inputs = {name for port in self.compiled.inputs for name in port.get_names()}
        self._request = self.compiled.create_infer_request()
        self._lock = threading.Lock()
        # A kernel the processor cannot run fails at the first call, not when compiling
        # (int8 without VNNI): fail here, where "auto" can fall back.
        one = np.array([[101, 102]], dtype=np.int64)
        feed = {"input_ids": one, "attention_mask": np.ones_like(one)}
        feed["token_type_ids"] = np.zeros_like(one)
        self({k: v for k, v in feed.items() if k in self.inputs})

    def __call__(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        with self._lock:
            hidden: np.ndarray = self._request.infer(feed)[0]
        return hidden


def load_openvino_encoder(
    model_dir: Path, cache_dir: Path | None = None, int8: bool = False
) -> OnnxEncoder:
    """The fp32 export of `model_dir` (from the installer's resources or Carrel's cache,
    made there on first use) compiled by OpenVINO in bfloat16, or with int8 weights."""
    if cache_dir is None:
        from app.config import Paths

        cache_dir = Paths.default().cache_dir
    try:
        model_file = openvino_model(model_dir, cache_dir)
        network = OpenVinoNetwork(model_file, cache_dir / "onnx" / "openvino", int8=int8)
        remove_unused(cache_dir / "onnx", ())  # onnxruntime's exports, when unused
    except ImportError as exc:
        from app.rag.errors import EmbedderUnavailableError

        raise EmbedderUnavailableError(f"openvino: {exc}") from exc
    return OnnxEncoder(model_dir, network=network)
