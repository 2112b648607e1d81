"""Verify: re-read a model's header and hash its bytes against the SHA-256 recorded for
it. A model with no hash recorded yet (dropped in the folder by hand, shipped in a
package) has its hash computed and recorded, and is told so: an empty hash never
"matches"."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.library import records as rec
from app.library.errors import HashMismatchError
from app.library.records import ModelRecord, ModelRecords
from app.library.registry import ModelRegistry
from app.library.sideload import sha256_file


@dataclass(frozen=True)
class Verification:
    """What `verify_model` found: the record (with its hash) and whether there was a
    recorded hash to compare with (False: it was computed now for the first time)."""

    record: ModelRecord
    compared: bool

    def describe(self) -> str:
        """The line a person reads after Verify, on the Models page and the CLI."""
        digest = f"SHA-256 {self.record.sha256[:16]}…"
        if self.compared:
            return f"{self.record.name}: header valid, {digest} matches what was recorded."
        return (
            f"{self.record.name}: header valid. No SHA-256 was recorded for it yet; "
            f"computed and recorded now ({digest}): the next Verify compares against it."
        )


def verify_model(
    registry: ModelRegistry,
    records: ModelRecords,
    name: str,
    on_bytes: Callable[[int], None] | None = None,
) -> Verification:
    """Verify model `name` (see the module); `HashMismatchError` when the bytes changed."""
    info = registry.resolve(name)  # header and size checks raise here
    actual = sha256_file(info.path, on_bytes)
    record = records.get(info.name)
    compared = bool(record and record.sha256)
    if record is None:
        record = ModelRecord(
            name=info.name,
            path=str(info.path),
            size=info.size,
            sha256=actual,
            source=rec.IMPORTED,
            origin=info.source,
        )
        records.put(record)
    elif not record.sha256:
        record = dataclasses.replace(record, sha256=actual)
        records.put(record)
    elif record.sha256 != actual:
        raise HashMismatchError(info.path.name, record.sha256, actual)
    records.mark_verified(record.name)
    stored = records.get(record.name) or dataclasses.replace(record, verified_at=time.time())
    return Verification(stored, compared)
