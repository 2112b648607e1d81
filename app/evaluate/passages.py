"""A sample of a collection's passages, read from its index (for drafting questions and
for perplexity), the same every time for the same seed."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from app.citation import Citation
from app.evaluate.errors import EvaluateError

if TYPE_CHECKING:
    from app.rag.service import Documents

PAGE = 256


def sample_passages(
    documents: Documents, collection: str, n: int, seed: int = 0, min_chars: int = 80
) -> list[Citation]:
    """Up to `n` passages of at least `min_chars` characters, drawn at random by `seed`."""
    from app.rag.points import shown_heading  # the index's engine: only when used

    index: Any = documents.index(collection, reading=True)
    if not hasattr(index, "scroll"):
        raise EvaluateError(
            f"The collection '{collection}' lives on a server whose passages cannot be listed "
            "here; draft questions from a collection on this disk."
        )
    found: list[Citation] = []
    offset: Any = None
    while True:
        hits, offset = index.scroll(offset, PAGE)
        for h in hits:
            p = h.payload
            text = str(p.get("text", ""))
            if len(text) >= min_chars:
                found.append(
                    Citation(
                        source=str(p.get("source", "")),
                        page=p.get("page"),
                        page_end=p.get("page_end"),
                        heading=shown_heading(p),
                        text=text,
                        start=int(p.get("start") or 0),
                        end=int(p.get("end") or 0),
                        collection=collection,
                    )
                )
        if offset is None:
            break
    if not found:
        raise EvaluateError(f"The collection '{collection}' has no passages; add documents first.")
    found.sort(key=lambda c: (c.source, c.page or 0, c.start))
    return random.Random(seed).sample(found, min(n, len(found)))
