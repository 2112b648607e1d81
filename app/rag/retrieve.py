"""`Retriever`: hybrid search over a collection, results as `Citation`s."""

from __future__ import annotations

from app.citation import Citation
from app.rag.embedder import Embedder
from app.rag.index import Index, Mode
from app.rag.points import shown_heading


class Retriever:
    """Embeds the query and asks the index; `mode` picks hybrid (both fused), dense or BM25.
    Each hit is a `Citation` of the collection `collection`."""

    def __init__(self, index: Index, embedder: Embedder, collection: str = "") -> None:
        self.index = index
        self.embedder = embedder
        self.collection = collection

    def search(
        self,
        query: str,
        k: int = 10,
        sources: list[str] | None = None,
        mode: Mode = "hybrid",
        dense: list[float] | None = None,
    ) -> list[Citation]:
        """The best `k` passages; `dense` is the query's vector when it was made already."""
        if dense is None and mode != "bm25":
            dense = self.embedder.embed([query])[0]
        hits = self.index.search(dense, query, k, sources=sources, mode=mode)
        return [
            Citation(
                source=str(h.payload.get("source", "")),
                page=h.payload.get("page"),
                page_end=h.payload.get("page_end"),
                heading=shown_heading(h.payload),
                text=str(h.payload.get("text", "")),
                start=int(h.payload.get("start") or 0),
                end=int(h.payload.get("end") or 0),
                score=h.score,
                collection=self.collection,
            )
            for h in hits
        ]
