"""Downloads from the loopback hub: verified, resumable across a killed process, and the
failures a person meets (corrupt byte, 401, 404, disk too small, cancel)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.library.download import DONE, FAILED, PAUSED, DownloadJob, part_path
from app.library.errors import DiskFullError, GatedRepoError, HashMismatchError
from app.library.service import ModelLibrary
from tests.support.hub import SMOL_FILE, SMOL_REPO, FakeHub

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(condition: object, timeout: float = 60.0) -> None:
    """Poll a condition (a file growing in another process has no event to wait on)."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_download_verifies_and_registers(
    library: ModelLibrary, hub: FakeHub, smollm_path: Path
) -> None:
    seen: list[int] = []
    job = library.prepare_download(SMOL_REPO, SMOL_FILE)
    job.listeners.append(lambda j: seen.append(j.progress().done))
    library.downloads.add(job)
    assert job.wait(120)
    assert job.state == DONE, job.error
    target = library.models_dir / SMOL_FILE
    assert target.read_bytes() == smollm_path.read_bytes()
    assert not part_path(target).exists()
    record = library.records.get(target.stem)
    assert record is not None
    assert record.sha256 == hub.repos[SMOL_REPO].hashes[SMOL_FILE]
    assert record.repo == SMOL_REPO and record.revision == hub.repos[SMOL_REPO].sha
    assert record.card_license == "apache-2.0"
    assert seen[-1] == smollm_path.stat().st_size
    assert library.records.pending() == []
    assert next(m.name for m in library.registry.list()) == target.stem
    assert library.verify(target.stem).sha256 == record.sha256


def test_corrupt_byte_is_caught_and_nothing_is_registered(
    library: ModelLibrary, hub: FakeHub
) -> None:
    hub.corrupt[SMOL_FILE] = 5_000_000
    job = library.download(SMOL_REPO, SMOL_FILE)
    assert job.wait(120)
    assert job.state == FAILED
    assert isinstance(job.error, HashMismatchError)
    assert not (library.models_dir / SMOL_FILE).exists()
    assert not part_path(library.models_dir / SMOL_FILE).exists()
    assert library.records.all() == [] and library.records.pending() == []


def test_gated_download_and_small_disk(library: ModelLibrary, hub: FakeHub) -> None:
    job = library.prepare_download(SMOL_REPO, SMOL_FILE)
    hub.token = "needed"  # the file itself now answers 401
    job.run()
    assert isinstance(job.error, GatedRepoError)
    hub.token = None
    library.quota = 10_000_000
    job = library.prepare_download(SMOL_REPO, SMOL_FILE)
    job.run()
    assert isinstance(job.error, DiskFullError)
    assert "Not enough disk space" in str(job.error)
    assert not part_path(library.models_dir / SMOL_FILE).exists()


def test_pause_resume_and_cancel(library: ModelLibrary, hub: FakeHub, smollm_path: Path) -> None:
    hub.stall_after = 3_145_728
    job = library.download(SMOL_REPO, SMOL_FILE)
    assert hub.stalled.wait(30)
    part = part_path(library.models_dir / SMOL_FILE)
    _wait_for(lambda: part.exists() and part.stat().st_size == 3_145_728)
    job.pause()
    hub.stall_after = None
    hub.release.set()  # the stalled response ends; the job sees the pause and stops
    _wait_for(lambda: job.state == PAUSED)
    assert part.exists()
    hub.served.clear()
    library.downloads.resume(job)
    assert job.wait(120) and job.state == DONE, job.error
    assert hub.bytes_served(SMOL_FILE) == smollm_path.stat().st_size - 3_145_728

    library.remove(Path(SMOL_FILE).stem)
    assert not (library.models_dir / SMOL_FILE).exists()
    assert library.records.all() == []
    hub.release.clear()
    hub.stalled.clear()
    hub.stall_after = 1_000_000
    job2 = library.download(SMOL_REPO, SMOL_FILE)
    assert hub.stalled.wait(30)
    job2.cancel()
    hub.release.set()
    assert job2.wait(60)
    assert not part.exists()
    assert library.records.pending() == []


CHILD = """
import sys
from app.config import Paths
from app.library.registry import ModelRegistry
from app.library.service import ModelLibrary
from app.store import Store
paths = Paths.default().ensure()
lib = ModelLibrary(paths, Store(paths.database), ModelRegistry(paths.models_dir))
job = lib.prepare_download(sys.argv[1], sys.argv[2])
job.run()
"""


@pytest.mark.slow
def test_download_resumes_after_the_process_is_killed(
    library: ModelLibrary, hub: FakeHub, smollm_path: Path, carrel_home: Path
) -> None:
    stall = 7_340_032
    hub.stall_after = stall
    env = {**os.environ, "CARREL_HOME": str(carrel_home), "HF_ENDPOINT": hub.url}
    child = subprocess.Popen([sys.executable, "-c", CHILD, SMOL_REPO, SMOL_FILE], cwd=ROOT, env=env)
    part = part_path(library.models_dir / SMOL_FILE)
    try:
        assert hub.stalled.wait(60)
        _wait_for(lambda: part.exists() and part.stat().st_size == stall)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    hub.stall_after = None
    hub.release.set()
    pending = library.records.pending()
    assert [p.filename for p in pending] == [SMOL_FILE]
    hub.served.clear()
    jobs: list[DownloadJob] = library.resume_pending()
    assert len(jobs) == 1 and jobs[0].wait(120)
    assert jobs[0].state == DONE, jobs[0].error
    size = smollm_path.stat().st_size
    assert hub.bytes_served(SMOL_FILE) == size - stall
    assert (library.models_dir / SMOL_FILE).read_bytes() == smollm_path.read_bytes()
    ranges = [r for m, p, r in hub.requests if "/resolve/" in p and r]
    assert ranges[-1] == f"bytes={stall}-"
    assert threading.active_count() < 50
