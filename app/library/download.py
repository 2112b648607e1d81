"""Resumable, verified downloads: `.part` files, HTTP Range, SHA-256 while bytes arrive.

A download writes `<file>.part` next to its final place. If the process dies, the bytes on
disk stay; the next attempt hashes them first, then asks the server only for the rest
(`Range: bytes=N-`). The file is renamed into place only after its size and SHA-256 match
what the hub's LFS record says; a mismatch deletes it.
"""

from __future__ import annotations

import errno
import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

from app.library import http
from app.library.errors import (
    DiskFullError,
    DownloadCancelledError,
    HashMismatchError,
    HubUnreachableError,
)
from app.library.hub import HubClient
from app.library.quants import RemoteFile
from app.locks import FileLock
from app.units import duration, human_size

CHUNK = 1 << 20
PART_SUFFIX = ".part"

# What the caller wants now: None to go on, "pause" or "cancel".
StopCheck = Callable[[], str | None]
# Bytes done for this file so far (including bytes from before a resume).
OnBytes = Callable[[int], None]


def part_path(final: Path) -> Path:
    return final.with_name(final.name + PART_SUFFIX)


class _Hasher:
    """SHA-256 on its own thread, so hashing overlaps receiving and writing."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._queue: queue.Queue[bytes | bytearray | memoryview | None] = queue.Queue(32)
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            self._sha.update(data)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._queue.put(data)

    def hexdigest(self) -> str:
        self._queue.put(None)
        self._thread.join()
        return self._sha.hexdigest()

    def abandon(self) -> None:
        self._queue.put(None)


def fetch_file(
    client: HubClient,
    repo: str,
    revision: str,
    remote: RemoteFile,
    final: Path,
    *,
    free_space: Callable[[], int],
    on_bytes: OnBytes | None = None,
    stop: StopCheck | None = None,
) -> str:
    """Download `remote` to `final` (resuming its `.part`), verify it, rename it into place.

    Returns the SHA-256. Raises `DiskFullError`, `HashMismatchError` (the part is deleted),
    `DownloadCancelledError` (cancel deletes the part, pause keeps it), and the hub errors.
    """
    part = part_path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    if remote.size and have > remote.size:
        part.unlink()
        have = 0
    need = max(remote.size - have, 0)
    free = free_space()
    if need > free:
        raise DiskFullError(need, free, final.parent)
    hasher = _Hasher()
    try:
        if have:
            with part.open("rb") as f:
                while chunk := f.read(CHUNK):
                    hasher.update(chunk)
        if on_bytes is not None:
            on_bytes(have)
        if not remote.size or have < remote.size:
            have = _receive(client, repo, revision, remote, part, have, hasher, on_bytes, stop)
        digest = hasher.hexdigest()
    except BaseException as exc:
        hasher.abandon()
        if isinstance(exc, DownloadCancelledError) and not exc.paused:
            part.unlink(missing_ok=True)
        raise
    if remote.size and have != remote.size:
        raise HubUnreachableError(client.endpoint, f"the file ended after {have:,} bytes")
    if remote.sha256 and digest != remote.sha256.lower():
        part.unlink(missing_ok=True)
        raise HashMismatchError(final.name, remote.sha256, digest)
    part.replace(final)
    return digest


def _receive(
    client: HubClient,
    repo: str,
    revision: str,
    remote: RemoteFile,
    part: Path,
    have: int,
    hasher: _Hasher,
    on_bytes: OnBytes | None,
    stop: StopCheck | None,
) -> int:
    url = client.resolve_url(repo, revision, remote.path)
    resume = f" from byte {have:,}" if have else ""
    with client.online(f"download of {remote.path} in {repo}{resume}", repo):
        resp = http.get(
            url,
            what=f"file '{remote.path}' in '{repo}'",
            repo=repo,
            token=client.token(),
            range_start=have if have else None,
            allow=client.allow,
        )
        try:
            mode = "ab"
            if have and resp.status != 206:  # the server ignored the Range: start over
                raise HubUnreachableError(client.endpoint, "the server cannot resume downloads")
            if not have:
                mode = "wb"
            with part.open(mode) as out:
                while True:
                    if stop is not None and (why := stop()):
                        raise DownloadCancelledError(remote.path, paused=why == "pause")
                    buf = bytearray(CHUNK)
                    try:
                        n = resp.body.readinto(buf)
                    except (OSError, HTTPException) as exc:
                        if stop is not None and (why := stop()):
                            raise DownloadCancelledError(remote.path, why == "pause") from exc
                        raise HubUnreachableError(
                            client.endpoint, f"the connection broke: {exc!r}"
                        ) from exc
                    if not n:
                        if have < remote.size and stop is not None and (why := stop()):
                            raise DownloadCancelledError(remote.path, paused=why == "pause")
                        break
                    view = memoryview(buf)[:n]
                    try:
                        out.write(view)
                    except OSError as exc:
                        if exc.errno == errno.ENOSPC:
                            raise DiskFullError(remote.size - have, 0, part.parent) from exc
                        raise
                    hasher.update(view)
                    have += n
                    if on_bytes is not None:
                        on_bytes(have)
        finally:
            resp.close()
    return have


QUEUED = "queued"
RUNNING = "running"
WAITING = "waiting"  # for another Carrel process downloading the same file
PAUSED = "paused"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"


@dataclass
class DownloadProgress:
    """A snapshot of one job: bytes done of total, rate (bytes/s) and ETA (seconds)."""

    done: int
    total: int
    rate: float
    eta: float | None
    state: str
    note: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    def describe(self) -> str:
        """'running: 12.6 MB of 98.4 MB (13 %), 4.1 MB/s, ETA 21 s'."""
        if self.state == WAITING:
            return f"waiting: {self.note}"
        text = f"{self.state}: {human_size(self.done)} of {human_size(self.total)}"
        if self.state == RUNNING:
            text += f" ({100 * self.fraction:.0f} %)"
            if self.rate:
                text += f", {human_size(self.rate)}/s"
            if self.eta is not None:
                text += f", ETA {duration(self.eta)}"
        return text


class DownloadJob:
    """One model download in the queue; pause, resume (via the queue) and cancel it."""

    def __init__(self, name: str, total: int, work: Callable[[DownloadJob], object]) -> None:
        self.name = name
        self.total = total
        self.state = QUEUED
        self.error: Exception | None = None
        self.result: object = None
        self._work = work
        self._stop: str | None = None
        self._done_bytes = 0
        self._base = 0  # bytes present when this run started (not counted in the rate)
        self._started = 0.0
        self._finished = threading.Event()
        self.listeners: list[Callable[[DownloadJob], None]] = []
        self.note = ""  # what a waiting job waits for
        # The file was downloaded by another Carrel process while this job waited for it.
        self.joined = False

    # control, from any thread ---------------------------------------------------------

    def pause(self) -> None:
        self._stop = "pause"

    def cancel(self) -> None:
        self._stop = "cancel"
        if self.state in (QUEUED, PAUSED):
            self.state = CANCELLED
            self._finished.set()
            self._notify()

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def stop_requested(self) -> str | None:
        return self._stop

    # progress ---------------------------------------------------------------------------

    def progress(self) -> DownloadProgress:
        elapsed = time.monotonic() - self._started if self._started else 0.0
        fresh = self._done_bytes - self._base
        rate = fresh / elapsed if elapsed > 0 else 0.0
        left = self.total - self._done_bytes
        eta = left / rate if rate > 0 else None
        return DownloadProgress(self._done_bytes, self.total, rate, eta, self.state, self.note)

    def waiting_for(self, note: str) -> None:
        """The work waits (for another process); `note` says for what."""
        self.state, self.note = WAITING, note
        self._notify()

    def going_on(self) -> None:
        """The wait is over."""
        self.state, self.note = RUNNING, ""
        self._notify()

    def advance(self, done: int) -> None:
        """Called by the work function with the job's bytes done so far."""
        if not self._started:
            self._started = time.monotonic()
            self._base = done
        self._done_bytes = done
        self._notify()

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener(self)

    def run(self) -> None:
        """Run the work on the calling thread (the queue's worker, or a CLI command)."""
        if self.state == CANCELLED:
            return
        self.state, self._stop, self._started, self.error = RUNNING, None, 0.0, None
        self._finished.clear()
        self._notify()
        try:
            self.result = self._work(self)
            self.state = DONE
        except DownloadCancelledError as exc:
            self.state = PAUSED if exc.paused else CANCELLED
            self.error = exc
        except Exception as exc:
            self.state = FAILED
            self.error = exc
        finally:
            if self.state != PAUSED:
                self._finished.set()
            self._notify()


