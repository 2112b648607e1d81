"""Which levels a model can sensibly be quantized to, how big each result would be, and
what the result is called.

Sensible means smaller: a target stores fewer bits per weight than the source (so never
F32 from a quantized model, nor the source's own level). The ternary levels (TQ1_0,
TQ2_0) are left out: they only suit models trained ternary (BitNet), and would ruin any
other. Sizes are estimated from the nominal bits per weight of each level (llama.cpp's
block formats, with the K-quant mixes as llama.cpp's `quantize --help` lists them for
Llama-3 8B): the file scales with them, give or take the tensors a mix keeps wider.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.library.quantize import LEVELS
from app.library.quants import quant_span
from app.units import human_size

# Nominal bits per weight of each level llama.cpp can write.
BITS_PER_WEIGHT: dict[str, float] = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0, "Q8_0": 8.5, "Q6_K": 6.56,
    "Q5_1": 6.0, "Q5_K_M": 5.70, "Q5_K_S": 5.54, "Q5_0": 5.5, "Q4_1": 5.0,
    "Q4_K_M": 4.89, "Q4_K_S": 4.58, "Q4_0": 4.5, "IQ4_NL": 4.5, "IQ4_XS": 4.25,
    "Q3_K_L": 4.27, "Q3_K_M": 3.91, "Q3_K_S": 3.5, "Q2_K": 3.35, "Q2_K_S": 2.96,
}  # fmt: skip
# Offered to anyone; the ternary levels are not (see the module).
OFFERED = [level for level in LEVELS if level in BITS_PER_WEIGHT]


@dataclass(frozen=True)
class QuantTarget:
    """A level a model may be quantized to, with the estimated size of the result."""

    level: str
    estimated_size: int

    def describe(self) -> str:
        """'Q4_K_M · ≈ 105.3 MB'."""
        return f"{self.level} · ≈ {human_size(self.estimated_size)}"


def quant_targets(source_quant: str, source_size: int) -> list[QuantTarget]:
    """The levels smaller than `source_quant`, largest first, each with its estimated size
    (every level below F32 when the source's level is unknown)."""
    source_bits = BITS_PER_WEIGHT.get(source_quant.upper())
    found = []
    for level in OFFERED:
        bits = BITS_PER_WEIGHT[level]
        if source_bits is None:
            if level == "F32":
                continue
            estimate = 0
        else:
            if bits >= source_bits:
                continue
            estimate = round(source_size * bits / source_bits)
        found.append(QuantTarget(level, estimate))
    found.sort(key=lambda t: -BITS_PER_WEIGHT[t.level])
    return found


def quantized_name(source_name: str, level: str) -> str:
    """The name of `source_name` quantized to `level`: its own level replaced where the
    name states it ("SmolLM2-135M-Instruct.Q4_1" → "SmolLM2-135M-Instruct.Q4_K_M"),
    else the level appended ("model" → "model.Q4_K_M")."""
    span = quant_span(source_name)
    if span is None:
        return f"{source_name}.{level}"
    return source_name[: span[0]] + level + source_name[span[1] :]


def base_name(name: str) -> str:
    """`name` without the quant level it states (and the '.', '-' or '_' before it):
    the name every quantized copy of one model shares ("SmolLM2-135M-Instruct")."""
    span = quant_span(name)
    if span is None:
        return name
    start = span[0] - 1 if span[0] > 0 and name[span[0] - 1] in "._-" else span[0]
    return name[:start] + name[span[1] :]
