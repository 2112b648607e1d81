"""Remote endpoints and the privacy policy, kept as TOML beside the settings.

`privacy.toml` holds no secret: API keys live in the keyring (`app.privacy.keys`). Every
endpoint is off until the person switches it on.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.config import Paths
from app.errors import SettingsError
from app.privacy.errors import EndpointExistsError, EndpointNotFoundError, InvalidEndpointError
from app.tomlfile import Migration, VersionedToml

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


class EndpointKind(StrEnum):
    """Who runs the server: a closed vendor, or the person's own team."""

    THIRD_PARTY = "third-party"
    SELF_HOSTED = "self-hosted"


class OnDeviceOnlyAction(StrEnum):
    """What happens when on-device-only passages would go to a remote endpoint."""

    REFUSE = "refuse"
    LOCAL = "local"


@dataclass
class RemoteEndpoint:
    """An OpenAI-compatible server: where it is, which model, and whether it is on."""

    name: str
    base_url: str
    model: str
    kind: EndpointKind = EndpointKind.THIRD_PARTY
    enabled: bool = False

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def badge(self) -> str:
        return str(self.kind)


@dataclass
class PrivacyPolicy:
    """What may leave and how: endpoints, on-device-only collections, redaction rules."""

    schema_version: int = SCHEMA_VERSION
    endpoints: list[RemoteEndpoint] = field(default_factory=list)
    on_device_only: list[str] = field(default_factory=list)
    on_device_only_action: OnDeviceOnlyAction = OnDeviceOnlyAction.REFUSE
    redact_terms: list[str] = field(default_factory=list)
    redact_patterns: list[str] = field(default_factory=list)
    redact_kinds: list[str] = field(
        default_factory=lambda: ["EMAIL", "IBAN", "CARD", "IP", "PHONE"]
    )
    # "auto" uses the system keyring; "vault" the passphrase-locked file.
    key_store: str = "auto"
    # The country whose national phone format the person writes ("": from the locale).
    phone_region: str = ""
    # An imported named-entity pipeline folder ("": names are not detected).
    names_model: str = ""

    def endpoint(self, name: str) -> RemoteEndpoint:
        for e in self.endpoints:
            if e.name == name:
                return e
        raise EndpointNotFoundError(name)

    def add(self, endpoint: RemoteEndpoint) -> RemoteEndpoint:
        validate(endpoint)
        if any(e.name == endpoint.name for e in self.endpoints):
            raise EndpointExistsError(endpoint.name)
        self.endpoints.append(endpoint)
        return endpoint

    def remove(self, name: str) -> RemoteEndpoint:
        e = self.endpoint(name)
        self.endpoints.remove(e)
        return e


def validate(endpoint: RemoteEndpoint) -> None:
    parts = urlsplit(endpoint.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidEndpointError(
            f"'{endpoint.base_url}' is not an http(s) URL; give the server's base URL, "
            "for example https://api.example.com/v1."
        )
    if parts.password is not None:
        # privacy.toml holds no secret: a password in the URL would be written there.
        raise InvalidEndpointError(
            "The URL has a password in it (user:password@…), and Carrel writes no secret into "
            "its settings. Give the URL without it and store the key in the key store "
            "('carrel remote set-key NAME', or Set key in Settings)."
        )
    if not endpoint.name.strip() or not endpoint.model.strip():
        raise InvalidEndpointError("A remote endpoint needs a name and a model.")


def policy_file(paths: Paths) -> Path:
    return paths.config_dir / "privacy.toml"


# A function per older schema of `privacy.toml`, each turning version N's table into N+1's
# (none yet: version 1 is the first).
MIGRATIONS: dict[int, Migration] = {}


def _file(paths: Paths) -> VersionedToml:
    return VersionedToml(
        policy_file(paths),
        SCHEMA_VERSION,
        what="privacy settings",
        start_again="start again with every remote endpoint off",
        migrations=MIGRATIONS,
        unversioned=SCHEMA_VERSION,
    )


def load_policy(paths: Paths) -> PrivacyPolicy:
    """Read `privacy.toml` through its migrations; a missing file gives the defaults
    (nothing may leave)."""
    raw = _file(paths).read()
    if raw is None:
        return PrivacyPolicy()
    try:
        return _from_dict(raw)
    except (TypeError, ValueError, KeyError) as exc:
        raise SettingsError(
            f"The privacy settings {policy_file(paths)} are not valid ({exc}). Fix them or "
            "move the file aside to start again with every remote endpoint off."
        ) from exc


def save_policy(paths: Paths, policy: PrivacyPolicy) -> None:
    """Write atomically: a crash leaves the old file or the new, never half."""
    _file(paths).write(_to_dict(policy))


def _to_dict(policy: PrivacyPolicy) -> dict[str, Any]:
    raw = dataclasses.asdict(policy)
    raw["on_device_only_action"] = str(policy.on_device_only_action)
    raw["endpoints"] = [{**dataclasses.asdict(e), "kind": str(e.kind)} for e in policy.endpoints]
    return raw


def _from_dict(raw: dict[str, Any]) -> PrivacyPolicy:
    names = {f.name for f in dataclasses.fields(PrivacyPolicy)}
    for extra in set(raw) - names:
        log.warning("Ignoring unknown privacy setting %s", extra)
    values = {k: v for k, v in raw.items() if k in names}
    endpoints = []
    for e in values.pop("endpoints", []):
        endpoints.append(
            RemoteEndpoint(
                name=str(e["name"]),
                base_url=str(e["base_url"]),
                model=str(e["model"]),
                kind=EndpointKind(e.get("kind", "third-party")),
                enabled=bool(e.get("enabled", False)),
            )
        )
    if "on_device_only_action" in values:
        values["on_device_only_action"] = OnDeviceOnlyAction(values["on_device_only_action"])
    for key in ("on_device_only", "redact_terms", "redact_patterns", "redact_kinds"):
        if key in values and not all(isinstance(x, str) for x in values[key]):
            raise ValueError(f"'{key}' should be a list of strings")
    return PrivacyPolicy(endpoints=endpoints, **values)
