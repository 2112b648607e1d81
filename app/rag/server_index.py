"""`ServerIndex`: a collection's index on a Qdrant server or cluster, through `qdrant-client`.

For a team that has outgrown one machine: the same `Index` interface as `EdgeIndex`, the
same points (uuid ids, payload plus "text"), the same vectors (a cosine "dense" vector and
a "bm25" sparse vector with IDF applied by the engine) and the same ranking: the dense
side's top `RESCORE` re-ranked by their best sentence, fused with BM25 by the same convex
combination (`represent.fuse`, here, on the two rankings the server returns in one batch).
On a server the sentence vectors are a native MaxSim multivector ("sentences") and the
server does the re-ranking; on this machine they ride in the payload
(the embedded engine would hold them in RAM). A server collection made before sentence
vectors is searched by "dense" alone. The BM25 sparse vectors are made here by Qdrant
Edge's own `Bm25`, in process and without any model download, so the server ranks by
exactly what a shard would.

One server collection per Carrel collection, named `<prefix><collection>`. The server is
off the machine by nature: every call is made inside `guard.allow(host)` of the network
guard it is given (the Workbench's), so the connection is allowed only while the index is
working, and a refusal surfaces as `EgressRefusedError`.

qdrant-client's local mode (`QdrantClient(path=...)` or `location=":memory:"`) runs the same
calls in process; the tests use it, the app does not (it is slow past a few thousand points).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any
from urllib.parse import urlsplit

import qdrant_edge as qe
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from app.errors import CarrelError
from app.netguard import EgressRefusedError, NetGuard
from app.rag.errors import (
    IndexBusyError,
    IndexServerAddressError,
    IndexServerError,
    ServerCollectionMismatchError,
)
from app.rag.index import DENSE, FUSION_WEIGHTS, PREFETCH, RESCORE, SENTENCES, SPARSE
from app.rag.naming import collection_key
from app.rag.points import (
    EMBEDDED_FROM,
    Hit,
    IndexPoint,
    Mode,
    Stored,
    bm25,
    bm25_text,
    tally,
)
from app.rag.represent import fuse

DEFAULT_PREFIX = "carrel_"
TIMEOUT_S = 30
_PAYLOAD_KEYS = ("source", "hash")


def server_host(url: str) -> str:
    """The host name of a server URL; refuses anything but a full http(s) address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise IndexServerAddressError(url)
    return parts.hostname


def sparse_vector(vector: qe.SparseVector) -> models.SparseVector:
    """Qdrant Edge's BM25 output as the client's sparse vector (same indices, same weights)."""
    return models.SparseVector(indices=list(vector.indices), values=list(vector.values))


