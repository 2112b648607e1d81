"""`Retriever`: hybrid search over a collection, results as `Citation`s."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.rag.embedder import Embedder
from app.rag.index import Index, Mode


@dataclass(frozen=True)
class Citation:
    """A passage that answers a query: file, page range, heading path, score and text."""

    source: str
    page: int | None
    page_end: int | None
    heading: str
    score: float
    text: str
    start: int = 0
    end: int = 0
    # The reranker's score, when the collection has one (`score` stays the fusion's).
    rerank: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "page": self.page,
            "page_end": self.page_end,
            "heading": self.heading,
            "score": round(self.score, 6),
            "text": self.text,
        }
        if self.rerank is not None:
            out["rerank_score"] = round(self.rerank, 6)
        return out

    @property
    def where(self) -> str:
        """'manual.pdf p. 3–4 › Install' for people."""
        place = Path(self.source).name
        if self.page is not None:
            pages = (
                f"{self.page}–{self.page_end}"
                if self.page_end and self.page_end != self.page
                else str(self.page)
            )
            place += f" p. {pages}"
        if self.heading:
            place += f" › {self.heading}"
        return place


class Retriever:
    """Embeds the query and asks the index; `mode` picks hybrid (both fused), dense or BM25."""

    def __init__(self, index: Index, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder

    def search(
        self,
        query: str,
        k: int = 10,
        sources: list[str] | None = None,
        mode: Mode = "hybrid",
    ) -> list[Citation]:
        dense = None if mode == "bm25" else self.embedder.embed([query])[0]
        hits = self.index.search(dense, query, k, sources=sources, mode=mode)
        return [
            Citation(
                source=str(h.payload.get("source", "")),
                page=h.payload.get("page"),
                page_end=h.payload.get("page_end"),
                heading=" › ".join(h.payload.get("heading") or []),
                score=h.score,
                text=str(h.payload.get("text", "")),
                start=int(h.payload.get("start") or 0),
                end=int(h.payload.get("end") or 0),
            )
            for h in hits
        ]
