"""Where Carrel keeps things (`Paths`) and what the person chose (`Settings`).

Settings are one typed object, stored as TOML in the platform's config folder, with a
`schema_version` and a migration function per older version. One environment variable,
`CARREL_HOME`, moves config, data, models, logs and caches under a single folder: a test, a
portable install, a USB stick.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from app.errors import SettingsError

log = logging.getLogger(__name__)

APP_NAME = "Carrel"
HOME_ENV = "CARREL_HOME"

# Carrel's folders and files hold conversations, the ledger, the person's redaction terms
# and their logs: only they may read them, whatever the umask (which left them 0755/0644).
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _chmod(path: Path, mode: int) -> None:
    if os.name != "nt":  # Windows keeps per-user folders private by their ACLs
        path.chmod(mode)


def private_dir(folder: Path) -> Path:
    """Create `folder` (and missing parents) and make it readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    _chmod(folder, PRIVATE_DIR)
    return folder


def private_file(file: Path) -> Path:
    """Create `file` empty if it is missing, and make it readable by its owner only."""
    os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE))
    _chmod(file, PRIVATE_FILE)
    return file


def write_private(file: Path, text: str) -> None:
    """Write `file` atomically (a crash leaves the old file or the new, never half), created
    readable by its owner only."""
    file.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    tmp = file.with_name(file.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    _chmod(tmp, PRIVATE_FILE)
    tmp.replace(file)


@dataclass(frozen=True)
class Paths:
    """The folders Carrel writes to; `Paths.default()` honours `CARREL_HOME`."""

    config_dir: Path
    data_dir: Path
    models_dir: Path
    logs_dir: Path
    cache_dir: Path

    @classmethod
    def under(cls, home: Path) -> Paths:
        """Everything under one folder (what `CARREL_HOME` does)."""
        home = home.expanduser().resolve()
        return cls(
            config_dir=home / "config",
            data_dir=home / "data",
            models_dir=home / "models",
            logs_dir=home / "logs",
            cache_dir=home / "cache",
        )

    @classmethod
    def default(cls) -> Paths:
        home = os.environ.get(HOME_ENV)
        if home:
            return cls.under(Path(home))
        data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            data_dir=data,
            models_dir=data / "models",
            logs_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
            cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        )

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def database(self) -> Path:
        return self.data_dir / "carrel.sqlite3"

    def ensure(self) -> Paths:
        """Create Carrel's folders, each readable by the person only (the index and the
        key vault live under `data_dir`, the logs under `logs_dir`)."""
        for folder in (
            self.config_dir,
            self.data_dir,
            self.models_dir,
            self.logs_dir,
            self.cache_dir,
        ):
            private_dir(folder)
        return self


@dataclass
class SamplingSettings:
    """Sampling defaults for new conversations; each conversation may override them."""

    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    max_tokens: int = 512
    # -1 picks a fresh random seed for every reply.
    seed: int = -1


@dataclass
class ModelSettings:
    """How models are chosen and loaded."""

    default: str = "SmolLM2-135M-Instruct.Q4_1"
    context_length: int = 4096
    # 0 lets llama.cpp pick (physical cores).
    threads: int = 0
    # -1: every layer on the GPU when llama.cpp has one and the model fits, else none.
    gpu_layers: int = -1
    system_prompt: str = "You are a helpful assistant."


@dataclass
class Settings:
    """Everything the person chose, stored as TOML; see `load_settings` and `save_settings`."""

    schema_version: int = 1
    model: ModelSettings = field(default_factory=ModelSettings)
    sampling: SamplingSettings = field(default_factory=SamplingSettings)


SCHEMA_VERSION = Settings().schema_version

# A function per older version, each turning version N's dict into version N+1's.
Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _v0_to_v1(raw: dict[str, Any]) -> dict[str, Any]:
    # Files written before versioning kept the sampling keys at the top level.
    sampling = raw.setdefault("sampling", {})
    for key in [f.name for f in dataclasses.fields(SamplingSettings)]:
        if key in raw:
            sampling[key] = raw.pop(key)
    return raw


MIGRATIONS: dict[int, Migration] = {0: _v0_to_v1}


def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    version = raw.get("schema_version", 0)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise SettingsError(
            f"The settings were written by a newer Carrel (schema {version}); "
            "update Carrel or move the settings file aside."
        )
    while version < SCHEMA_VERSION:
        raw = MIGRATIONS[version](raw)
        version += 1
        raw["schema_version"] = version
    return raw


def _coerce(cls: type[Any], raw: Any, where: str) -> Any:
    """Build dataclass `cls` from `raw`, checking types; unknown keys are dropped with a log."""
    if not isinstance(raw, dict):
        raise SettingsError(f"Settings: '{where}' should be a table, not {type(raw).__name__}.")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in raw:
            continue
        value = raw[f.name]
        hint = hints[f.name]
        key = f"{where}.{f.name}" if where else f.name
        if dataclasses.is_dataclass(hint):
            values[f.name] = _coerce(typing.cast(type[Any], hint), value, key)
            continue
        allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        if float in allowed and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            names = " or ".join(t.__name__ for t in allowed)
            raise SettingsError(f"Settings: '{key}' should be {names}, not {value!r}.")
        values[f.name] = value
    for extra in set(raw) - {f.name for f in dataclasses.fields(cls)}:
        log.warning("Ignoring unknown setting %s%s", f"{where}." if where else "", extra)
    return cls(**values)


def load_settings(paths: Paths) -> Settings:
    """Read the settings file, migrating it if it is older; a missing file gives defaults."""
    file = paths.settings_file
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise SettingsError(f"Cannot read the settings file {file}: {exc.strerror}.") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(
            f"The settings file {file} is not valid TOML ({exc}). Fix it or delete it to "
            "start from the defaults."
        ) from exc
    old_version = raw.get("schema_version", 0)
    settings = typing.cast(Settings, _coerce(Settings, migrate(raw), ""))
    if old_version != SCHEMA_VERSION:
        save_settings(paths, settings)
    return settings


def save_settings(paths: Paths, settings: Settings) -> None:
    """Write the settings atomically: a crash leaves the old file or the new, never half."""
    write_private(paths.settings_file, tomli_w.dumps(dataclasses.asdict(settings)))
