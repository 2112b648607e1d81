"""Keys in a real keyring: the encrypted file vault always, Secret Service when a session
bus with an unlocked gnome-keyring is there (`.ci/run` provides one)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from app.privacy.errors import KeyringUnavailableError, VaultLockedError
from app.privacy.keys import Keys, hint, system_backend


def _exercise(keys: Keys) -> None:
    name = f"ep-{uuid.uuid4().hex[:8]}"
    assert keys.get(name) is None
    assert keys.hint(name) == "(no key)"
    assert keys.set(name, "sk-first-key-1111") == "…1111"
    assert keys.get(name) == "sk-first-key-1111"
    keys.set(name, "sk-second-key-2222")  # replace
    assert keys.get(name) == "sk-second-key-2222"
    assert keys.hint(name) == "…2222"
    assert keys.clear(name) is True
    assert keys.get(name) is None
    assert keys.clear(name) is False


def test_hint_shows_only_the_last_four() -> None:
    assert hint("sk-abcdefgh1234") == "…1234"
    assert hint("abc") == "…"
    assert hint(None) == "(no key)"


def test_vault_set_replace_clear(tmp_path: Path) -> None:
    _exercise(Keys.vault(tmp_path / "keys.vault", "correct horse"))


def test_vault_is_encrypted_and_locked_by_its_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "keys.vault"
    Keys.vault(path, "correct horse").set("vendor", "sk-plain-text-never-9999")
    assert b"sk-plain-text-never-9999" not in path.read_bytes()
    assert Keys.vault(path, "correct horse").get("vendor") == "sk-plain-text-never-9999"
    with pytest.raises(VaultLockedError, match="passphrase is wrong"):
        Keys.vault(path, "wrong horse")


def _secret_service_reason() -> str | None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return (
            "no D-Bus session bus: run the suite inside `dbus-run-session` with an unlocked "
            "gnome-keyring (see .ci/run)"
        )
    try:
        system_backend()
    except KeyringUnavailableError as exc:
        return f"Secret Service is not reachable on the session bus: {exc}"
    return None


SECRET_SERVICE_MISSING = _secret_service_reason()


@pytest.mark.skipif(SECRET_SERVICE_MISSING is not None, reason=str(SECRET_SERVICE_MISSING))
def test_secret_service_set_replace_clear() -> None:
    _exercise(Keys.system())


@pytest.mark.skipif(
    SECRET_SERVICE_MISSING is None, reason="a Secret Service is running in this session"
)
def test_without_a_system_keyring_the_message_offers_the_vault(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(KeyringUnavailableError, match="encrypted file vault"):
        Keys.system()


def test_no_session_bus_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/nonexistent")
    with pytest.raises(KeyringUnavailableError, match="No system keyring is available"):
        Keys.system()
