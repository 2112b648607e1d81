"""Quant levels read from GGUF file names, and split files grouped into one model."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Longest names first so "Q4_K_M" wins over "Q4_K" and "IQ2_XXS" over "IQ2_XS".
QUANT_LEVELS = [
    "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ3_XXS", "IQ3_XS", "IQ3_S",
    "IQ3_M", "IQ4_NL", "IQ4_XS",
    "Q2_K_S", "Q2_K_L", "Q2_K_XL", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q3_K_XL", "Q3_K",
    "Q4_0_4_4",
    "Q4_0_4_8", "Q4_0_8_8", "Q4_0", "Q4_1", "Q4_K_S", "Q4_K_M", "Q4_K_L", "Q4_K_XL", "Q4_K",
    "Q5_0", "Q5_1", "Q5_K_S", "Q5_K_M", "Q5_K_L", "Q5_K_XL", "Q5_K", "Q6_K_L", "Q6_K_XL",
    "Q6_K", "Q8_0", "Q8_K_XL", "TQ1_0", "TQ2_0", "MXFP4", "F16", "BF16", "F32", "FP16", "FP32",
]  # fmt: skip
_BY_LENGTH = sorted(QUANT_LEVELS, key=len, reverse=True)
_QUANT_RE = re.compile(
    r"(?:^|[-_.])(?:UD-)?(" + "|".join(re.escape(q) for q in _BY_LENGTH) + r")(?=[-_.]|$)",
    re.IGNORECASE,
)
_SPLIT_RE = re.compile(r"^(?P<stem>.+)-(?P<part>\d{5})-of-(?P<total>\d{5})\.gguf$", re.IGNORECASE)
_ALIASES = {"FP16": "F16", "FP32": "F32"}


def parse_quant(filename: str) -> str:
    """The quant level a file name states ("Q4_K_M"), or "unknown"."""
    base = filename.rsplit("/", 1)[-1]
    base = _SPLIT_RE.sub(lambda m: m.group("stem") + ".gguf", base)
    stem = base[: -len(".gguf")] if base.lower().endswith(".gguf") else base
    found = list(_QUANT_RE.finditer(stem))
    if not found:
        return "unknown"
    level = found[-1].group(1).upper()
    return _ALIASES.get(level, level)


def quant_span(stem: str) -> tuple[int, int] | None:
    """Where the last quant level a name states sits in it ((start, end)), or None."""
    found = list(_QUANT_RE.finditer(stem))
    return found[-1].span(1) if found else None


def split_part(filename: str) -> tuple[str, int, int] | None:
    """(stem, part, total) for `name-00001-of-00003.gguf`, else None."""
    m = _SPLIT_RE.match(filename.rsplit("/", 1)[-1])
    if m is None:
        return None
    return m.group("stem"), int(m.group("part")), int(m.group("total"))


@dataclass(frozen=True)
class RemoteFile:
    """One file of a hub repository with the size and LFS SHA-256 the hub reports."""

    path: str
    size: int
    sha256: str = ""


@dataclass
class QuantFile:
    """One downloadable model of a repository: a single GGUF or all parts of a split one."""

    name: str
    quant: str
    parts: list[RemoteFile] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts)

    @property
    def sha256(self) -> str:
        """The file's SHA-256 (of the first part for a split model)."""
        return self.parts[0].sha256 if self.parts else ""

    @property
    def first(self) -> RemoteFile:
        return self.parts[0]

    @property
    def is_split(self) -> bool:
        return len(self.parts) > 1

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "quant": self.quant,
            "size": self.size,
            "sha256": self.sha256,
            "parts": [{"path": p.path, "size": p.size, "sha256": p.sha256} for p in self.parts],
        }


def _is_model_file(path: str) -> bool:
    lower = path.lower()
    # Vision projectors and imatrix data sit next to the weights; they are not models.
    name = lower.rsplit("/", 1)[-1]
    return lower.endswith(".gguf") and not name.startswith(("mmproj", "imatrix"))


def group_files(files: list[RemoteFile]) -> list[QuantFile]:
    """GGUF files grouped into models (split parts together), ordered by size."""
    singles: list[QuantFile] = []
    splits: dict[str, list[tuple[int, RemoteFile]]] = {}
    for f in files:
        if not _is_model_file(f.path):
            continue
        part = split_part(f.path)
        if part is None:
            singles.append(QuantFile(f.path, parse_quant(f.path), [f]))
            continue
        stem, index, _total = part
        folder = f.path.rsplit("/", 1)[0] + "/" if "/" in f.path else ""
        splits.setdefault(folder + stem, []).append((index, f))
    for key, parts in splits.items():
        ordered = [f for _, f in sorted(parts, key=lambda t: t[0])]
        singles.append(QuantFile(ordered[0].path, parse_quant(key + ".gguf"), ordered))
    singles.sort(key=lambda q: (q.size, q.name))
    return singles
