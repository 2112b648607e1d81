"""`Bundles`: air-gap bundles of the library's models and collections, as the Workbench,
the CLI and the GUI use them.

`export` writes one archive; `stage` reads one into staging folders and verifies every byte
against its manifest; `place` puts a staged bundle in the library (asking nothing: the
caller has the person's answer for names the library already has); `import_bundle` does
both for the command line. Blocking, meant for worker threads; `cancel` stops any of them
between chunks, and leaves nothing behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import __version__
from app.bundle.errors import BundleConflictError, BundleError
from app.bundle.manifest import (
    CollectionEntry,
    Manifest,
    ModelEntry,
    embedder_version,
    license_category,
)
from app.bundle.place import (
    Choice,
    ImportReport,
    collection_label,
    existing_model,
    model_label,
    place_collection,
    place_model,
)
from app.bundle.reader import Staged
from app.bundle.reader import stage as stage_archive
from app.bundle.stream import ProgressCallback, Ticker
from app.bundle.writer import (
    BundleWriter,
    check_space,
    collection_member,
    records_member,
    sentences_member,
)
from app.library.registry import ModelInfo
from app.library.service import ModelLibrary
from app.library.sideload import companions
from app.rag.service import Documents
from app.rag.transfer import snapshot

# A model's record fields that say where it came from (the rest are about this disk).
_PROVENANCE = (
    "sha256",
    "source",
    "repo",
    "revision",
    "filename",
    "origin",
    "parent",
    "card_license",
    "parent_size",
    "tokens_per_s",
    "parent_tokens_per_s",
)


@dataclass
class ExportReport:
    """A bundle written: where, how big, its SHA-256, what it holds and how long it took."""

    path: str
    size: int
    sha256: str
    seconds: float
    models: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def describe(self) -> str:
        rate = self.size / 1e6 / self.seconds if self.seconds else 0.0
        held = [*map(model_label, self.models), *map(collection_label, self.collections)]
        return (
            f"wrote {self.path} ({self.size / 1e6:,.0f} MB in {self.seconds:.1f} s, "
            f"{rate:,.0f} MB/s): {', '.join(held)}; SHA-256 {self.sha256}"
        )


@dataclass
class StagedImport:
    """A verified bundle waiting to be placed: what it holds, which of those names the
    library already has (`conflicts`: the person chooses) and which it has byte for byte
    (`identical`: nothing to do). `discard()` removes the staging."""

    staged: Staged
    started: float
    conflicts: list[str] = field(default_factory=list)
    identical: list[str] = field(default_factory=list)

    @property
    def manifest(self) -> Manifest:
        return self.staged.manifest

    def discard(self) -> None:
        self.staged.discard()


class Bundles:
    """Export and import of air-gap bundles for one library and its collections."""

    def __init__(self, library: ModelLibrary, documents: Documents) -> None:
        self.library = library
        self.documents = documents

    # export -------------------------------------------------------------------------------

    def export(
        self,
        out: Path,
        models: Sequence[str] = (),
        collections: Sequence[str] = (),
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ExportReport:
        """Write the named models and collections into one bundle at `out`."""
        models, collections = list(dict.fromkeys(models)), list(dict.fromkeys(collections))
        if not models and not collections:
            raise BundleError("Name at least one model or collection to put in the bundle.")
        started = time.perf_counter()
        infos = [self.library.model(name) for name in models]
        for name in collections:
            self.documents.files(name)  # an unknown name fails here, before any writing
        estimate = sum(f.stat().st_size for i in infos for f in companions(i.path))
        estimate += sum(_allocated(self.documents.folder(name)) for name in collections)
        check_space(out, estimate)
        writer = BundleWriter(out, Ticker("exporting", estimate, progress, cancel))
        manifest = Manifest(created_at=time.time(), carrel_version=__version__)
        try:
            manifest.models = [self._add_model(writer, info) for info in infos]
            manifest.collections = [self._add_collection(writer, name) for name in collections]
            size, digest = writer.finish(manifest)
        except BaseException:
            writer.abort()
            raise
        return ExportReport(
            str(out),
            size,
            digest,
            time.perf_counter() - started,
            [m.name for m in manifest.models],
            [c.name for c in manifest.collections],
        )

    def _add_model(self, writer: BundleWriter, info: ModelInfo) -> ModelEntry:
        entries = [writer.add_file(f"models/{f.name}", f) for f in companions(info.path)]
        record = self.library.records.get(info.name)
        kept = record.as_dict() if record else {}
        license = info.license or (record.card_license if record else "")
        return ModelEntry(
            name=info.name,
            files=[e.path for e in entries],
            size=sum(e.size for e in entries),
            license=license,
            category=license_category(license, str(kept.get("repo", "")), self.library.catalog()),
            source=record.describe_source() if record else info.source,
            architecture=info.architecture,
            quant=info.quant,
            record={k: kept[k] for k in _PROVENANCE if k in kept},
        )

    def _add_collection(self, writer: BundleWriter, name: str) -> CollectionEntry:
        with snapshot(self.documents, name) as snap:
            files = [{k: v for k, v in f.__dict__.items() if k != "collection"} for f in snap.files]
            r = snap.record
            meta = {
                "name": name,
                "embedder": r.embedder,
                "dim": r.dim,
                "representation": r.representation,
                "revision": r.revision,
                "reranker": r.reranker,
            }
            records = {"collection": meta, "files": files, "pending": snap.pending}
            members = [writer.add_json(records_member(name), records).path]
            for suffix, path in snap.sentences.items():
                members.append(writer.add_file(sentences_member(name, suffix), path).path)
            dirs = []
            for path in sorted(snap.shard.rglob("*")):
                rel = path.relative_to(snap.shard).as_posix()
                if path.is_dir():
                    dirs.append(rel)
                else:
                    member = collection_member(name, "shard", rel)
                    members.append(writer.add_file(member, path, sparse=True).path)
            return CollectionEntry(
                name=name,
                embedder=snap.record.embedder,
                # The default embedder's packages, or the hub revision of another one.
                embedder_version=embedder_version()
                if r.embedder == self.documents.embedder.name
                else f"revision {r.revision or 'unknown'}",
                dim=snap.record.dim,
                passages=snap.passages,
                documents=sum(1 for f in snap.files if f.status == "indexed"),
                files=members,
                dirs=dirs,
                representation=r.representation,
                reranker=r.reranker,
            )

    # import -------------------------------------------------------------------------------

    def stage(
        self,
        archive: Path,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> StagedImport:
        """Read and verify a bundle; nothing is placed. Then `place` or `discard`."""
        started = time.perf_counter()
        staged = stage_archive(
            archive,
            self.library.models_dir,
            self.documents.index_root,
            Ticker("verifying", 0, progress, cancel),
        )
        try:
            found = StagedImport(staged, started)
            sums = {f.path: f.sha256 for f in staged.manifest.files}
            for m in staged.manifest.models:
                exists, same = existing_model(self.library, m, sums[m.files[0]])
                if same:
                    found.identical.append(model_label(m.name))
                elif exists:
                    found.conflicts.append(model_label(m.name))
            known = {c.name for c in self.documents.collections()}
            for c in staged.manifest.collections:
                self._check_embedder(c)
                if c.name in known:
                    found.conflicts.append(collection_label(c.name))
        except BaseException:
            staged.discard()
            raise
        return found

    def _check_embedder(self, entry: CollectionEntry) -> None:
        """The collection's embedder (the default one, or a retrieval model this library
        holds) and its reranker must be here, or its searches could not be answered."""
        mine = self.documents.embedder
        if entry.embedder == mine.name and entry.dim == mine.dim:
            missing = ""
        elif entry.embedder == mine.name:
            missing = f"this Carrel's '{mine.name}' makes {mine.dim}-dimensional vectors"
        else:
            found = self.documents.models.find(entry.embedder)
            missing = "" if found and found.role == "embedder" else "it is not installed here"
        if missing:
            raise BundleError(
                f"The collection '{entry.name}' was indexed with the embedder '{entry.embedder}' "
                f"({entry.dim} dimensions) and {missing}, so it could not be searched: get "
                "that embedder first (carrel retrieval download). Nothing was imported."
            )
        if entry.reranker:
            found = self.documents.models.find(entry.reranker)
            if found is None or found.role != "reranker":
                raise BundleError(
                    f"The collection '{entry.name}' is searched with the reranker "
                    f"'{entry.reranker}', which is not installed here: get it first "
                    "(carrel retrieval download). Nothing was imported."
                )

    def place(self, found: StagedImport, choice: Choice | None = None) -> ImportReport:
        """Put a staged bundle in the library. Names the library already has are replaced
        or skipped as `choice` says; with no choice they are refused (nothing placed)."""
        if found.conflicts and choice is None:
            found.discard()
            raise BundleConflictError(found.conflicts)
        staged = found.staged
        report = ImportReport(str(staged.archive), staged.sha256, staged.size)
        try:
            for m in staged.manifest.models:
                label = model_label(m.name)
                if self._settled(label, found, choice, report):
                    continue
                place_model(self.library, staged, m, replace=label in found.conflicts)
                report.placed.append(label)
            for c in staged.manifest.collections:
                label = collection_label(c.name)
                if self._settled(label, found, choice, report):
                    continue
                place_collection(self.documents, staged, c, replace=label in found.conflicts)
                report.placed.append(label)
        finally:
            found.discard()
        report.seconds = time.perf_counter() - found.started
        return report

    @staticmethod
    def _settled(
        label: str, found: StagedImport, choice: Choice | None, report: ImportReport
    ) -> bool:
        """Whether there is nothing to place for `label` (identical, or kept as it is)."""
        if label in found.identical:
            report.identical.append(label)
            return True
        if label in found.conflicts and choice == "skip":
            report.skipped.append(label)
            return True
        return False

    def import_bundle(
        self,
        archive: Path,
        choice: Choice | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ImportReport:
        """`stage` then `place`: the command line's import."""
        return self.place(self.stage(archive, progress, cancel), choice)


def _allocated(folder: Path) -> int:
    """Bytes a collection's folder (and its sentence store beside it) takes on disk."""
    paths = [*folder.rglob("*"), *folder.parent.glob(f".{folder.name}.sentences.sqlite*")]
    return sum(p.stat().st_blocks * 512 for p in paths if p.is_file())
