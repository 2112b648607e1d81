"""The same behaviour from both `Index` implementations: Qdrant Edge in process, and the
Qdrant server code path (`ServerIndex`), run here against qdrant-client's local mode."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from qdrant_client import QdrantClient

from app.netguard import EgressRefusedError
from app.rag.embedder import SentenceEmbedder
from app.rag.errors import (
    IndexServerAddressError,
    IndexServerError,
    ServerCollectionMismatchError,
)
from app.rag.index import EdgeIndex, Index, IndexPoint, point_id
from app.rag.server_index import ServerIndex
from tests.conftest import GUARD

PASSAGES = {
    "/docs/atlas.pdf": [
        "Toubkal, in the High Atlas, is the highest summit of North Africa at 4167 metres.",
        "Barbary macaques live in the cedar forests of the Middle Atlas.",
    ],
    "/docs/tea.docx": [
        "Camellia sinensis prefers acidic, well drained soil with a pH near 5.",
        "The first flush is plucked in early spring: two leaves and a bud.",
    ],
    "/docs/bikes.html": [
        "A derailleur moves the chain between sprockets of the cassette.",
        "Tubeless tyres are sealed with latex so small punctures close themselves.",
    ],
}
HASH = "h1"

Opener = Callable[[], Index]


def points(embedder: SentenceEmbedder, content_hash: str = HASH) -> list[IndexPoint]:
    texts = [(s, n, t) for s, ts in PASSAGES.items() for n, t in enumerate(ts)]
    vectors = embedder.embed([t for _, _, t in texts])
    return [
        IndexPoint(
            point_id(s, content_hash, n),
            v,
            t,
            {"source": s, "hash": content_hash, "n": n, "page": n + 1, "heading": []},
        )
        for (s, n, t), v in zip(texts, vectors, strict=True)
    ]


@pytest.fixture(params=["edge", "server"])
def opener(request: pytest.FixtureRequest, tmp_path: Path, embedder: SentenceEmbedder) -> Opener:
    if request.param == "edge":
        return lambda: EdgeIndex(tmp_path / "edge", embedder.dim, "kb")
    return lambda: ServerIndex(QdrantClient(path=str(tmp_path / "qdrant")), embedder.dim, "kb")


@pytest.fixture
def index(opener: Opener) -> Iterator[Index]:
    idx = opener()
    yield idx
    idx.close()


def top(
    index: Index, embedder: SentenceEmbedder, query: str, k: int = 3, **kw: object
) -> list[str]:
    dense = embedder.embed([query])[0]
    hits = index.search(dense, query, k, **kw)  # type: ignore[arg-type]
    return [str(h.payload["text"]) for h in hits]


def test_upsert_count_and_sources(index: Index, embedder: SentenceEmbedder) -> None:
    index.upsert(points(embedder))
    index.upsert(points(embedder))  # same ids: overwritten, not doubled
    index.flush()
    assert index.count() == 6
    assert index.sources() == {(s, HASH): 2 for s in PASSAGES}


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_search_finds_the_passage(index: Index, embedder: SentenceEmbedder, mode: str) -> None:
    index.upsert(points(embedder))
    hits = top(index, embedder, "How high is Toubkal in metres?", mode=mode)
    assert hits[0] == PASSAGES["/docs/atlas.pdf"][0]
    hits = top(index, embedder, "which soil does the tea plant like", mode=mode)
    assert hits[0] == PASSAGES["/docs/tea.docx"][0]


def test_hits_carry_payload_and_stopword_query_falls_back(
    index: Index, embedder: SentenceEmbedder
) -> None:
    index.upsert(points(embedder))
    dense = embedder.embed(["tubeless latex sealant"])[0]
    hit = index.search(dense, "tubeless latex sealant", 1)[0]
    assert hit.payload["source"] == "/docs/bikes.html" and hit.payload["page"] == 2
    assert hit.payload["hash"] == HASH and hit.score > 0
    # Only stop words: no BM25 terms, hybrid falls back to dense, BM25 alone finds nothing.
    assert len(index.search(dense, "the of and", 3)) == 3
    assert index.search(None, "the of and", 3, mode="bm25") == []


def test_file_filter(index: Index, embedder: SentenceEmbedder) -> None:
    index.upsert(points(embedder))
    query = "How high is Toubkal, and which soil?"
    for mode in ("hybrid", "dense", "bm25"):
        hits = top(index, embedder, query, k=5, sources=["/docs/tea.docx"], mode=mode)
        assert hits and set(hits) <= set(PASSAGES["/docs/tea.docx"]), mode
    both = top(index, embedder, query, k=10, sources=["/docs/tea.docx", "/docs/atlas.pdf"])
    assert set(both) == set(PASSAGES["/docs/tea.docx"] + PASSAGES["/docs/atlas.pdf"])


def test_delete_by_file_and_version(index: Index, embedder: SentenceEmbedder) -> None:
    index.upsert(points(embedder))
    index.delete_source("/docs/atlas.pdf")
    index.flush()
    assert index.count() == 4
    assert not set(top(index, embedder, "Toubkal summit", k=10)) & set(PASSAGES["/docs/atlas.pdf"])
    # A new version of the files: keep_hash prunes the old one, delete_version the new.
    index.upsert(points(embedder, "h2"))
    index.delete_source("/docs/tea.docx", keep_hash="h2")
    assert index.sources() == {
        ("/docs/atlas.pdf", "h2"): 2,
        ("/docs/tea.docx", "h2"): 2,
        ("/docs/bikes.html", "h2"): 2,
        ("/docs/bikes.html", HASH): 2,
    }
    index.delete_version("/docs/bikes.html", "h2")
    assert index.sources()[("/docs/bikes.html", HASH)] == 2
    assert ("/docs/bikes.html", "h2") not in index.sources()


def test_a_version_s_passages_and_their_vectors_read_back(
    index: Index, embedder: SentenceEmbedder
) -> None:
    sentences = [[0.6, 0.8] + [0.0] * (embedder.dim - 2), [1.0] + [0.0] * (embedder.dim - 1)]
    first, *rest = points(embedder)
    index.upsert([IndexPoint(first.id, first.vector, first.text, first.payload, sentences)])
    index.upsert(rest)
    index.flush()
    listed = dict(index.passages("/docs/atlas.pdf", HASH))
    assert {p["text"] for p in listed.values()} == set(PASSAGES["/docs/atlas.pdf"])
    assert all(p["heading"] == [] for p in listed.values())
    assert index.passages("/docs/atlas.pdf", "h2") == []
    stored = index.vectors([first.id, rest[0].id, "00000000-0000-0000-0000-000000000000"])
    assert set(stored) == {first.id, rest[0].id}  # an id not in the index is left out
    vector, rows = stored[first.id]
    assert np.allclose(vector, first.vector, atol=2e-3)  # float16 in a shard
    assert rows is not None and np.allclose(rows, sentences, atol=1 / 127)  # int8 in a shard
    assert np.allclose(stored[rest[0].id][0], rest[0].vector, atol=2e-3)


def test_reopen(opener: Opener, embedder: SentenceEmbedder) -> None:
    first = opener()
    first.upsert(points(embedder))
    first.flush()
    first.close()
    again = opener()
    try:
        assert again.count() == 6
        assert top(again, embedder, "Toubkal height")[0] == PASSAGES["/docs/atlas.pdf"][0]
    finally:
        again.close()


def test_both_indexes_rank_alike(tmp_path: Path, embedder: SentenceEmbedder) -> None:
    edge = EdgeIndex(tmp_path / "edge", embedder.dim, "kb")
    server = ServerIndex(QdrantClient(location=":memory:"), embedder.dim, "kb")
    try:
        for idx in (edge, server):
            idx.upsert(points(embedder))
        for query in ("Toubkal metres", "chain between sprockets", "spring leaves and a bud"):
            for mode in ("dense", "bm25", "hybrid"):
                a = top(edge, embedder, query, k=6, mode=mode)
                b = top(server, embedder, query, k=6, mode=mode)
                assert a[:2] == b[:2], (query, mode)
    finally:
        edge.close()
        server.close()


def test_existing_collection_with_other_dimensions_is_refused(tmp_path: Path) -> None:
    ServerIndex(QdrantClient(path=str(tmp_path / "q")), 8, "kb").close()
    with pytest.raises(ServerCollectionMismatchError, match="8 dimensions, not 16"):
        ServerIndex(QdrantClient(path=str(tmp_path / "q")), 16, "kb")
    other = ServerIndex(QdrantClient(path=str(tmp_path / "q")), 16, "kb", prefix="team_")
    assert other.name == "team_kb" and other.count() == 0
    other.close()


def test_address_must_be_a_full_url() -> None:
    with pytest.raises(IndexServerAddressError, match="https://"):
        ServerIndex.connect("qdrant.example.org:6333", 8, "kb")


# The network guard ---------------------------------------------------------------------------


class _FakeQdrantHandler(BaseHTTPRequestHandler):
    """Answers the few REST calls that opening a new collection and counting make; records
    each request. Only here to show connections pass the guard; the engine itself is
    exercised above through local mode."""

    seen: ClassVar[list[tuple[str, str, str | None]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.seen.append((self.command, self.path, self.headers.get("api-key")))
        if self.path.endswith("/exists"):
            result: object = {"exists": False}
        elif self.path.endswith("/points/count"):
            result = {"count": 0}
        elif "/index" in self.path:
            result = {"operation_id": 1, "status": "completed"}
        else:
            result = True
        body = json.dumps({"result": result, "status": "ok", "time": 0.0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def off_device_server() -> Iterator[str]:
    """An HTTP server on 127.0.0.2, which the guard is told to treat as another machine."""
    _FakeQdrantHandler.seen = []
    server = ThreadingHTTPServer(("127.0.0.2", 0), _FakeQdrantHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    GUARD.treat_as_off_device("127.0.0.2")
    try:
        yield f"http://127.0.0.2:{server.server_address[1]}"
    finally:
        GUARD._off_device.discard("127.0.0.2")
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_server_calls_pass_the_guard_only_while_the_index_runs(off_device_server: str) -> None:
    index = ServerIndex.connect(off_device_server, 8, "kb", guard=GUARD)
    assert index.count() == 0
    index.close()
    paths = [p for _, p, _ in _FakeQdrantHandler.seen]
    assert paths[0] == "/collections/carrel_kb/exists"
    assert "/collections/carrel_kb" in paths and paths[-1] == "/collections/carrel_kb/points/count"
    # The allowance ended with the calls.
    before = len(GUARD.refused)
    try:
        with pytest.raises(ConnectionRefusedError):
            GUARD.check(("127.0.0.2", 6333), socket.AF_INET)
    finally:
        del GUARD.refused[before:]


def test_without_the_allowance_the_call_is_refused(off_device_server: str) -> None:
    before = len(GUARD.refused)
    client = QdrantClient(url=off_device_server, check_compatibility=False)
    try:
        with pytest.raises(Exception) as caught:  # the client wraps the guard's refusal
            client.collection_exists("carrel_kb")
        assert "127.0.0.2" in str(caught.value) or "refused" in str(caught.value).lower()
        assert GUARD.refused[before:] == ["127.0.0.2"]
        assert _FakeQdrantHandler.seen == []  # nothing reached the server
    finally:
        client.close()
        del GUARD.refused[before:]


def test_refusal_inside_the_index_is_said_plainly(off_device_server: str) -> None:
    """An index whose allowance names another host: the refusal reaches the person as is."""
    before = len(GUARD.refused)
    try:
        with pytest.raises(EgressRefusedError, match=r"127\.0\.0\.2"):
            ServerIndex(
                QdrantClient(url=off_device_server, check_compatibility=False),
                8,
                "kb",
                host="203.0.113.9",  # allows the wrong host: 127.0.0.2 stays refused
                guard=GUARD,
                where=off_device_server,
            )
    finally:
        del GUARD.refused[before:]
    assert _FakeQdrantHandler.seen == []


def test_unreachable_server_is_a_carrel_error(tmp_path: Path) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(IndexServerError, match="no answer"):
        ServerIndex.connect(f"http://127.0.0.1:{port}", 8, "kb", timeout=5)
