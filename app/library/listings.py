"""What the library lists for a face, each with its will-it-fit estimate: the installed
models (`InstalledModel`) and a hub repository's quant files (`QuantChoice`)."""

from __future__ import annotations

from dataclasses import dataclass

from app.library.quants import QuantFile
from app.library.registry import ModelInfo
from app.library.verdict import FitEstimate

# The facts `ModelLibrary.info` gives that both faces show, in this order.
INFO_KEYS = (
    "name", "architecture", "n_params", "context_length", "quant", "has_chat_template",
    "license", "card_license", "size", "sha256", "source", "path", "library_disk_usage",
)  # fmt: skip


@dataclass
class InstalledModel:
    """An installed model: its header facts, its licence (the file's own, else its model
    card's) and its fit at a context length (None when its header cannot be read)."""

    info: ModelInfo
    license: str
    fit: FitEstimate | None

    def fit_badge(self) -> str:
        return self.fit.badge() if self.fit is not None else "Fit unknown"


@dataclass
class QuantChoice:
    """A quant file of a hub repository with its will-it-fit estimate (None if unknown)."""

    file: QuantFile
    fit: FitEstimate | None

    def fit_badge(self) -> str:
        return self.fit.badge() if self.fit is not None else "Fit unknown"

    def as_dict(self) -> dict[str, object]:
        out = self.file.as_dict()
        out["fit"] = self.fit.verdict if self.fit else "unknown"
        out["estimated_bytes"] = self.fit.total if self.fit else None
        out["fit_summary"] = self.fit.describe() if self.fit else ""
        return out
