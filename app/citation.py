"""`Citation`: a passage a search hit or a reply points at, and where it is.

One type from end to end: retrieval makes it (`app.rag.retrieve`, with the collection it
came from), the prompt numbers it (`app.prompt`), the reply stores it with its message
(`to_record`; records written before offsets were kept are read as well, `from_record`),
and the faces show it (`where`) and open it in the viewer at its page and character
offsets, so of two identical passages the one cited is the one shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# How much of a passage is shown under a reply (the whole passage is in the viewer).
EXCERPT_CHARS = 240


@dataclass(frozen=True)
class Citation:
    """A passage: its file, page range, heading path and text; `start`/`end` are its
    character offsets as the chunker gave them (in its page for a paged document, in the
    whole text otherwise; both 0 when unknown); `score` its search score; `collection`
    where it was found; `n` its number among a reply's sources (0 for a search hit)."""

    source: str
    page: int | None = None
    page_end: int | None = None
    heading: str = ""
    text: str = ""
    start: int = 0
    end: int = 0
    score: float = 0.0
    collection: str = ""
    n: int = 0
    # The reranker's score, when the collection has one (`score` stays the fusion's).
    rerank: float | None = None

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

    def excerpt(self, limit: int = EXCERPT_CHARS) -> str:
        """The passage on one line, cut at a word near `limit` characters with "…"."""
        text = " ".join(self.text.split())
        if len(text) <= limit:
            return text
        cut = text.rfind(" ", 0, limit)
        return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + "…"

    def numbered(self, n: int) -> Citation:
        """This passage as source number `n` of a reply."""
        return dataclasses.replace(self, n=n)

    def as_dict(self) -> dict[str, Any]:
        """A search hit as `carrel search --json` prints it."""
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

    def to_record(self) -> dict[str, Any]:
        """Everything, as it is stored with a reply."""
        out = {**dataclasses.asdict(self), "score": round(self.score, 6)}
        if self.rerank is not None:
            out["rerank"] = round(self.rerank, 6)
        return out

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Citation:
        """A stored citation; older records lack the offsets (read as 0: unknown) and
        values of the wrong type are read as absent."""

        def number(key: str) -> int | None:
            value = record.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        score = record.get("score")
        rerank = record.get("rerank")
        return cls(
            source=str(record.get("source") or ""),
            page=number("page"),
            page_end=number("page_end"),
            heading=str(record.get("heading") or ""),
            text=str(record.get("text") or ""),
            start=number("start") or 0,
            end=number("end") or 0,
            score=float(score) if isinstance(score, int | float) else 0.0,
            collection=str(record.get("collection") or ""),
            n=number("n") or 0,
            rerank=float(rerank) if isinstance(rerank, int | float) else None,
        )
