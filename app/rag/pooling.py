"""Mean pooling of a text's token vectors, overall and per character span: how a `late`
passage gets its own vector and its sentences' from one pass of the model ("late chunking",
Günther et al., 2024). `SentenceEmbedder.embed_spans` pools the batches of either runtime
(torch or onnxruntime) with it."""

from __future__ import annotations

import numpy as np


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def pool_spans(
    hidden: np.ndarray, mask: np.ndarray, offsets: np.ndarray, spans: list[tuple[int, int]]
) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """Mean pooling of one text's tokens, overall and per character span (special tokens,
    which have empty offsets, count only in the overall mean, as sentence-transformers
    pools them)."""
    whole = _unit((hidden * mask[:, None]).sum(axis=0) / max(float(mask.sum()), 1.0))
    real = (mask > 0) & (offsets[:, 1] > offsets[:, 0])
    parts: list[np.ndarray | None] = []
    for a, b in spans:
        inside = real & (offsets[:, 0] >= a) & (offsets[:, 1] <= b)
        parts.append(_unit(hidden[inside].mean(axis=0)) if inside.any() else None)
    return whole, parts
