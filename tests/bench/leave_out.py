"""Tokens left out of what the embedding network reads: punctuation, and English function
words, so that the same network runs over about half the tokens (issue 16 in BENCHMARKS.md,
fifteenth round: not shipped, both lost retrieval). They are left out after tokenizing and
before the network runs, of passages and queries alike (`leave_out` wraps an
`OnnxEncoder`'s tokenizer), so that each kept token keeps its character offsets and a
sentence's span still pools the tokens inside it (`app.rag.pooling`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

# The ways, by the name `bench_rag_eval --leave-out` gives them.
WAYS = ("none", "punctuation", "function-words")

# NLTK's English stop-word list less its negations and contraction pieces (no, nor, not,
# the n't forms, s, t, d, ll, m, o, re, ve, y, ma, ain): fixed before it was measured.
_WORDS = """i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such only own same so than too very can will just should
    now"""
FUNCTION_WORDS = frozenset(_WORDS.split())
_SPECIAL = frozenset({"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"})


def _punctuation(token: str) -> bool:
    text = token.removeprefix("##")
    return bool(text) and not any(c.isalnum() for c in text) and token not in _SPECIAL


class LeaveOut:
    """Which token ids of one vocabulary are left out (`keep` says per text)."""

    def __init__(self, vocab: Mapping[str, int], way: str) -> None:
        if way not in WAYS:
            raise ValueError(f"leave out one of {', '.join(WAYS)}, not {way!r}")
        self.way = way
        dropped = {i for t, i in vocab.items() if way != "none" and _punctuation(t)}
        if way == "function-words":
            dropped |= {vocab[w] for w in FUNCTION_WORDS if w in vocab}
        self._dropped = np.fromiter(sorted(dropped), np.int64)
        self._continuing = np.fromiter(
            sorted(i for t, i in vocab.items() if t.startswith("##")), np.int64
        )

    def keep(self, ids: np.ndarray) -> np.ndarray | None:
        """A mask of the tokens of `ids` the network reads (None: all of them). A token is
        left out unless the next one continues its word."""
        if not len(self._dropped):
            return None
        out = np.isin(ids, self._dropped)
        out[:-1] &= ~np.isin(ids[1:], self._continuing)
        return ~out


@dataclass
class Kept:
    """One text's encoding less the tokens left out (what `OnnxEncoder.batches` reads)."""

    ids: list[int]
    attention_mask: list[int]
    type_ids: list[int]
    offsets: list[tuple[int, int]]


class Filtered:
    """A tokenizer whose `encode_batch` leaves out `way`'s tokens."""

    def __init__(self, tokenizer: Any, way: str) -> None:
        self.tokenizer = tokenizer
        self.leave = LeaveOut(tokenizer.get_vocab(), way)

    def encode_batch(self, texts: list[str]) -> list[Any]:
        out: list[Any] = []
        for e in self.tokenizer.encode_batch(texts):
            keep = self.leave.keep(np.asarray(e.ids, np.int64))
            if keep is None:
                out.append(e)
                continue
            rows = [i for i, k in enumerate(keep) if k]
            out.append(
                Kept(
                    [e.ids[i] for i in rows],
                    [e.attention_mask[i] for i in rows],
                    [e.type_ids[i] for i in rows],
                    [e.offsets[i] for i in rows],
                )
            )
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tokenizer, name)


def leave_out(encoder: Any, way: str) -> None:
    """Make `encoder` (an `OnnxEncoder`) leave out `way`'s tokens from here on."""
    if way != "none":
        encoder.tokenizer = Filtered(encoder.tokenizer, way)
