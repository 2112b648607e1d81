"""The curated catalog (`models/catalog.toml`): recommended models by use, offline."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.errors import CarrelError

CATALOG_FILE = Path(__file__).resolve().parents[2] / "models" / "catalog.toml"
CATEGORIES = ("fully-open", "source-available", "research-only", "api-only")
USES = ("small-laptop", "general-chat", "code", "long-documents")


@dataclass(frozen=True)
class CatalogEntry:
    """One recommended model: where to get it, which quant, its licence and category."""

    name: str
    repo: str
    quant: str
    license: str
    category: str
    use: list[str] = field(default_factory=list)
    context: int = 0
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def load_catalog(path: Path = CATALOG_FILE) -> list[CatalogEntry]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CarrelError(
            f"The model catalog {path} cannot be read ({exc}); reinstall Carrel."
        ) from exc
    entries = []
    for item in raw.get("model", []):
        entry = CatalogEntry(
            name=str(item["name"]),
            repo=str(item.get("repo", "")),
            quant=str(item.get("quant", "")),
            license=str(item.get("license", "")),
            category=str(item.get("category", "")),
            use=[str(u) for u in item.get("use", [])],
            context=int(item.get("context", 0)),
            note=str(item.get("note", "")),
        )
        if entry.category not in CATEGORIES:
            raise CarrelError(
                f"The model catalog lists '{entry.name}' with an unknown category "
                f"'{entry.category}'; reinstall Carrel."
            )
        entries.append(entry)
    return entries
