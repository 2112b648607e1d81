"""Contestants: who answers a test set, and how.

A local contestant is a library model (by name, i.e. a quant file) with load settings
(context, GPU layers, KV-cache type) and retrieval settings (top-k, mode, reranker); a
remote one is an endpoint the person set up, asked through the egress gate, with the same
retrieval settings. Written as a spec for the command line and kept as one in the store:

    local:SmolLM2-135M-Instruct.Q4_1?ctx=2048&gpu=0&kv=q8_0&k=4&mode=hybrid
    local:SmolLM2-135M-Instruct.Q4_1?k=4&rerank=bge-reranker-base    (or rerank=none)
    remote:team?k=3

Without `rerank` a contestant searches as the collection is set up (its reranker, if any).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from app.evaluate.errors import EvaluateError
from app.library.load_options import KV_CACHE_TYPES

MODES = ("hybrid", "dense", "bm25")
_LOAD_KEYS = {"ctx": "context_length", "gpu": "gpu_layers", "kv": "kv_type"}


@dataclass(frozen=True)
class Contestant:
    """One way of answering: `kind` "local" (a model in the library) or "remote" (an
    endpoint's name), its load settings (local only) and retrieval settings."""

    kind: str
    name: str
    context: int | None = None
    gpu_layers: int | None = None
    kv_type: str | None = None
    top_k: int = 4
    mode: str = "hybrid"
    # None: the collection's own reranker (if any); "": none; a name: that reranker.
    reranker: str | None = None

    @property
    def key(self) -> str:
        """The canonical spec: what results, reviews and the routing policy refer to."""
        q: dict[str, Any] = {}
        if self.context is not None:
            q["ctx"] = self.context
        if self.gpu_layers is not None:
            q["gpu"] = self.gpu_layers
        if self.kv_type is not None:
            q["kv"] = self.kv_type
        q["k"] = self.top_k
        q["mode"] = self.mode
        if self.reranker is not None:
            q["rerank"] = self.reranker or "none"
        return f"{self.kind}:{self.name}?{urlencode(q)}"

    @property
    def is_remote(self) -> bool:
        return self.kind == "remote"

    def load_overrides(self) -> dict[str, Any]:
        """The load options as the Workbench takes them (`load_model(overrides=…)`)."""
        out: dict[str, Any] = {}
        if self.context is not None:
            out["context_length"] = self.context
        if self.gpu_layers is not None:
            out["gpu_layers"] = self.gpu_layers
        if self.kv_type is not None:
            out["kv_type"] = self.kv_type
        return out

    def describe(self) -> str:
        """'SmolLM2-135M-Instruct.Q4_1 · ctx 2048 · kv q8_0 · top-4 hybrid' for people."""
        bits = [self.name if not self.is_remote else f"{self.name} (remote)"]
        if self.context is not None:
            bits.append(f"ctx {self.context}")
        if self.gpu_layers is not None:
            bits.append(f"gpu {self.gpu_layers}")
        if self.kv_type is not None:
            bits.append(f"kv {self.kv_type}")
        bits.append(f"top-{self.top_k} {self.mode}")
        if self.reranker is not None:
            bits.append(f"reranked by {self.reranker}" if self.reranker else "no reranker")
        return " · ".join(bits)

    @classmethod
    def parse(cls, spec: str) -> Contestant:
        """A contestant from its spec (see the module); a mistake says which part."""
        kind, _, rest = spec.partition(":")
        name, _, query = rest.partition("?")
        if kind not in ("local", "remote") or not name:
            raise EvaluateError(
                f"'{spec}' is not a contestant: write local:MODEL[?ctx=N&gpu=N&kv=TYPE&k=N"
                "&mode=MODE&rerank=NAME|none] or remote:ENDPOINT[?k=N&mode=MODE&rerank=…]."
            )
        values: dict[str, Any] = {}
        for k, v in parse_qsl(query, keep_blank_values=True):
            try:
                if k in ("ctx", "gpu", "k"):
                    values[{"k": "top_k", "ctx": "context", "gpu": "gpu_layers"}[k]] = int(v)
                elif k == "kv":
                    if v not in KV_CACHE_TYPES:
                        raise ValueError(v)
                    values["kv_type"] = v
                elif k == "mode":
                    if v not in MODES:
                        raise ValueError(v)
                    values["mode"] = v
                elif k == "rerank":
                    if not v:
                        raise ValueError(v)
                    values["reranker"] = "" if v == "none" else v
                else:
                    raise ValueError(k)
            except ValueError as exc:
                raise EvaluateError(
                    f"'{k}={v}' in '{spec}' is not a setting: ctx, gpu and k take numbers, kv "
                    f"one of {', '.join(KV_CACHE_TYPES)}, mode one of {', '.join(MODES)}, "
                    "rerank a reranking model's name or none."
                ) from exc
        if kind == "remote" and any(k in values for k in ("context", "gpu_layers", "kv_type")):
            raise EvaluateError(f"'{spec}': a remote endpoint takes no load settings.")
        if values.get("top_k", 4) < 0:
            raise EvaluateError(f"'{spec}': top-k is 0 (no retrieval) or more.")
        return cls(kind, name, **values)
