"""Is a file about to be imported already in the library? The same file (its resolved
path is a listed model's, or a linked model points at it) or the same bytes (its SHA-256
is one recorded, or, for a listed model with no hash recorded, one computed when the
sizes are equal)."""

from __future__ import annotations

from pathlib import Path

from app.library.records import ModelRecord
from app.library.registry import ModelInfo
from app.library.sideload import sha256_file


class Known:
    """The library's models as an import compares against them (see the module)."""

    def __init__(self, models: list[ModelInfo], records: list[ModelRecord]) -> None:
        self._paths: dict[Path, str] = {}
        self._hashes: dict[str, str] = {}
        self._unhashed: list[ModelInfo] = []
        hashed = {r.name.casefold() for r in records if r.sha256}
        for r in records:
            self.add(r)
        for info in models:
            if info.path.exists():
                self._paths.setdefault(info.path.resolve(), info.name)
            if info.name.casefold() not in hashed and info.path.is_file():
                self._unhashed.append(info)

    def add(self, record: ModelRecord) -> None:
        """Count a model just imported (two copies in one folder are duplicates too)."""
        if record.sha256:
            self._hashes.setdefault(record.sha256, record.name)
        for where in (record.path, record.origin):
            path = Path(where) if where else None
            if path is not None and path.exists():
                self._paths.setdefault(path.resolve(), record.name)

    def same_as(self, file: Path, digest: str) -> str:
        """The name of the model `file` (whose SHA-256 is `digest`) duplicates, or ''."""
        name = self._paths.get(file.resolve()) or self._hashes.get(digest)
        if name:
            return name
        size = file.stat().st_size
        for info in self._unhashed:
            if info.size == size and sha256_file(info.path) == digest:
                return info.name
        return ""
