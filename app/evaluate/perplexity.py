"""Quantization loss on the person's own text: the perplexity of each installed quant
level of a model over a sample of a collection's passages, beside its size and speed.

Computed with llama-cpp-python's logits (`logits_all`): each passage is scored on its
own (BOS, then every token after the first predicted from those before it, up to the
context). `chunked=True` instead follows llama.cpp's `llama-perplexity` exactly (the
texts joined, cut into windows of `n_ctx` tokens, the first replaced by BOS, the second
half of each window scored), so the two can be compared on the same text.

Each model is loaded on the calling (worker) thread, scored, and closed before the next
loads; the Workbench's chat model is left as it was.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.evaluate.errors import EvaluateError
from app.library.quant_targets import base_name

if TYPE_CHECKING:
    from app.library.registry import ModelInfo, ModelRegistry

N_CTX = 512


@dataclass(frozen=True)
class Perplexity:
    """One model's perplexity over the sample: the figure, tokens scored, file size and
    how fast it scored them (tokens per second). Scoring computes and copies every
    position's logits, which reading a prompt in chat does not, so the speed compares quant
    levels with each other; a run's tokens/s is the speed a chat meets."""

    model: str
    quant: str
    perplexity: float
    tokens: int
    size_bytes: int
    tokens_per_s: float

    def describe(self) -> str:
        return (
            f"{self.model} ({self.quant}): perplexity {self.perplexity:.3f} over {self.tokens} "
            f"tokens, {self.size_bytes / 2**20:.0f} MiB, {self.tokens_per_s:.0f} tokens/s scored"
        )


def quant_family(registry: ModelRegistry, name: str) -> list[ModelInfo]:
    """`name` and the installed quant levels made from it (Carrel names a quantized copy
    after it with the level replaced, `quantized_name`; copies made before were
    `<name>.<LEVEL>`), largest file first."""
    base = registry.resolve(name)
    stem = base_name(base.name)
    family = [
        m
        for m in registry.list()
        if m.name == base.name
        or m.name.startswith(base.name + ".")
        or (stem != base.name and base_name(m.name) == stem)
    ]
    # Resolving assembles a packaged model into the models folder, so it has a path.
    return sorted((registry.resolve(m.name) for m in family), key=lambda m: -m.size)


def perplexity(
    path: Path,
    texts: Sequence[str],
    *,
    n_ctx: int = N_CTX,
    chunked: bool = False,
    threads: int | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> tuple[float, int, float]:
    """(perplexity, tokens scored, tokens scored per second) of the model at `path`."""
    import llama_cpp
    import numpy as np

    llm = llama_cpp.Llama(
        model_path=str(path),
        n_ctx=n_ctx,
        n_batch=n_ctx,
        logits_all=True,
        n_gpu_layers=0,
        n_threads=threads,
        verbose=False,
    )
    try:
        windows = _chunks(llm, texts, n_ctx) if chunked else _passages(llm, texts, n_ctx)
        nll, count, read, seconds = 0.0, 0, 0, 0.0
        if windows:  # llama.cpp's first evaluation pays a warm-up: not part of the speed
            llm.eval(windows[0][0][:8])
        for tokens, first in windows:
            if cancelled():
                raise EvaluateError("Perplexity was stopped; nothing was kept.")
            llm.reset()  # type: ignore[no-untyped-call]
            t0 = time.perf_counter()
            llm.eval(tokens)
            seconds += time.perf_counter() - t0
            read += len(tokens)
            logits = np.asarray(llm.scores[: len(tokens)], dtype=np.float64)
            # Position i predicts token i + 1.
            rows = logits[first : len(tokens) - 1]
            top = rows.max(axis=1, keepdims=True)
            log_z = top[:, 0] + np.log(np.exp(rows - top).sum(axis=1))
            targets = np.asarray(tokens[first + 1 :])
            nll += float((log_z - rows[np.arange(len(targets)), targets]).sum())
            count += len(targets)
        if count == 0:
            raise EvaluateError("The sample is too short to measure perplexity; add passages.")
        return math.exp(nll / count), count, read / seconds if seconds else 0.0
    finally:
        llm.close()


def _passages(llm: Any, texts: Sequence[str], n_ctx: int) -> list[tuple[list[int], int]]:
    out = []
    for text in texts:
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)[:n_ctx]
        if len(tokens) >= 2:
            out.append((tokens, 0))
    return out


def _chunks(llm: Any, texts: Sequence[str], n_ctx: int) -> list[tuple[list[int], int]]:
    """llama.cpp's windows: whole text tokenized once, BOS first in each window, the
    second half scored (`first = n_ctx / 2`)."""
    tokens = llm.tokenize("\n\n".join(texts).encode("utf-8"), add_bos=True, special=False)
    bos = llm.token_bos()
    add_bos = bool(llm._model.add_bos_token()) if hasattr(llm._model, "add_bos_token") else True
    out = []
    for i in range(len(tokens) // n_ctx):
        window = list(tokens[i * n_ctx : (i + 1) * n_ctx])
        if add_bos:
            window[0] = bos
        out.append((window, n_ctx // 2))
    if not out:
        raise EvaluateError(f"llama.cpp's way needs at least {n_ctx} tokens of text.")
    return out


def measure(
    models: Sequence[ModelInfo],
    texts: Sequence[str],
    *,
    n_ctx: int = N_CTX,
    on_model: Callable[[Perplexity], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[Perplexity]:
    """Each model's perplexity over the same texts, one model loaded at a time."""
    out = []
    for info in models:
        ppl, count, speed = perplexity(Path(info.path), texts, n_ctx=n_ctx, cancelled=cancelled)
        result = Perplexity(info.name, info.quant, ppl, count, info.size, speed)
        out.append(result)
        if on_model is not None:
            on_model(result)
    return out