@contextmanager
def file_turn(locks: Path, final: Path, job: DownloadJob) -> Iterator[None]:
    """Hold the download lock of `final`: a second Carrel process downloading the same file
    waits here (the job says so) and never writes into the first one's part file; once
    it has the lock the file may be there, downloaded and verified by the other."""
    lock = FileLock(locks / f"download-{final.name}.lock")
    holder = {"what": "downloading"}
    if not lock.try_acquire(holder):

        def waiting(seconds: float) -> None:
            if why := job.stop_requested():
                raise DownloadCancelledError(final.name, paused=why == "pause")
            job.waiting_for(f"another Carrel process is downloading {final.name} ({seconds:.0f} s)")

        waiting(0)
        lock.acquire(waiting=waiting, holder=holder)
        job.joined = final.exists()
        job.going_on()
    try:
        yield
    finally:
        lock.release()


class DownloadQueue:
    """Runs jobs one at a time on a worker thread, in the order they were added."""

    def __init__(self) -> None:
        self.jobs: list[DownloadJob] = []
        self._queue: queue.Queue[DownloadJob | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def add(self, job: DownloadJob) -> DownloadJob:
        with self._lock:
            if job not in self.jobs:
                self.jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="downloads", daemon=True)
                self._thread.start()
        job.state = QUEUED
        self._queue.put(job)
        return job

    def resume(self, job: DownloadJob) -> DownloadJob:
        """Put a paused (or failed) job back in the queue; it continues from its part."""
        return self.add(job)

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            job.run()

    def close(self) -> None:
        for job in self.jobs:
            if job.state in (QUEUED, RUNNING):
                job.pause()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)
