"""Vectors an earlier version of a file already has: a passage embedded the same way is not
embedded again.

A file is read anew when it changes, and when this Carrel reads files differently than the
one that indexed it (`app.rag.pipeline.READING`: a PDF's outline or its titles naming its
passages, plain text's headings). Either way most of its passages are often what they were:
an edited report keeps most of its paragraphs, and a new reading that only names sections
changes what BM25 reads and citations show, not what the embedder reads. Embedding is
nearly all of an ingest's time, so such passages take the vectors of the version they
replace, from the collection's own index (the same embedder and representation), looked
up by what they were made from: the passage's text, its heading path and whether it holds
table rows (`points.EMBEDDED_FROM`). The version's points stay in the index until the new
one is recorded (`Ingestor._commit`), so they are there to be read; one gone meanwhile is
embedded. A file of the same content recorded by another path (a copy, a folder moved)
lends its points the same way, and a passage that comes twice in a group of files
embedded together (copies added at once) is embedded once: the later takes the vectors
the earlier was just written with.

Only versions indexed by a reading at or after `EMBEDDED_SINCE` lend their vectors: it is
the first reading since which passages are embedded as now. A change to how a passage
becomes vectors (what `app.rag.passages.embed` does with it) must raise `READING` and set
`EMBEDDED_SINCE` to it, or old vectors would stand for text embedded differently now.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

from app.rag.chunker import Chunk
from app.rag.embedder import Embedder
from app.rag.passages import embed
from app.rag.pipeline import reading_of
from app.rag.points import Index
from app.rag.represent import Vectors

# The first `READING` whose passages are embedded as now (unchanged since issue 16's sixth
# round: "late", table rows each on their own, the heading line in front).
EMBEDDED_SINCE = 2


def embedded_key(heading: Sequence[str], text: str, records: bool) -> bytes:
    """A digest of what a passage's vectors are made from."""
    made_from = json.dumps([list(heading), text, records], ensure_ascii=False)
    return hashlib.blake2b(made_from.encode("utf-8"), digest_size=16).digest()


class Earlier:
    """The points of the versions a group of files replaces, by what each was embedded
    from; `embed` takes their vectors where a passage is the same, and embeds a passage
    that comes twice in a group once. `reused` counts the passages not embedded."""

    def __init__(self, index: Index, versions: Iterable[tuple[str, str]]) -> None:
        """`versions`: (source, content hash) of each file's version in the index now."""
        self.index = index
        self.reused = 0
        self.ids: dict[bytes, str] = {}
        for source, content_hash in versions:
            if reading_of(content_hash) < EMBEDDED_SINCE:
                continue
            for point, payload in index.passages(source, content_hash):
                heading = [str(h) for h in payload.get("heading") or []]
                key = embedded_key(
                    heading, str(payload.get("text", "")), bool(payload.get("records"))
                )
                self.ids.setdefault(key, point)

    def embed(
        self, embedder: Embedder, chunks: Sequence[Chunk], how: str, ids: Sequence[str]
    ) -> list[Vectors]:
        """`chunks`' vectors (as `passages.embed` makes them with representation `how`):
        an earlier version's where it was embedded from the same, the rest embedded now.
        `ids` are the points they will be written as: a later call takes their vectors for
        a passage embedded alike (a copy past this call, in the same group)."""
        keys = [embedded_key(c.heading, c.text, c.records) for c in chunks]
        wanted = {i: self.ids[k] for i, k in enumerate(keys) if k in self.ids}
        stored = self.index.vectors(sorted(set(wanted.values()))) if wanted else {}
        have = {i: stored[point] for i, point in wanted.items() if point in stored}
        # The rest, each passage once: copies in one group (a file twice) share one pass.
        first: dict[bytes, int] = {}
        for i, k in enumerate(keys):
            if i not in have:
                first.setdefault(k, i)
        fresh = embed(embedder, [chunks[i] for i in first.values()], how) if first else []
        made = dict(zip(first, fresh, strict=True))
        self.ids.update((k, ids[i]) for k, i in first.items())
        self.reused += len(chunks) - len(first)
        return [
            made[k] if k in made else Vectors(have[i][0], have[i][1] or [])
            for i, k in enumerate(keys)
        ]
