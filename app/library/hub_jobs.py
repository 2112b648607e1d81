"""A hub download as a job for the download queue: every part of a model file fetched and
verified in turn, under a per-file lock shared with other Carrel processes, then recorded.

Kept apart from `ModelLibrary` (service.py), which makes these jobs and queues them: this
is what one job does, from the first byte to the library's record, and what a cancel
leaves behind (nothing another process is still writing).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.library import records as rec
from app.library.download import DownloadJob, fetch_file, file_turn, part_path
from app.library.errors import HashMismatchError, ImportModelError
from app.library.hub import HubClient
from app.library.quants import QuantFile
from app.library.records import ModelRecord, ModelRecords, PendingDownload
from app.locks import FileLock


def download_job(
    hub: HubClient,
    records: ModelRecords,
    models_dir: Path,
    locks_dir: Path,
    pending: PendingDownload,
    q: QuantFile,
    *,
    free_space: Callable[[], int],
) -> DownloadJob:
    """The job that downloads `q` (all its parts) into `models_dir` and records it; raises
    `ImportModelError` when another model already has the target's file name."""
    target = Path(pending.target)
    existing = records.get(target.stem)
    if (target.exists() or target.is_symlink()) and (
        existing is None or existing.repo != pending.repo
    ):
        raise ImportModelError(
            f"The library already has a file called '{target.name}'; remove that model "
            "first to download this one."
        )

    def work(job: DownloadJob) -> ModelRecord:
        records.add_pending(pending)
        done_before = 0
        digest = ""
        for part in q.parts:
            final = models_dir / Path(part.path).name
            base = done_before

            def on_bytes(n: int, base: int = base) -> None:
                job.advance(base + n)

            with file_turn(locks_dir, final, job):
                if final.exists():  # verified before it was put there
                    job.advance(base + part.size)
                else:
                    sha = fetch_file(
                        hub,
                        pending.repo,
                        pending.revision,
                        part,
                        final,
                        free_space=free_space,
                        on_bytes=on_bytes,
                        stop=job.stop_requested,
                    )
                    digest = digest or sha
            done_before += part.size
        record = ModelRecord(
            name=target.stem,
            path=str(target),
            size=q.size,
            sha256=digest or q.sha256,
            source=rec.HUB,
            repo=pending.repo,
            revision=pending.revision,
            filename=pending.filename,
            card_license=pending.card_license,
        )
        records.put(record)
        records.drop_pending(pending.target)
        return record

    def guarded(job: DownloadJob) -> ModelRecord:
        try:
            return work(job)
        except HashMismatchError:
            records.drop_pending(pending.target)
            raise
        except Exception:
            if job.stop_requested() == "cancel":
                records.drop_pending(pending.target)
                for part in q.parts:  # not one another process is writing
                    final = models_dir / Path(part.path).name
                    lock = FileLock(locks_dir / f"download-{final.name}.lock")
                    if lock.try_acquire():
                        part_path(final).unlink(missing_ok=True)
                        lock.release()
            raise

    return DownloadJob(target.stem, q.size, guarded)
