"""`StoredPoints`: the reads of a Qdrant Edge shard that walk its stored points instead of
searching them, as `EdgeIndex` has them: a page of points for re-embedding a collection
(`scroll`), the points per file version for checks (`sources`), and one version's points
and their vectors for an ingest that reuses them (`passages`, `vectors`: `app.rag.reuse`).
"""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

import qdrant_edge as qe

from app.rag.points import EMBEDDED_FROM, Hit, Stored, tally
from app.rag.represent import unpack
from app.rag.sentences import SentenceStore
from app.rag.shard import DENSE

# The payload key of a point's sentence vectors in shards made before `SentenceStore`
# (`represent.pack`, base64); never shown in a `Hit`.
SV = "sv"


class StoredPoints:
    """The walks of `EdgeIndex`'s shard; it sets the shard, its read lock, its sentence
    store and the vectors' dimension."""

    _shard: qe.EdgeShard
    _read_lock: threading.RLock
    sentences: SentenceStore
    dim: int

    def scroll(self, offset: Any = None, limit: int = 256) -> tuple[list[Hit], Any]:
        """A page of points with their payloads (text included) and the next page's
        offset (None at the end): for re-embedding a collection."""
        with self._read_lock:
            records, offset = self._shard.scroll(
                qe.ScrollRequest(offset=offset, limit=limit, with_payload=True)
            )
        return [Hit(str(r.id), 0.0, shown(dict(r.payload or {}))) for r in records], offset

    def sources(self) -> dict[tuple[str, str], int]:
        """Points per (source, hash), by scrolling the whole shard: for checks, not hot paths."""
        counts: dict[tuple[str, str], int] = {}
        offset: Any = None
        while True:
            with self._read_lock:
                records, offset = self._shard.scroll(
                    qe.ScrollRequest(offset=offset, limit=1000, with_payload=["source", "hash"])
                )
            tally(counts, (r.payload for r in records))
            if offset is None:
                return counts

    def passages(self, source: str, content_hash: str) -> list[tuple[str, dict[str, Any]]]:
        flt = qe.Filter(must=[match("source", source), match("hash", content_hash)])
        out, offset = [], None
        while True:
            with self._read_lock:
                records, offset = self._shard.scroll(
                    qe.ScrollRequest(offset, 1000, flt, with_payload=EMBEDDED_FROM)
                )
            out += [(str(r.id), dict(r.payload or {})) for r in records]
            if offset is None:
                return out

    def vectors(self, ids: list[str]) -> dict[str, Stored]:
        with self._read_lock:
            wanted: list[int | UUID | str] = list(ids)
            records = self._shard.retrieve(wanted, [SV], [DENSE]) if ids else []
            stored = self.sentences.get(ids)
        out: dict[str, Stored] = {}
        for r in records:
            packed = stored.get(str(r.id)) or (r.payload or {}).get(SV)
            rows = unpack(packed, self.dim).tolist() if packed else None
            vector: Any = r.vector
            out[str(r.id)] = (list(vector[DENSE]), rows)
        return out


def match(key: str, value: str) -> Any:
    """A filter's condition: the payload's `key` is `value`."""
    return qe.FieldCondition(key, match=qe.MatchValue(value))


def shown(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload as a `Hit` carries it: without the sentence vectors."""
    payload.pop(SV, None)
    return payload
