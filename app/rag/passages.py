"""How a passage becomes dense vectors: one pass of the model per passage.

Shipped: "late" (below): one pass per passage, the passage's vector and its sentences'
vectors pooled from it. Also kept, to compare and for collections made with them:
"passage", one vector per passage and no sentence vectors, and "sentences" (`represent`,
every sentence on its own: Carrel's way before issue 16).

How "late" was chosen (issue 16 in BENCHMARKS.md). The first round named its rule before
running: a candidate qualifies on a development set if its hybrid MRR@10 is within 0.01
and its hit@5 within one question of "sentences". Picked on the second development set
(dev2), both "late" and "passage" qualified and the faster, "passage", was shipped; picked
on the first (dev), only "late" qualified. The fourth round shipped the candidate that
qualifies whichever set it is picked on: "late". The project's evaluation set, which
no choice had used before, had been run by then with all three (onnxruntime int8), so it
is no longer blind to this choice; its figures: "sentences" hit@1 0.772, hit@5 0.912,
MRR@10 0.834; "late" 0.684 / 0.912 / 0.778; "passage" 0.614 / 0.860 / 0.729. The fifth
round ran "sentences" on both development sets with the same runtime: below "late" on each
(hybrid MRR@10 dev2 0.797 against 0.836, dev 0.754 against 0.769) at 1.3-1.5x its CPU time.
The development sets and the evaluation set disagree; the choice stays the development
sets'.

The "late" representation:

`represent` embeds every sentence of a passage on its own and takes their mean as the
passage vector. Each sentence is then a short sequence of its own, with its own special
tokens and the heading line repeated in front of it: about as many word pieces in all as
the passage (1.05x on the New Maintainers' Guide), but ~7 sequences where one would do,
each with the model's per-sequence work. Here the passage
(heading line and text) goes through the model once: its vector is the usual mean of all
its tokens, and each sentence's vector is the mean of that sentence's tokens out of the
same pass ("late chunking", Günther et al. 2024): the tokens have seen the whole passage,
so a sentence keeps its context. The index stores and uses them exactly as before (the
first stage on the passage vector, re-ranked by the best sentence).

A passage longer than the model's limit (256 word pieces for MiniLM) loses its tail in
the single pass; the sentences cut off are embedded on their own, as `represent` does.
Embedders without `embed_spans` (a GGUF model run by llama.cpp) get one vector per
passage and no sentence vectors.

Which representation a collection was built with is recorded with it
(`REPRESENTATIONS`); searches read either the same way, so older collections keep working.

Table rows. A CSV file's passages hold rows, not sentences of one text: pooled from one
pass they share the whole table's context and blur together (dev2's CSV questions: hybrid
hit@1 0.286 under "late" against 0.714 under "sentences"). So a "late" collection embeds a
passage of rows (`Chunk.records`) as "sentences" does, each piece on its own (`RECORDS`).
Chosen in issue 16's sixth round by a rule named before it ran
(`tests/bench/RULES.md`): picked on the tabular set (`tests/rag/tab`, 42
questions over ISO code lists and the tz table) among "late", "sentences" and "rows"
(rows whole): hybrid MRR@10 0.532 / 0.586 / 0.565, hit@5 0.619 / 0.714 / 0.643 ("rows"
lost a question "late" found); reported on dev2's CSV questions: MRR@10 0.500 → 0.776. It
costs ~1.25x the CPU on tables; other passages are embedded as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from app.rag.chunker import Chunk
from app.rag.embedder import Embedder
from app.rag.represent import (
    Vectors,
    embed_chunks,
    heading_line,
    rows,
    sentence_spans,
    sentences,
)

# "late": one pass per passage, sentences pooled from it (shipped); "passage": one vector
# per passage, no sentences; "sentences": every sentence on its own (until issue 16).
REPRESENTATIONS = ("passage", "late", "sentences")
DEFAULT_REPRESENTATION = "late"
# How "late" embeds a passage of table rows (`Chunk.records`, a CSV file's): "late" like
# any passage, "sentences" as `represent` does (shipped), "rows" each row (or a few short
# ones) whole. See "Table rows" above.
RECORD_WAYS = ("late", "sentences", "rows")
RECORDS = "sentences"


def embed(embedder: Embedder, chunks: Sequence[Chunk], how: str) -> list[Vectors]:
    """The dense vectors of `chunks` as representation `how` makes them."""
    if how == "sentences":
        return embed_chunks(embedder, chunks)
    spans_of: Any = getattr(embedder, "embed_spans", None)
    if how == "passage" or spans_of is None:
        texts = [heading_line(c) + c.text for c in chunks]
        return [Vectors(v, []) for v in embedder.embed(texts)]
    tables = [i for i, c in enumerate(chunks) if c.records] if RECORDS != "late" else []
    if not tables:
        return _late(embedder, spans_of, chunks)
    texts_at = [i for i, c in enumerate(chunks) if not c.records]
    pieces = rows if RECORDS == "rows" else sentences
    out: dict[int, Vectors] = dict(
        zip(tables, embed_chunks(embedder, [chunks[i] for i in tables], pieces), strict=True)
    )
    if texts_at:
        late = _late(embedder, spans_of, [chunks[i] for i in texts_at])
        out.update(zip(texts_at, late, strict=True))
    return [out[i] for i in range(len(chunks))]


def _late(embedder: Embedder, spans_of: Any, chunks: Sequence[Chunk]) -> list[Vectors]:
    texts, spans = [], []
    for c in chunks:
        head = heading_line(c)
        texts.append(head + c.text)
        spans.append([(a + len(head), b + len(head)) for a, b in sentence_spans(c.text)])
    results = spans_of(texts, spans)
    # Sentences past the model's limit: embedded on their own, all in one call.
    missing = [
        (i, j, heading_line(c) + texts[i][a:b])
        for i, c in enumerate(chunks)
        for j, (a, b) in enumerate(spans[i])
        if results[i][1][j] is None
    ]
    extra = embedder.embed([text for _, _, text in missing]) if missing else []
    filled: dict[tuple[int, int], list[float]] = {
        (i, j): v for (i, j, _), v in zip(missing, extra, strict=True)
    }
    out = []
    for i, (whole, parts) in enumerate(results):
        rows = [p.tolist() if p is not None else filled[(i, j)] for j, p in enumerate(parts)]
        out.append(Vectors(np.asarray(whole, dtype=np.float32).tolist(), rows))
    return out
