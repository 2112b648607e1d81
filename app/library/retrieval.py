"""Sentence-transformers models (embedders and cross-encoder rerankers) from the hub into
the model library, as a verified snapshot that Carrel then loads offline.

Every file of the repository at one commit is fetched (`download.fetch_file`: resumable,
`.part` files, size checked) into a hidden staging folder; a file the hub keeps in LFS is
checked by its SHA-256, any other by its git blob id (the SHA-1 of `blob <size>\\0` and
its bytes, which is what the hub reports for it). Only when all of them match is the
folder renamed into place with a manifest of what was checked; a mismatch deletes the
file and stops. The model is then listed by `app.rag.models.RetrievalModels` and loaded
from disk with the hub offline.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from app.library.download import fetch_file
from app.library.errors import HashMismatchError, HubError
from app.library.hub import HubClient

# What was checked, written into the snapshot's folder last.
MANIFEST = "carrel-snapshot.json"
# (file done so far, files in all, bytes of the current file)
SnapshotProgress = Callable[[int, int, int], None]


def snapshot_folder(models_dir: Path, repo: str) -> Path:
    """Where the snapshot of hub repository `repo` lives in the library."""
    return models_dir / "retrieval" / repo.replace("/", "--")


def git_blob_id(path: Path) -> str:
    """The git object id of a file's bytes (how the hub names a non-LFS file)."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def snapshot(
    client: HubClient,
    models_dir: Path,
    repo: str,
    *,
    free_space: Callable[[], int],
    revision: str | None = None,
    progress: SnapshotProgress | None = None,
) -> Path:
    """Download and verify every file of `repo` into the library; returns its folder."""
    commit, license_, files = client.snapshot_files(repo, revision)
    if not any(f.path in ("modules.json", "config.json") for f, _ in files):
        raise HubError(
            f"'{repo}' is not a sentence-transformers model (no modules.json or config.json);"
            " pick an embedding or reranking model."
        )
    target = snapshot_folder(models_dir, repo)
    work = target.with_name(f".{target.name}.{commit[:12]}.part")
    checked = {}
    for n, (remote, blob) in enumerate(files):
        local = work / remote.path
        if not local.resolve().is_relative_to(work.resolve()):
            raise HubError(f"'{repo}' names a file outside its folder: {remote.path}")
        local.parent.mkdir(parents=True, exist_ok=True)
        if progress is not None:
            progress(n, len(files), 0)

        def on_bytes(done: int, n: int = n) -> None:
            if progress is not None:
                progress(n, len(files), done)

        if not (local.is_file() and local.stat().st_size == remote.size and checked_before(local)):
            digest = fetch_file(
                client, repo, commit, remote, local, free_space=free_space, on_bytes=on_bytes
            )
            if not remote.sha256 and blob and git_blob_id(local) != blob:
                local.unlink()
                raise HashMismatchError(remote.path, blob, "a different git blob id")
            local.with_name(local.name + ".ok").touch()
        else:
            digest = _sha256(local)
        checked[remote.path] = {"size": remote.size, "sha256": digest, "blob": blob}
    for mark in work.rglob("*.ok"):
        mark.unlink()
    manifest = {"repo": repo, "revision": commit, "license": license_, "files": checked}
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    if target.exists():  # an older revision: replaced by the verified one
        shutil.rmtree(target)
    work.replace(target)
    return target


def checked_before(local: Path) -> bool:
    """Whether a file of an interrupted snapshot was already verified."""
    return local.with_name(local.name + ".ok").exists()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
