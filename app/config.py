"""Where Carrel keeps things (`Paths`) and what the person chose (`Settings`).

Settings are one typed object, stored as TOML in the platform's config folder, with a
`schema_version` and a migration function per older version (`app.tomlfile`); a change
goes through `changed`, which checks it as the file is checked. One environment variable,
`CARREL_HOME`, moves config, data, models, logs and caches under a single folder: a test, a
portable install, a USB stick.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from app.errors import SettingsError
from app.private import private_dir
from app.tomlfile import Migration, VersionedToml

T = TypeVar("T")

log = logging.getLogger(__name__)

APP_NAME = "Carrel"
HOME_ENV = "CARREL_HOME"


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


# The routes a conversation can take (`app.engine.router.Route`'s values).
ROUTES = ("local-only", "local-first", "remote-first")


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
    # How new conversations are answered (`app.engine.router.Route`), and the remote
    # endpoint they use when the route allows one; set by hand or by an evaluation's
    # suggested routes (`app.evaluate.routing.apply`).
    route: str = "local-only"
    remote: str = ""

    def __post_init__(self) -> None:
        if self.route not in ROUTES:
            raise SettingsError(
                f"Settings: 'model.route' should be {' or '.join(ROUTES)}, not {self.route!r}."
            )


@dataclass
class ServerSettings:
    """The local server's (`carrel serve`, the window's Server page)."""

    # Minutes without a request after which the model the server loaded is unloaded.
    idle_unload_minutes: float = 10.0


@dataclass
class Settings:
    """Everything the person chose, stored as TOML; see `load_settings` and `save_settings`."""

    schema_version: int = 1
    model: ModelSettings = field(default_factory=ModelSettings)
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    server: ServerSettings = field(default_factory=ServerSettings)


SCHEMA_VERSION = Settings().schema_version


def _v0_to_v1(raw: dict[str, Any]) -> dict[str, Any]:
    # Files written before versioning kept the sampling keys at the top level.
    sampling = raw.setdefault("sampling", {})
    for key in [f.name for f in dataclasses.fields(SamplingSettings)]:
        if key in raw:
            sampling[key] = raw.pop(key)
    return raw


MIGRATIONS: dict[int, Migration] = {0: _v0_to_v1}


def settings_file(paths: Paths) -> VersionedToml:
    return VersionedToml(
        paths.settings_file,
        SCHEMA_VERSION,
        what="settings file",
        start_again="start from the defaults",
        migrations=MIGRATIONS,
    )


def coerce(cls: type[T], raw: Any, where: str = "") -> T:
    """Build dataclass `cls` from `raw`, checking types (a wrong one raises `SettingsError`
    naming the key); unknown keys are dropped with a log line."""
    if not isinstance(raw, dict):
        raise SettingsError(f"Settings: '{where}' should be a table, not {type(raw).__name__}.")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in raw:
            continue
        value = raw[f.name]
        hint = hints[f.name]
        key = f"{where}.{f.name}" if where else f.name
        if dataclasses.is_dataclass(hint):
            values[f.name] = coerce(typing.cast(type[Any], hint), value, key)
            continue
        allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        if float in allowed and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            names = " or ".join(t.__name__ for t in allowed)
            raise SettingsError(f"Settings: '{key}' should be {names}, not {value!r}.")
        values[f.name] = value
    for extra in set(raw) - {f.name for f in dataclasses.fields(cls)}:  # type: ignore[arg-type]
        log.warning("Ignoring unknown setting %s%s", f"{where}." if where else "", extra)
    return cls(**values)


def load_settings(paths: Paths) -> Settings:
    """Read the settings file, migrating it if it is older; a missing file gives defaults."""
    raw = settings_file(paths).read()
    return Settings() if raw is None else coerce(Settings, raw)


def save_settings(paths: Paths, settings: Settings) -> None:
    """Write the settings atomically: a crash leaves the old file or the new, never half."""
    settings_file(paths).write(dataclasses.asdict(settings))


def changed(settings: Settings, section: str, values: dict[str, Any]) -> Settings:
    """`settings` with `values` set in `section` ("model", "sampling"), checked as the
    file is: an unknown section or key, or a wrong type, raises `SettingsError`."""
    raw = dataclasses.asdict(settings)
    table = raw.get(section)
    if not isinstance(table, dict):
        raise SettingsError(f"There is no settings section '{section}'.")
    unknown = sorted(set(values) - set(table))
    if unknown:
        raise SettingsError(f"Settings: '{section}' has no {', '.join(unknown)}.")
    table.update(values)
    return coerce(Settings, raw)
