"""How a passage becomes dense vectors: one pass of the model per passage.

Shipped: "passage", one vector per passage (heading line and text), no sentence vectors.
Also kept, to compare and for collections made with them: "late" (below) and
"sentences" (`represent`, every sentence on its own: Carrel's way before issue 16).
Chosen on the second development set by the rule named before it was run (the faster of
the candidates within 0.01 MRR@10 and one question of hit@5 of "sentences"): there both
candidates scored above "sentences" (hybrid hit@5 0.947 against 0.908, MRR@10 0.824 and
0.832 against 0.810) and "passage" took 0.93x the CPU time of "late" (0.67x of
"sentences"). Reported on the first development set it lost 2 questions of hit@5 and
0.033 MRR@10 against "sentences", where "late" lost none: figures in BENCHMARKS.md
(issue 16); the independent set should decide between the two.

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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from app.rag.chunker import Chunk
from app.rag.embedder import Embedder
from app.rag.represent import Vectors, embed_chunks, heading_line, sentence_spans

# "passage": one vector per passage, no sentences (shipped); "late": one pass per
# passage, sentences pooled from it; "sentences": every sentence on its own (until issue 16).
REPRESENTATIONS = ("passage", "late", "sentences")
DEFAULT_REPRESENTATION = "passage"


def embed(embedder: Embedder, chunks: Sequence[Chunk], how: str) -> list[Vectors]:
    """The dense vectors of `chunks` as representation `how` makes them."""
    if how == "sentences":
        return embed_chunks(embedder, chunks)
    spans_of: Any = getattr(embedder, "embed_spans", None)
    if how == "passage" or spans_of is None:
        texts = [heading_line(c) + c.text for c in chunks]
        return [Vectors(v, []) for v in embedder.embed(texts)]
    return _late(embedder, spans_of, chunks)


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