class ServerIndex:
    """A collection's points in a Qdrant server (or cluster) collection, over the network.

    `client` may be a remote client (see `connect`) or a local-mode client for tests; `host`
    is the server's host, allowed through `guard` (the process's network guard) for the
    duration of each call; without a guard nothing is opened for it.
    The index owns the client: `close()` (or a failed open) closes it.
    """

    def __init__(
        self,
        client: QdrantClient,
        dim: int,
        collection: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        host: str | None = None,
        guard: NetGuard | None = None,
        where: str = "local mode",
    ) -> None:
        self.collection = collection
        self.name = prefix + collection_key(collection)  # a server-safe name
        self.dim = dim
        self.where = where
        self._client = client
        self._host = host
        self._guard = guard
        self._bm25 = bm25()
        self.has_sentences = True
        try:
            self._ensure_collection()
        except BaseException:
            self.close()
            raise

    @classmethod
    def connect(
        cls,
        url: str,
        dim: int,
        collection: str,
        *,
        api_key: str | None = None,
        prefix: str = DEFAULT_PREFIX,
        guard: NetGuard | None = None,
        timeout: int = TIMEOUT_S,
    ) -> ServerIndex:
        """Open (creating if needed) the collection's index on the server at `url`."""
        host = server_host(url)
        with guard.allow(host) if guard is not None else nullcontext():
            client = QdrantClient(
                url=url,
                api_key=api_key,
                timeout=timeout,
                prefer_grpc=False,
                check_compatibility=False,  # no version probe at construction
            )
        return cls(client, dim, collection, prefix=prefix, host=host, guard=guard, where=url)

    # the connection -----------------------------------------------------------------------

    def _allow(self) -> AbstractContextManager[None]:
        if self._host is None or self._guard is None:
            return nullcontext()
        return self._guard.allow(self._host)

    @contextmanager
    def _call(self) -> Iterator[None]:
        """One exchange with the server: the host allowed, failures said for a person."""
        with self._allow():
            try:
                yield
            except CarrelError:
                raise
            except Exception as exc:
                raise self._failure(exc) from exc

    def _failure(self, exc: BaseException) -> CarrelError:
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, EgressRefusedError):
                return cause
            cause = cause.__cause__ or cause.__context__
        if isinstance(exc, UnexpectedResponse):
            if exc.status_code in (401, 403):
                detail = f"the API key was refused (HTTP {exc.status_code})"
            else:
                detail = f"HTTP {exc.status_code} {exc.reason_phrase}".strip()
        elif isinstance(exc, ResponseHandlingException):
            detail = f"no answer ({str(exc).strip().rstrip('.') or 'the connection failed'})"
        elif isinstance(exc, RuntimeError) and "already accessed" in str(exc):
            return IndexBusyError(self.collection)
        else:
            text = str(exc).strip().rstrip(".")
            detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        return IndexServerError(self.collection, self.where, detail)

    def _ensure_collection(self) -> None:
        with self._call():
            if self._client.collection_exists(self.name):
                self._check_existing()
                return
            try:
                self._client.create_collection(
                    self.name,
                    vectors_config={
                        DENSE: models.VectorParams(size=self.dim, distance=models.Distance.COSINE),
                        SENTENCES: models.VectorParams(
                            size=self.dim,
                            distance=models.Distance.COSINE,
                            multivector_config=models.MultiVectorConfig(
                                comparator=models.MultiVectorComparator.MAX_SIM
                            ),
                        ),
                    },
                    sparse_vectors_config={
                        SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
                    },
                )
            except UnexpectedResponse as exc:
                if exc.status_code != 409:  # another process created it first: fine
                    raise
            with warnings.catch_warnings():
                # Local mode (tests) keeps no payload indexes and says so; a server does.
                warnings.filterwarnings("ignore", message="Payload indexes have no effect")
                for key in _PAYLOAD_KEYS:
                    self._client.create_payload_index(
                        self.name, key, models.PayloadSchemaType.KEYWORD, wait=True
                    )

    def _check_existing(self) -> None:
        params = self._client.get_collection(self.name).config.params
        dense = params.vectors.get(DENSE) if isinstance(params.vectors, dict) else None
        sparse = params.sparse_vectors or {}
        if dense is None or SPARSE not in sparse:
            detail = f"it lacks the '{DENSE}' and '{SPARSE}' vectors Carrel uses"
        elif dense.size != self.dim:
            detail = f"its vectors have {dense.size} dimensions, not {self.dim}"
        else:
            self.has_sentences = isinstance(params.vectors, dict) and SENTENCES in params.vectors
            return
        raise ServerCollectionMismatchError(self.collection, self.name, detail)

    # the Index interface --------------------------------------------------------------------

    def upsert(self, points: list[IndexPoint]) -> None:
        if not points:
            return
        batch = []
        for p in points:
            vectors: dict[str, Any] = {
                DENSE: p.vector,
                SPARSE: sparse_vector(self._bm25.embed_document(bm25_text(p.text, p.payload))),
            }
            if self.has_sentences:
                vectors[SENTENCES] = p.sentences or [p.vector]
            batch.append(
                models.PointStruct(id=p.id, vector=vectors, payload={**p.payload, "text": p.text})
            )
        with self._call():
            self._client.upsert(self.name, points=batch, wait=True)

    def delete_source(self, source: str, keep_hash: str | None = None) -> None:
        """Every point of `source`, or all but those of version `keep_hash`."""
        must_not: list[models.Condition] = []
        if keep_hash is not None:
            must_not.append(_match("hash", keep_hash))
        self._delete(models.Filter(must=[_match("source", source)], must_not=must_not))

    def delete_version(self, source: str, content_hash: str) -> None:
        """The points of one version of a file (an interrupted add)."""
        self._delete(models.Filter(must=[_match("source", source), _match("hash", content_hash)]))

    def _delete(self, flt: models.Filter) -> None:
        with self._call():
            self._client.delete(
                self.name, points_selector=models.FilterSelector(filter=flt), wait=True
            )

    def search(
        self,
        dense: list[float] | None,
        text: str,
        k: int,
        sources: list[str] | None = None,
        mode: Mode = "hybrid",
    ) -> list[Hit]:
        flt = (
            models.Filter(
                must=[models.FieldCondition(key="source", match=models.MatchAny(any=list(sources)))]
            )
            if sources
            else None
        )
        terms = self._bm25.embed_query(text)
        sparse = sparse_vector(terms)
        args: dict[str, Any]
        if mode == "dense" or (mode == "hybrid" and not terms.indices):
            assert dense is not None
            stage = self._dense_stage(dense, k, flt)
            args = {"query": stage.query, "using": stage.using, "prefetch": stage.prefetch}
            if not stage.prefetch:
                args["query_filter"] = flt
        elif mode == "bm25":
            if not terms.indices:
                return []  # only stop words: nothing for BM25 to match
            args = {"query": sparse, "using": SPARSE, "query_filter": flt}
        else:
            assert dense is not None
            return self._hybrid(dense, sparse, k, flt)
        with self._call():
            result = self._client.query_points(self.name, limit=k, with_payload=True, **args)
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in result.points]

    def _hybrid(
        self, dense: list[float], sparse: models.SparseVector, k: int, flt: models.Filter | None
    ) -> list[Hit]:
        """Both rankings in one batch, fused here as `EdgeIndex` fuses them; then the
        payloads of the shown `k`."""
        depth = max(PREFETCH, 3 * k)
        stage = self._dense_stage(dense, depth, flt)
        semantic = models.QueryRequest(
            query=stage.query,
            using=stage.using,
            prefetch=stage.prefetch,
            filter=None if stage.prefetch else flt,
            limit=depth,
        )
        keyword = models.QueryRequest(query=sparse, using=SPARSE, filter=flt, limit=depth)
        with self._call():
            results = self._client.query_batch_points(self.name, [semantic, keyword])
        rankings = [[(str(p.id), float(p.score)) for p in r.points] for r in results]
        ranked = fuse(rankings, FUSION_WEIGHTS)[:k]
        if not ranked:
            return []
        with self._call():
            records = self._client.retrieve(self.name, [key for key, _ in ranked])
        payloads = {str(r.id): dict(r.payload or {}) for r in records}
        return [Hit(key, score, payloads[key]) for key, score in ranked if key in payloads]

    def _dense_stage(
        self, dense: list[float], limit: int, flt: models.Filter | None
    ) -> models.Prefetch:
        """The mean vector's top `RESCORE`, re-ranked by best sentence (as `EdgeIndex`)."""
        if not self.has_sentences:
            return models.Prefetch(query=dense, using=DENSE, limit=limit, filter=flt)
        first = models.Prefetch(query=dense, using=DENSE, limit=max(RESCORE, limit), filter=flt)
        return models.Prefetch(query=[dense], using=SENTENCES, limit=limit, prefetch=first)

    def sources(self) -> dict[tuple[str, str], int]:
        """Points per (source, hash), by scrolling the whole collection: for checks."""
        counts: dict[tuple[str, str], int] = {}
        offset: Any = None
        while True:
            with self._call():
                records, offset = self._client.scroll(
                    self.name,
                    limit=1000,
                    offset=offset,
                    with_payload=list(_PAYLOAD_KEYS),
                    with_vectors=False,
                )
            tally(counts, (r.payload for r in records))
            if offset is None:
                return counts

    def passages(self, source: str, content_hash: str) -> list[tuple[str, dict[str, Any]]]:
        flt = models.Filter(must=[_match("source", source), _match("hash", content_hash)])
        out: list[tuple[str, dict[str, Any]]] = []
        offset: Any = None
        while True:
            with self._call():
                records, offset = self._client.scroll(
                    self.name, flt, limit=1000, offset=offset, with_payload=EMBEDDED_FROM
                )
            out += [(str(r.id), dict(r.payload or {})) for r in records]
            if offset is None:
                return out

    def vectors(self, ids: list[str]) -> dict[str, Stored]:
        names = [DENSE, SENTENCES] if self.has_sentences else [DENSE]
        with self._call():
            records = self._client.retrieve(self.name, ids, with_vectors=names) if ids else []
        out: dict[str, Stored] = {}
        for r in records:
            vectors: Any = r.vector or {}
            rows = vectors.get(SENTENCES)
            out[str(r.id)] = (list(vectors[DENSE]), [list(v) for v in rows] if rows else None)
        return out

    def count(self) -> int:
        with self._call():
            return int(self._client.count(self.name, exact=True).count)

    def flush(self) -> None:
        """Nothing to do: every write waits for the server to apply it (`wait=True`)."""

    def bulk(self, waiting: Callable[[], None] | None = None) -> AbstractContextManager[None]:
        """Nothing to wait for: the server builds its own indexes."""
        return nullcontext()

    def offer_turn(
        self, waiting: Callable[[str], None] | None = None, *, mid_add: bool = False
    ) -> None:
        """Nothing to hand over: the server serves every process at once."""

    def close(self) -> None:
        with self._allow():
            self._client.close()

    def drop(self) -> None:
        """Delete the collection on the server (what removing a folder is for `EdgeIndex`)."""
        with self._call():
            self._client.delete_collection(self.name)


def _match(key: str, value: str) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))
