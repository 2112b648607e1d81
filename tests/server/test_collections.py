"""Carrel's own routes and extras: embeddings from a collection's embedder, a
collection's search with files, pages, offsets and scores, and cited answers."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.server.conftest import COLLECTION, MODEL, Served


def test_embeddings_equal_the_collections_own(served: Served) -> None:
    texts = ["copper in the rocks", "lantern fish glow blue"]
    reply = served.client.embeddings.create(model=COLLECTION, input=texts)  # base64 by default
    expected = served.wb.documents.embedder_of(COLLECTION).embed(texts)
    assert [d.index for d in reply.data] == [0, 1]
    for got, want in zip(reply.data, expected, strict=True):
        assert got.embedding == pytest.approx(want, abs=1e-6)
    floats = served.client.embeddings.create(
        model=COLLECTION, input="copper", encoding_format="float"
    )
    assert len(floats.data[0].embedding) == len(expected[0])
    with pytest.raises(openai.NotFoundError, match="nowhere"):
        served.client.embeddings.create(model="nowhere", input="x")


def test_collections_are_listed_and_searched(served: Served) -> None:
    with httpx.Client(base_url=served.server.url) as http:
        _search(http, served)


def _search(http: httpx.Client, served: Served) -> None:
    listed = http.get("/collections").json()["data"]
    assert [c["id"] for c in listed] == [COLLECTION] and listed[0]["files"] == 2
    found = http.post(
        f"/collections/{COLLECTION}/search",
        json={"query": "When was the oldest bridge built?", "k": 3},
    ).json()
    hits = found["data"]
    assert 1 <= len(hits) <= 3 and [h["n"] for h in hits] == list(range(1, len(hits) + 1))
    top = hits[0]
    assert top["file"].endswith("kettle.md") and "1652" in top["text"]
    assert {"page", "page_end", "start", "end", "score", "heading"} <= top.keys()
    assert top["end"] > top["start"] >= 0
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    only = http.post(
        f"/collections/{COLLECTION}/search",
        json={"query": "bridge", "files": [str(served.docs / "lantern.md")]},
    ).json()["data"]
    assert only and all(h["file"].endswith("lantern.md") for h in only)
    missing = http.post("/collections/nowhere/search", json={"query": "x"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "collection_not_found"
    bad = http.post(f"/collections/{COLLECTION}/search", json={"query": ""})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "query"


def test_a_chat_naming_a_collection_is_answered_with_numbered_citations(served: Served) -> None:
    question = "Why is the water of the Kettle river green?"
    reply = served.client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": question}],
        max_tokens=40,
        seed=1,
        extra_body={"collections": [COLLECTION]},
    )
    citations = (reply.model_extra or {})["citations"]
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    assert any("copper" in c["text"] for c in citations)
    assert all(c["collection"] == COLLECTION and c["file"].endswith(".md") for c in citations)
    assert reply.choices[0].message.content

    chunks = list(
        served.client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": question}],
            max_tokens=10,
            stream=True,
            extra_body={"collections": COLLECTION},
        )
    )
    last = chunks[-1].model_extra or {}
    assert last["citations"] == citations
