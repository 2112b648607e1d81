"""Re-embedding a collection with another embedder while the old index keeps serving.

The new vectors are built from the passages the old shard already holds (text and
payload), so no file is read or parsed again and files moved since are no matter. They go
into a staging shard `.<name>.next` beside the collection's; searches use the old shard
and the old embedder all the while. When every point is in, a `READY` file records the new
embedder, then the shards are swapped by renames and the record follows:

    <name>  ->  .<name>.old      .<name>.next  ->  <name>      record      rm .<name>.old

`recover` finishes or undoes a swap that a crash cut short the next time the collection
is opened (by the process that holds the collection's lease and the re-embed's `claim`,
so a live re-embed in another process is never taken for a crash's): a staging shard
without `READY` is thrown away (the re-embed starts again when asked), one with it is
swapped in.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.locks import FileLock
from app.rag.chunker import Chunk
from app.rag.embedder import Embedder
from app.rag.index import EdgeIndex, IndexPoint
from app.rag.passages import DEFAULT_REPRESENTATION, embed
from app.rag.records import DocumentRecords
from app.rag.sentences import remove_store, store_path

READY = "READY"
PAGE = 256  # points embedded per step; cancel is checked between steps


def staging(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.next")


def retired(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.old")


def interrupted(folder: Path) -> bool:
    """Whether a staging or retired shard of `folder` is left (a re-embed under way in
    some process, or one a crash cut short)."""
    return staging(folder).exists() or retired(folder).exists()


def claim(folder: Path) -> FileLock | None:
    """The right to re-embed `folder`'s collection, or to recover its swap (a lock file
    beside it); None while another process (or another claim of this one) holds it."""
    lock = FileLock(folder.with_name(f".reembed-{folder.name}"))
    return lock if lock.try_acquire() else None


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    remove_store(folder)


def _move(a: Path, b: Path) -> None:
    a.replace(b)
    if store_path(a).exists():
        store_path(a).replace(store_path(b))
        for extra in ("-wal", "-shm"):
            side = store_path(a).with_name(store_path(a).name + extra)
            if side.exists():
                side.replace(store_path(b).with_name(store_path(b).name + extra))


def recover(folder: Path, records: DocumentRecords, name: str) -> None:
    """Finish or undo an interrupted swap of `folder` (see the module docstring)."""
    nxt, old = staging(folder), retired(folder)
    ready = nxt / READY
    if nxt.exists() and not ready.exists():
        _remove(nxt)
    if ready.exists():
        meta = json.loads(ready.read_text(encoding="utf-8"))
        if folder.exists() and not old.exists():
            _move(folder, old)
        ready.unlink()
        _move(nxt, folder)
        records.set_embedder(name, **meta)
    if old.exists():
        if folder.exists():
            _remove(old)
        else:
            _move(old, folder)


def _chunk(payload: dict[str, Any]) -> Chunk:
    return Chunk(
        text=str(payload.get("text", "")),
        page=payload.get("page"),
        page_end=payload.get("page_end"),
        heading=tuple(payload.get("heading") or ()),
        start=int(payload.get("start") or 0),
        end=int(payload.get("end") or 0),
        words=0,
        records=bool(payload.get("records")),
        outline=tuple(payload.get("outline") or ()),
    )


def build(
    old: EdgeIndex,
    folder: Path,
    embedder: Embedder,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    representation: str = DEFAULT_REPRESENTATION,
) -> bool:
    """Embed every passage of `old` with `embedder` into the staging shard of `folder`;
    False (and no staging shard left) if cancelled. Marks it `READY` by the caller."""
    target = staging(folder)
    _remove(target)
    total = old.count()
    new = EdgeIndex(target, embedder.dim, folder.name)
    done = 0
    try:
        with new.bulk():
            offset: Any = None
            while True:
                if cancel is not None and cancel.is_set():
                    new.close()
                    _remove(target)
                    return False
                hits, offset = old.scroll(offset, PAGE)
                chunks = [_chunk(h.payload) for h in hits]
                vectors = embed(embedder, chunks, representation)
                new.upsert(
                    [
                        IndexPoint(
                            h.id,
                            v.mean,
                            c.text,
                            {k: x for k, x in h.payload.items() if k != "text"},
                            v.sentences or None,
                        )
                        for h, c, v in zip(hits, chunks, vectors, strict=True)
                    ]
                )
                done += len(hits)
                if progress is not None:
                    progress(done, total)
                if offset is None:
                    break
            new.flush()
    except BaseException:
        new.close()
        _remove(target)
        raise
    new.close()
    return True


def mark_ready(folder: Path, meta: dict[str, Any]) -> None:
    """Record the staging shard as complete, with the embedder it was built with."""
    ready = staging(folder) / READY
    partial = ready.with_suffix(".part")
    partial.write_text(json.dumps(meta), encoding="utf-8")
    partial.replace(ready)
