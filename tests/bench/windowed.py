"""Late chunking with the attention held to a window of sentences (issue 16, fifteenth
round; RULES.md): one pass over the passage as `late` makes, but a token of a sentence
attends only to the tokens of the sentences within `window` of its own and to the passage's
tokens outside any sentence (`[CLS]`, `[SEP]`, the heading line), which attend only to one
another. Window 0 is close to `sentences` (a sentence with its heading), no window is
`late`. Torch only (the mask is a 4-D one the ONNX exports do not take): `windowed(embedder,
window)` replaces a torch `SentenceEmbedder`'s `embed_spans`; queries are embedded as
before."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.rag.pooling import pool_spans


def groups(offsets: np.ndarray, mask: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Each token's sentence (its index in `spans`), -1 for a token outside every sentence
    (the special tokens, the heading line) and -2 for padding."""
    out = np.full(len(offsets), -1, np.int64)
    out[mask == 0] = -2
    real = (mask > 0) & (offsets[:, 1] > offsets[:, 0])
    for j, (a, b) in enumerate(spans):
        out[real & (offsets[:, 0] >= a) & (offsets[:, 1] <= b)] = j
    return out


def allowed(group: np.ndarray, window: int) -> np.ndarray:
    """Which token (row) may attend to which (column)."""
    g, h = group[:, None], group[None, :]
    outside = (g == -1) & (h == -1)
    near = (g >= 0) & (h >= 0) & (np.abs(g - h) <= window)
    return (outside | near | ((g >= 0) & (h == -1))) & (h != -2)


def windowed(embedder: Any, window: int) -> None:
    """Make `embedder` (a `SentenceEmbedder` on torch) pool its spans from passes whose
    attention is held to `window` sentences either side."""
    import torch

    model = embedder._torch_model()
    transformer = model[0]
    tokenizer = transformer.tokenizer
    network = transformer.auto_model
    limit = int(model.max_seq_length or 256)

    def embed_spans(
        texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> list[tuple[np.ndarray, list[np.ndarray | None]]]:
        out: list[Any] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), embedder.batch_size):
            part = order[start : start + embedder.batch_size]
            encoded = tokenizer(
                [texts[i] for i in part],
                padding=True,
                truncation=True,
                max_length=limit,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            offsets = encoded.pop("offset_mapping").numpy()
            mask = encoded["attention_mask"].numpy().astype(np.float32)
            rules = np.stack(
                [
                    allowed(groups(offsets[row], mask[row], spans[i]), window)
                    for row, i in enumerate(part)
                ]
            )
            bias = np.where(rules, 0.0, torch.finfo(torch.float32).min).astype(np.float32)
            feed = dict(encoded)
            feed["attention_mask"] = torch.from_numpy(bias[:, None, :, :])
            with torch.inference_mode():
                hidden = network(**feed).last_hidden_state.float().numpy()
            for row, i in enumerate(part):
                out[i] = pool_spans(hidden[row], mask[row], offsets[row], spans[i])
        return out

    embedder.embed_spans = embed_spans
