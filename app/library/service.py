"""`ModelLibrary`: the model library as the Workbench, the GUI and the CLI use it.

It ties the installed files (`ModelRegistry`), their provenance (`ModelRecords`), the hub, the
download queue, imports, verification and quantization together. Blocking methods are
meant for worker threads; downloads run on the queue's own thread.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.config import Paths
from app.errors import CarrelError, ModelNotFoundError
from app.library import records as rec
from app.library.catalog import CatalogEntry, load_catalog
from app.library.download import DownloadJob, DownloadQueue
from app.library.duplicates import Known
from app.library.errors import ImportModelError
from app.library.fit import GpuMemory, GpuProbe
from app.library.gguf import GGUFHeader, read_header
from app.library.hub import HubClient, RepoDetails, RepoSummary
from app.library.hub_jobs import download_job
from app.library.listings import InstalledModel, QuantChoice
from app.library.load_options import LoadOptions
from app.library.overview import LibrarySize, library_size
from app.library.quant_targets import quantized_name
from app.library.quantize import FULL_PRECISION, Quantization, level_name, requantize_warning
from app.library.quants import QuantFile
from app.library.records import ModelRecord, ModelRecords, PendingDownload
from app.library.registry import ModelInfo, ModelRegistry
from app.library.retrieval import SnapshotProgress, snapshot
from app.library.sideload import ImportReport, companions, gguf_files, place, sha256_file
from app.library.verdict import FitEstimate, estimate_fit
from app.library.verification import Verification, verify_model
from app.store import Store


class ModelLibrary:
    """Everything about model files: browse, download, import, verify, quantize, delete."""

    def __init__(
        self,
        paths: Paths,
        store: Store,
        registry: ModelRegistry,
        *,
        hub: HubClient | None = None,
        quota: int | None = None,
        gpu: GpuProbe | None = None,
    ) -> None:
        """`gpu` tells the GPUs' free memory for fit verdicts (none: CPU only)."""
        self.paths = paths
        self._gpu = gpu
        self.registry = registry
        self.records = ModelRecords(store)
        self.hub = hub or HubClient()
        self.quota = quota
        self.downloads = DownloadQueue()

    @property
    def models_dir(self) -> Path:
        return self.paths.models_dir

    @property
    def locks_dir(self) -> Path:
        """Where downloads keep their locks (one small file per model file, kept)."""
        return self.paths.cache_dir / "locks"

    def close(self) -> None:
        self.downloads.close()

    def listen_online(self, listener: Callable[[bool], None], *, stop: bool = False) -> None:
        """Be told (on whichever thread it happens) when the app goes online for the hub
        and back offline; `stop` ends it."""
        listeners = self.hub.listeners
        if not stop:
            listeners.append(listener)
        elif listener in listeners:
            listeners.remove(listener)

    # disk ---------------------------------------------------------------------------------

    def disk_usage(self) -> int:
        """Bytes the library's own files take (linked files live elsewhere and count 0)."""
        folder = self.models_dir
        if not folder.is_dir():
            return 0
        return sum(f.stat().st_size for f in folder.iterdir() if f.is_file() and not f.is_symlink())

    def gpu(self) -> GpuMemory | None:
        """The GPUs' free memory now, from the probe the Workbench handed in."""
        return self._gpu() if self._gpu is not None else None

    def free_space(self) -> int:
        self.models_dir.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.models_dir).free
        if self.quota is not None:
            free = min(free, max(self.quota - self.disk_usage(), 0))
        return int(free)

    # listing ------------------------------------------------------------------------------

    def installed(self, n_ctx: int = 4096) -> list[InstalledModel]:
        """The installed models with their licence and their fit at `n_ctx` (blocking:
        reads headers and records)."""
        records = {r.name.casefold(): r for r in self.records.all()}
        gpu = self.gpu()
        listed = []
        for info in self.registry.list():
            record = records.get(info.name.casefold())
            license_ = info.license or (record.card_license if record else "")
            fit = None
            if info.header is not None and not info.problem:
                fit = estimate_fit(info.header, info.size, n_ctx, gpu=gpu)
            listed.append(InstalledModel(info, license_, fit))
        return listed

    # hub ----------------------------------------------------------------------------------

    def search(self, query: str, sort: str = "downloads", limit: int = 20) -> list[RepoSummary]:
        return self.hub.search(query, sort, limit)

    def files(
        self, repo: str, n_ctx: int = 4096, *, fit: bool = True
    ) -> tuple[RepoDetails, list[QuantChoice]]:
        """A repository's GGUF models by quant with a fit verdict for each. The header is
        read by Range from the smallest file; layers, heads and vocabulary are the same
        for every quant of a repository, so each file's estimate uses its own size."""
        details = self.hub.repo(repo)
        header: GGUFHeader | None = None
        if fit and details.files:
            smallest = details.files[0]
            header, _ = self.hub.remote_header(repo, details.revision, smallest.first.path)
        choices = []
        gpu = self.gpu() if header is not None else None
        for q in details.files:
            estimate = None
            if header is not None:
                estimate = estimate_fit(header, q.size, n_ctx, gpu=gpu)
            choices.append(QuantChoice(q, estimate))
        return details, choices

    def remote_fit(
        self, repo: str, filename: str, n_ctx: int = 4096, revision: str | None = None
    ) -> tuple[FitEstimate, int]:
        """The fit of one remote file from its own header; also the bytes transferred."""
        details = self.hub.repo(repo, revision)
        q = details.file(filename)
        header, transferred = self.hub.remote_header(repo, details.revision, q.first.path)
        return estimate_fit(header, q.size, n_ctx, gpu=self.gpu()), transferred

    def snapshot(
        self, repo: str, revision: str | None = None, progress: SnapshotProgress | None = None
    ) -> Path:
        """A sentence-transformers embedder or reranker from the hub, every file verified,
        into the library (`app.library.retrieval`); blocks: run it in a worker."""
        return snapshot(
            self.hub,
            self.models_dir,
            repo,
            free_space=self.free_space,
            revision=revision,
            progress=progress,
        )

    # downloads ----------------------------------------------------------------------------

    def prepare_download(
        self, repo: str, filename: str, revision: str | None = None
    ) -> DownloadJob:
        """Look the file up on the hub and make a job (not yet queued: `downloads.add`)."""
        details = self.hub.repo(repo, revision)
        q = details.file(filename)
        target = self.models_dir / Path(q.first.path).name
        pending = PendingDownload(
            str(target), repo, details.revision, q.first.path, q.size, q.sha256, details.license
        )
        return self._job(pending, q)

    def download(self, repo: str, filename: str, revision: str | None = None) -> DownloadJob:
        """Queue a download; progress, pause and cancel are on the returned job."""
        return self.downloads.add(self.prepare_download(repo, filename, revision))

    def resume_pending(self) -> list[DownloadJob]:
        """Queue again the downloads a previous run left unfinished (their parts stay)."""
        jobs = []
        for p in self.records.pending():
            details = self.hub.repo(p.repo, p.revision)
            jobs.append(self.downloads.add(self._job(p, details.file(p.filename))))
        return jobs

    def _job(self, pending: PendingDownload, q: QuantFile) -> DownloadJob:
        return download_job(
            self.hub,
            self.records,
            self.models_dir,
            self.locks_dir,
            pending,
            q,
            free_space=self.free_space,
        )

    # import, verify, info, remove ---------------------------------------------------------

    def import_path(self, source: Path, *, link: bool = False) -> list[ModelRecord]:
        """Import a GGUF file or every GGUF in a folder: copied, or linked in place.
        Raises the first file's error when none could be imported; `import_each` says
        how each file went."""
        report = self.import_each(source, link=link)
        if report.failed and not report.imported:
            raise report.failed[0][1]
        return report.imported

    def import_each(self, source: Path, *, link: bool = False) -> ImportReport:
        """Import every GGUF that `source` names, going on past the ones that fail.
        Raises only when `source` names no GGUF at all."""
        report = ImportReport()
        known = Known(self.registry.list(), self.records.all())
        for file in gguf_files(source.expanduser()):
            digest = sha256_file(file)
            same = known.same_as(file, digest)
            try:
                target, _header = place(
                    file, self.models_dir, link=link, free_space=self.free_space
                )
            except CarrelError as exc:
                report.failed.append((file, exc))
                continue
            record = ModelRecord(
                name=target.stem,
                path=str(target),
                size=sum(f.stat().st_size for f in companions(file)),
                sha256=digest,
                source=rec.LINKED if link else rec.IMPORTED,
                origin=str(file.resolve()),
                linked=link,
                verified_at=time.time(),
            )
            self.records.put(record)
            report.imported.append(record)
            if same:  # imported all the same, and said: the person may want one copy
                report.duplicates.append((file, same))
            known.add(record)
        return report

    def model(self, name: str) -> ModelInfo:
        return self.registry.resolve(name)

    def verify(self, name: str, on_bytes: Callable[[int], None] | None = None) -> ModelRecord:
        """Re-read the header and re-hash the file (`verify_model`); the record."""
        return self.verify_model(name, on_bytes).record

    def verify_model(
        self, name: str, on_bytes: Callable[[int], None] | None = None
    ) -> Verification:
        """Verify with what a person is told: matched, or hashed for the first time."""
        return verify_model(self.registry, self.records, name, on_bytes)

    def info(self, name: str, n_ctx: int = 4096) -> dict[str, Any]:
        """Everything the Models page and `carrel models info` show about one model."""
        info = self.registry.resolve(name)
        record = self.records.get(info.name)
        out: dict[str, Any] = info.as_dict()
        out["card_license"] = record.card_license if record else ""
        out["sha256"] = record.sha256 if record else ""
        out["source"] = record.describe_source() if record else info.source
        out["record"] = record.as_dict() if record else None
        out["quantized"] = record.comparison() if record else None
        if info.header is not None:
            out["fit"] = estimate_fit(info.header, info.size, n_ctx, gpu=self.gpu()).as_dict()
        out["library_disk_usage"] = self.disk_usage()
        out["library_size"] = self.size().total
        return out

    def size(self) -> LibrarySize:
        """The true size of the library: every listed model's files, wherever they are."""
        return library_size(self.registry.list(), self.models_dir)

    def remove(self, name: str) -> None:
        """Delete a model's files from the library (a linked original is left alone)."""
        record = self.records.get(name)
        models = {m.name.casefold(): m for m in self.registry.list()}
        found = models.get(name.casefold())
        if found is None or not str(found.path).startswith(str(self.models_dir)):
            known = [m.name for m in models.values()]
            raise ModelNotFoundError(name, known)
        for file in companions(found.path):
            file.unlink(missing_ok=True)
        self.records.delete(record.name if record else found.name)

    # quantize -----------------------------------------------------------------------------

    def start_quantize(
        self,
        name: str,
        level: str,
        on_progress: Callable[[int, int], None] | None = None,
        *,
        measure: bool = True,
        on_phase: Callable[[str], None] | None = None,
    ) -> tuple[Quantization, str]:
        """Prepare a quantization (run it with `finish_quantize` on a worker; `.cancel()`
        stops it); also returns the quality warning for an already-quantized source ('' if
        none). With `measure`, the tokens/s of source and result are timed afterwards."""
        info = self.registry.resolve(name)
        level = level_name(level)
        target = self.models_dir / f"{quantized_name(info.name, level)}.gguf"
        if target.exists():
            raise ImportModelError(
                f"The library already has '{target.name}'; remove it to quantize again."
            )
        self.models_dir.mkdir(parents=True, exist_ok=True)
        warning = requantize_warning(info.quant)
        job = Quantization(
            info.path,
            target,
            level,
            allow_requantize=info.quant.upper() not in FULL_PRECISION,
            on_progress=on_progress,
            measure=measure,
            on_phase=on_phase,
        )
        return job, warning

    def finish_quantize(self, job: Quantization, parent: str) -> ModelRecord:
        """Run a prepared quantization and register the result with its lineage: the
        parent's name and size, and both models' tokens/s when they were measured."""
        parent_size = sum(f.stat().st_size for f in companions(job.source))
        target = job.run()
        header = read_header(target)
        record = ModelRecord(
            name=target.stem,
            path=str(target),
            size=target.stat().st_size,
            sha256=sha256_file(target),
            source=rec.QUANTIZED,
            parent=parent,
            card_license=str(header.metadata.get("general.license", "")),
            verified_at=time.time(),
            parent_size=parent_size,
            tokens_per_s=job.result_tps,
            parent_tokens_per_s=job.source_tps,
        )
        self.records.put(record)
        return record

    def quantize(
        self,
        name: str,
        level: str,
        on_progress: Callable[[int, int], None] | None = None,
        *,
        measure: bool = True,
    ) -> tuple[ModelRecord, str]:
        job, warning = self.start_quantize(name, level, on_progress, measure=measure)
        parent = self.registry.resolve(name).name
        return self.finish_quantize(job, parent), warning

    # load options -------------------------------------------------------------------------

    def load_options(
        self, name: str, defaults: LoadOptions, overrides: dict[str, Any] | None = None
    ) -> LoadOptions:
        """`defaults` with what the library keeps for the model on top, then `overrides`
        (a conversation's or a command's)."""
        kept = self.records.load_options(name)
        return defaults.with_changes(kept).with_changes(overrides)

    def fit(self, name: str, options: LoadOptions) -> dict[str, Any] | None:
        """The fit of an installed model as it would load with `options` (None without a
        readable header)."""
        info = self.registry.resolve(name)
        if info.header is None:
            return None
        return estimate_fit(
            info.header,
            info.size,
            options.context_length,
            kv_type=options.kv_type,
            flash_attn=options.uses_flash_attn,
            n_ubatch=min(options.batch_size, options.context_length),
            gpu=self.gpu(),
        ).as_dict()

    def save_load_options(self, name: str, options: LoadOptions) -> None:
        """Keep a model's load options (checked first) for every later load."""
        options.check()
        self.records.set_load_options(name, options.kept())

    # catalog ------------------------------------------------------------------------------

    def catalog(self) -> list[CatalogEntry]:
        return load_catalog()
