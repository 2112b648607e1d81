"""Versioned TOML files (`settings.toml`, `privacy.toml`): read through their migrations,
written atomically and readable by the person only.

Each file carries a `schema_version`. `VersionedToml.read` turns an older file into the
current table one migration at a time (a function per older version) and writes it back,
refuses a file a newer Carrel wrote, and says in one line which file is wrong and how to
start again without it. `write` leaves the old file or the new, never half of one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from app.errors import SettingsError
from app.private import write_private

# Turns version N's table into version N+1's.
Migration = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class VersionedToml:
    """One TOML file of a given schema. `what` names it for a person ("settings file");
    `start_again` says what moving it aside does ("start from the defaults");
    `unversioned` is the version of a file written before it had a `schema_version`."""

    path: Path
    version: int
    what: str
    start_again: str
    migrations: Mapping[int, Migration] = field(default_factory=dict)
    unversioned: int = 0

    def read(self) -> dict[str, Any] | None:
        """The file's table at the current version; None when there is no file."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SettingsError(
                f"Cannot read the {self.what} {self.path}: {exc.strerror}."
            ) from exc
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(
                f"The {self.what} {self.path} is not valid TOML ({exc}). Fix it or delete it "
                f"to {self.start_again}."
            ) from exc
        old = raw.get("schema_version", self.unversioned)
        migrated = self.migrate(raw)
        if old != self.version:
            self.write(migrated)
        return migrated

    def migrate(self, raw: dict[str, Any]) -> dict[str, Any]:
        """`raw` brought to the current version through each migration in turn."""
        version = raw.get("schema_version", self.unversioned)
        if not isinstance(version, int) or isinstance(version, bool) or version > self.version:
            raise SettingsError(
                f"The {self.what} {self.path} was written by a newer Carrel (schema "
                f"{version}); update Carrel or move the file aside to {self.start_again}."
            )
        while version < self.version:
            step = self.migrations.get(version)
            if step is None:
                raise SettingsError(
                    f"The {self.what} {self.path} has schema {version}, which this Carrel "
                    f"cannot read; move the file aside to {self.start_again}."
                )
            raw = step(raw)
            version += 1
            raw["schema_version"] = version
        return raw

    def write(self, table: Mapping[str, Any]) -> None:
        """Write `table` (at the current version) atomically, readable by the person only
        (the privacy file holds their own redaction terms)."""
        write_private(self.path, tomli_w.dumps({**table, "schema_version": self.version}))
