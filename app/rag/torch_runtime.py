"""The embedder's torch side: whether torch could see a GPU (without importing it), the
intra-op threads of one call, int8 weights for the Linear layers, and whether a model's own
vector is the mean of its tokens. The reasons and figures are in `app.rag.embedder`'s
docstring."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger("app.rag.embedder")


def torch_may_see_a_gpu() -> bool:
    """Whether torch could run the embedder on a GPU: False for a CPU-only torch build,
    read from its version file without importing torch (~1.3 s); else torch is asked."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return False
    try:
        version = (Path(next(iter(spec.submodule_search_locations))) / "version.py").read_text()
    except OSError:
        version = ""
    builds = re.findall(r"^(cuda|hip)\b[^=]*=\s*(.+)$", version, re.MULTILINE)
    if builds and all(value.strip() == "None" for _, value in builds):
        return False
    import torch

    return bool(torch.cuda.is_available())


@contextlib.contextmanager
def intra_op_threads(n: int | None) -> Iterator[None]:
    """Run the body with `n` torch intra-op threads on this thread (None: unchanged)."""
    import torch

    before = torch.get_num_threads()
    if n is None or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def quantize(model: SentenceTransformer) -> bool:
    """Give the model's Linear layers int8 weights, one scale per output channel, in place
    (torch's dynamic quantization: activations are quantized per batch, on the fly); False,
    with the reason logged, where this torch cannot (the model then stays fp32)."""
    import warnings

    import torch

    transformer: Any = model[0]
    try:
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        with warnings.catch_warnings():  # torch marks the eager API deprecated (see module)
            warnings.simplefilter("ignore")
            quantize_dynamic(  # type: ignore[no-untyped-call]
                transformer.model,
                {torch.nn.Linear: per_channel_dynamic_qconfig},
                dtype=torch.qint8,
                inplace=True,
            )
    except Exception:  # an API torch has dropped, or an engine this CPU lacks
        log.exception("int8 weights are not available here; the embedder stays fp32")
        return False
    return True


def mean_pooled(model: SentenceTransformer) -> bool:
    """Whether the model's own vector is the normalised mean of its tokens (as
    `pool_spans`'s)."""
    modules: list[Any] = list(model)
    pooling = modules[1] if len(modules) > 1 else None
    normalised = len(modules) == 3 and type(modules[2]).__name__ == "Normalize"
    return normalised and str(getattr(pooling, "pooling_mode", "")) == "mean"
