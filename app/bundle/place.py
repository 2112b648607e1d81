"""Placing a verified bundle: each model's files and each collection renamed from the
staging folders into the library (same disk, so a rename), with its records written.

Each model and each collection is placed whole or not at all: a replaced one is moved aside
first and put back if anything fails. What the person chose to keep is skipped, and a model
whose bytes the library already has under its name is not placed twice.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.bundle.errors import BundleError
from app.bundle.manifest import RECORDS, SENTENCES, CollectionEntry, ModelEntry
from app.bundle.reader import Staged
from app.library import records as rec
from app.library.records import ModelRecord
from app.library.service import ModelLibrary
from app.library.sideload import sha256_file
from app.rag.naming import collection_key
from app.rag.records import CollectionRecord, FileRecord
from app.rag.service import Documents
from app.rag.transfer import CollectionFiles, install

Choice = Literal["replace", "skip"]


@dataclass
class ImportReport:
    """What an import did: names placed, kept as they were, and already identical."""

    archive: str
    sha256: str
    size: int
    seconds: float = 0.0
    placed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    identical: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def describe(self) -> str:
        parts = [f"imported {', '.join(self.placed) or 'nothing'}"]
        if self.skipped:
            parts.append(f"kept your {', '.join(self.skipped)}")
        if self.identical:
            parts.append(f"already had {', '.join(self.identical)} (same bytes)")
        rate = self.size / 1e6 / self.seconds if self.seconds else 0.0
        return (
            "; ".join(parts)
            + f" ({self.size / 1e6:,.0f} MB in {self.seconds:.1f} s, {rate:,.0f} MB/s)"
        )


def model_label(name: str) -> str:
    return f"model '{name}'"


def collection_label(name: str) -> str:
    return f"collection '{name}'"


def existing_model(
    library: ModelLibrary, entry: ModelEntry, first_sha256: str
) -> tuple[bool, bool]:
    """Whether the library has a model of this name (or a file of these names), and
    whether it is the very same bytes (then there is nothing to ask or place): a one-file
    model of the same size whose SHA-256, computed now, is the bundle's."""
    names = [Path(f).name for f in entry.files]
    known = {m.name.casefold(): m for m in library.registry.list()}
    found = known.get(entry.name.casefold())
    files_there = any((library.models_dir / n).exists() for n in names)
    if found is None and not files_there:
        return False, False
    if found is None or len(entry.files) != 1 or not found.path.is_file():
        return True, False
    if found.path.stat().st_size != entry.size:
        return True, False
    return True, sha256_file(found.path) == first_sha256


def place_model(library: ModelLibrary, staged: Staged, entry: ModelEntry, replace: bool) -> None:
    """Rename the model's staged files into the models folder and record where it came
    from; a replaced model's files are moved aside until then."""
    folder = library.models_dir
    moved: list[tuple[Path, Path]] = []
    aside = folder / f".bundle-replaced-{time.time_ns()}"
    try:
        for member in entry.files:
            target = folder / Path(member).name
            if target.exists() or target.is_symlink():
                if not replace:
                    raise BundleError(f"The library already has '{target.name}'.")
                aside.mkdir(exist_ok=True)
                _move(target, aside / target.name, moved)
            _move(staged.files[member], target, moved)
        first = folder / Path(entry.files[0]).name
        sums = {f.path: f.sha256 for f in staged.manifest.files}
        library.records.put(_record(entry, first, staged.archive.name, sums[entry.files[0]]))
    except BaseException:
        for src, dst in reversed(moved):
            dst.rename(src)
        _remove(aside)
        raise
    _remove(aside)


def _record(entry: ModelEntry, path: Path, archive: str, sha256: str) -> ModelRecord:
    """The exporting library's record of the model, here: same provenance, new path. A
    model that had been imported or linked there says it came in this bundle."""
    fields = ModelRecord.__dataclass_fields__
    known = {k: v for k, v in entry.record.items() if k in fields}
    now = time.time()
    known.setdefault("source", rec.IMPORTED)
    known.update(
        name=entry.name,
        sha256=sha256,
        path=str(path),
        size=entry.size,
        linked=False,
        added_at=now,
        verified_at=now,
    )
    record = ModelRecord(**known)
    if record.source not in (rec.HUB, rec.QUANTIZED):
        record.source = rec.IMPORTED
        record.origin = f"bundle {archive} ({entry.source})"
    record.card_license = record.card_license or entry.license
    return record


def place_collection(
    documents: Documents, staged: Staged, entry: CollectionEntry, replace: bool
) -> None:
    """Install the staged collection with the records it carries (`app.rag.transfer`)."""
    base = staged.folders[1] / "collections" / collection_key(entry.name)
    raw = json.loads((base / RECORDS).read_text(encoding="utf-8"))
    meta = raw["collection"]
    files = CollectionFiles(
        record=CollectionRecord(
            entry.name,
            str(meta["embedder"]),
            int(meta["dim"]),
            representation=str(meta.get("representation", "sentences")),
            revision=str(meta.get("revision", "")),
            reranker=str(meta.get("reranker", "")),
        ),
        files=[FileRecord(**{**f, "collection": entry.name}) for f in raw["files"]],
        pending=[(str(s), str(h), str(k)) for s, h, k in raw["pending"]],
        passages=entry.passages,
        shard=base / "shard",
        sentences={
            suffix: base / (SENTENCES + suffix)
            for suffix in ("", "-wal")
            if (base / (SENTENCES + suffix)).exists()
        },
    )
    install(documents, files, replace=replace, created_at=float(meta.get("created_at", 0)) or None)


def _move(src: Path, dst: Path, moved: list[tuple[Path, Path]]) -> None:
    src.rename(dst)
    moved.append((src, dst))


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
