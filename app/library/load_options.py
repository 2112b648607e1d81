"""How a model is loaded: GPU layers, context length, flash attention, KV-cache type,
threads and batch size.

The settings' model section gives the defaults; the library keeps a model's own choices
(`Records.load_options`); a conversation may override them (its params' `"load"` entry),
and so may `carrel chat`'s options. `LoadOptions.with_changes` applies one layer on top of
another and refuses values llama.cpp would not take, with a message a person can act on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from app.errors import CarrelError

AUTO_LAYERS = -1
KV_CACHE_TYPES = ("f16", "q8_0", "q4_0")
BATCH_SIZES = (128, 256, 512, 1024, 2048, 4096)
# The choices a model keeps and a conversation may override (not `warmup`, a load detail).
KEPT = ("gpu_layers", "context_length", "flash_attn", "kv_type", "threads", "batch_size")


class LoadOptionsError(CarrelError):
    """A load option llama.cpp would not take."""


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model. `gpu_layers`: -1 auto (every layer when the model fits the GPU,
    the layers that fit when only some do), 0 none (CPU only), N that many (llama.cpp counts
    the output layer too: a 30-block model has 31). `threads` 0: physical cores."""

    context_length: int = 4096
    threads: int = 0
    gpu_layers: int = AUTO_LAYERS
    flash_attn: bool = False
    kv_type: str = "f16"
    batch_size: int = 512
    warmup: bool = False

    @property
    def uses_flash_attn(self) -> bool:
        """llama.cpp needs flash attention for a quantized V cache, so one turns it on."""
        return self.flash_attn or self.kv_type != "f16"

    def kept(self) -> dict[str, object]:
        """The choices stored for a model or a conversation."""
        return {name: getattr(self, name) for name in KEPT}

    def with_changes(self, values: Mapping[str, object] | None) -> LoadOptions:
        """These options with `values` (any of `KEPT`; unknown keys and None are ignored)."""
        changes = {k: v for k, v in (values or {}).items() if k in KEPT and v is not None}
        merged = dataclasses.replace(self, **changes)  # type: ignore[arg-type]
        merged.check()
        return merged

    def check(self) -> None:
        if self.kv_type not in KV_CACHE_TYPES:
            raise LoadOptionsError(
                f"KV-cache type '{self.kv_type}' is not one of {', '.join(KV_CACHE_TYPES)}."
            )
        if not isinstance(self.gpu_layers, int) or self.gpu_layers < AUTO_LAYERS:
            raise LoadOptionsError("GPU layers is 'auto' (-1), 'none' (0) or a number of layers.")
        if not isinstance(self.context_length, int) or self.context_length < 64:
            raise LoadOptionsError("The context length must be at least 64 tokens.")
        if not isinstance(self.threads, int) or self.threads < 0:
            raise LoadOptionsError("Threads is 0 (one per physical core) or a positive number.")
        if not isinstance(self.batch_size, int) or not 32 <= self.batch_size <= 8192:
            raise LoadOptionsError("The batch size must be between 32 and 8192 tokens.")

    def describe_layers(self) -> str:
        if self.gpu_layers == AUTO_LAYERS:
            return "auto"
        return "none" if self.gpu_layers == 0 else str(self.gpu_layers)

    def describe(self) -> str:
        fa = "on" if self.uses_flash_attn else "off"
        if self.uses_flash_attn and not self.flash_attn:
            fa = f"on (a {self.kv_type} KV cache needs it)"
        threads = self.threads or "auto"
        return (
            f"GPU layers {self.describe_layers()}, context {self.context_length:,}, flash "
            f"attention {fa}, KV cache {self.kv_type}, threads {threads}, batch {self.batch_size}"
        )


def parse_gpu_layers(text: str) -> int:
    """'auto', 'none' or a number, as `carrel chat --gpu-layers` takes it."""
    value = text.strip().lower()
    if value == "auto":
        return AUTO_LAYERS
    if value in ("none", "cpu"):
        return 0
    try:
        number = int(value)
    except ValueError:
        raise LoadOptionsError(f"GPU layers '{text}': use auto, none or a number.") from None
    if number < 0:
        raise LoadOptionsError(f"GPU layers '{text}': use auto, none or a number.")
    return number


def context_choices(trained: int, floor: int = 512) -> list[int]:
    """Context lengths to offer up to a model's trained length: powers of two, and the
    trained length itself when it is not one."""
    trained = trained or 4096
    choices = []
    value = floor
    while value < trained:
        choices.append(value)
        value *= 2
    choices.append(trained)
    return choices
