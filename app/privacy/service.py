"""`Privacy`: the one object the Workbench, the CLI and the Settings page use for remote
endpoints, keys, the gate and the ledger.

Every change goes through a method here, which checks it, saves the policy and tells the
listeners what changed (`CHANGES`): the Workbench drops the remote backends it cached
when an endpoint or a key changes, a window refreshes its badge. No face sets a policy
field itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from app.config import Paths
from app.netguard import NetGuard
from app.privacy.errors import InvalidEndpointError, VaultLockedError
from app.privacy.gate import ConsentCallback, EgressGate
from app.privacy.keys import VAULT_NAME, Keys
from app.privacy.ledger import Ledger
from app.privacy.policy import (
    EndpointKind,
    OnDeviceOnlyAction,
    PrivacyPolicy,
    RemoteEndpoint,
    load_policy,
    save_policy,
)
from app.privacy.recognize import names
from app.privacy.recognize.phone import region_known
from app.privacy.redact import KINDS, Redactor
from app.store import Store

log = logging.getLogger(__name__)

# What a listener is told changed.
ENDPOINTS, KEYS, REDACTION, ON_DEVICE_ONLY = "endpoints", "keys", "redaction", "on-device-only"
CHANGES = (ENDPOINTS, KEYS, REDACTION, ON_DEVICE_ONLY)
# The kinds a person may switch (TERM and CUSTOM are their own lists).
AUTOMATIC_KINDS = tuple(k for k in KINDS if k not in ("TERM", "CUSTOM"))

Listener = Callable[[str], None]


class Privacy:
    """Remote endpoints (off by default), their keys, the egress gate and the ledger.

    `listeners` are called with one of `CHANGES` after each change, on the thread that
    made it. The vault's passphrase, once typed, is kept in memory for the session.
    """

    def __init__(
        self,
        paths: Paths,
        store: Store,
        consent: ConsentCallback | None = None,
        guard: NetGuard | None = None,
    ) -> None:
        self.paths = paths
        self.policy: PrivacyPolicy = load_policy(paths)
        self.ledger = Ledger(store)
        self.gate = EgressGate(self.policy, self.ledger, consent, guard)
        self.listeners: list[Listener] = []
        self.passphrase: str | None = None

    def save(self) -> None:
        save_policy(self.paths, self.policy)

    def ask_with(self, consent: ConsentCallback | None) -> ConsentCallback | None:
        """Have `consent` asked before each request leaves (None: every request is
        refused, nobody being there to ask); returns the callback it replaces."""
        previous, self.gate.consent = self.gate.consent, consent
        return previous

    @property
    def consent(self) -> ConsentCallback | None:
        return self.gate.consent

    def _changed(self, what: str) -> None:
        self.save()
        for listener in list(self.listeners):
            try:
                listener(what)
            except Exception:  # a listener's bug must not undo a saved change
                log.exception("A privacy listener failed on %s", what)

    # redaction ---------------------------------------------------------------------------

    def redactor(self, region: str | None = None) -> Redactor:
        """Redaction as the settings say (what a remote endpoint would receive); `region`
        overrides the phone region for this redactor only."""
        p = self.policy
        if region is None:
            return Redactor.for_policy(p)
        names_model = Path(p.names_model) if p.names_model else None
        return Redactor(
            p.redact_terms,
            p.redact_patterns,
            p.redact_kinds,
            region=region.upper(),
            names_model=names_model,
        )

    def set_phone_region(self, region: str) -> None:
        """The country whose national phone format the person writes ("" = the locale's)."""
        region = region.strip().upper()
        if region and not region_known(region):
            raise InvalidEndpointError(
                f"'{region}' is not a region libphonenumber knows; give a two-letter country "
                "code such as DE, FR or US."
            )
        self.policy.phone_region = region
        self._changed(REDACTION)

    def import_names_model(self, folder: Path) -> Path:
        """Copy a named-entity pipeline from disk into Carrel's data folder and use it."""
        target = names.import_model(folder, self.paths.data_dir / "names")
        self.policy.names_model = str(target)
        self._changed(REDACTION)
        return target

    def forget_names_model(self) -> None:
        self.policy.names_model = ""
        self._changed(REDACTION)

    # keys ------------------------------------------------------------------------------

    @property
    def vault_path(self) -> Path:
        return self.paths.data_dir / VAULT_NAME

    @property
    def has_vault(self) -> bool:
        """Whether the passphrase-locked vault file exists (listing never creates one)."""
        return self.vault_path.exists()

    @property
    def uses_vault(self) -> bool:
        """Whether keys are kept in the passphrase-locked vault, not the system keyring."""
        return self.policy.key_store == "vault"

    def keys(self, passphrase: str | None = None) -> Keys:
        """The key store the policy names: the system keyring, or the encrypted vault
        (which needs the passphrase typed this session, or `passphrase`)."""
        if self.uses_vault:
            typed = passphrase if passphrase is not None else self.passphrase
            if typed is None:
                raise VaultLockedError
            return Keys.vault(self.vault_path, typed)
        return Keys.system()

    def unlock_vault(self, passphrase: str) -> Keys:
        """Open (or create) the vault with `passphrase`, keep keys there from now on, and
        remember the passphrase for the session."""
        keys = Keys.vault(self.vault_path, passphrase)  # raises when it is wrong
        self.passphrase = passphrase
        self.policy.key_store = "vault"
        self._changed(KEYS)
        return keys

    def use_vault(self, enabled: bool = True) -> None:
        self.policy.key_store = "vault" if enabled else "auto"
        self._changed(KEYS)

    def set_key(self, name: str, value: str, keys: Keys | None = None) -> str:
        """Store (or replace) a secret; returns the hint that may be shown."""
        if not value.strip():
            raise InvalidEndpointError("The key was empty; nothing was stored.")
        hint = (keys or self.keys()).set(name, value)
        self._changed(KEYS)
        return hint

    def clear_key(self, name: str, keys: Keys | None = None) -> bool:
        """Delete a secret; False when there was none."""
        cleared = (keys or self.keys()).clear(name)
        self._changed(KEYS)
        return cleared

    # endpoints -------------------------------------------------------------------------

    def endpoints(self) -> list[RemoteEndpoint]:
        return list(self.policy.endpoints)

    def endpoint(self, name: str) -> RemoteEndpoint:
        """The endpoint called `name`, or `EndpointNotFoundError` saying how to list them."""
        return self.policy.endpoint(name)

    def add_endpoint(
        self, name: str, base_url: str, model: str, kind: EndpointKind
    ) -> RemoteEndpoint:
        """Add an endpoint, switched off: switching it on is a separate, explicit act."""
        endpoint = self.policy.add(RemoteEndpoint(name, base_url.rstrip("/"), model, kind))
        self._changed(ENDPOINTS)
        return endpoint

    def remove_endpoint(self, name: str) -> RemoteEndpoint:
        endpoint = self.policy.remove(name)
        self._changed(ENDPOINTS)
        return endpoint

    def set_enabled(self, name: str, enabled: bool) -> RemoteEndpoint:
        endpoint = self.policy.endpoint(name)
        endpoint.enabled = enabled
        self._changed(ENDPOINTS)
        return endpoint

    # what may leave ----------------------------------------------------------------------

    def check_redaction(
        self,
        *,
        kinds: Iterable[str] | None = None,
        terms: Iterable[str] | None = None,
        patterns: Iterable[str] | None = None,
    ) -> None:
        """Raise a `CarrelError` saying what is wrong with these redaction settings (an
        unknown kind, a pattern that is not a regular expression); change nothing."""
        p = self.policy
        wanted = list(p.redact_kinds if kinds is None else kinds)
        unknown = sorted(set(wanted) - set(AUTOMATIC_KINDS))
        if unknown:
            raise InvalidEndpointError(
                f"Unknown redaction kind {', '.join(unknown)}; Carrel finds "
                f"{', '.join(AUTOMATIC_KINDS)}."
            )
        Redactor(
            list(p.redact_terms if terms is None else terms),
            list(p.redact_patterns if patterns is None else patterns),
            wanted,
        )

    def set_redaction(
        self,
        *,
        kinds: Iterable[str] | None = None,
        terms: Iterable[str] | None = None,
        patterns: Iterable[str] | None = None,
    ) -> None:
        """Change what is redacted before a request leaves (checked first: a bad value
        changes nothing); None leaves that list as it is."""
        self.check_redaction(kinds=kinds, terms=terms, patterns=patterns)
        if kinds is not None:
            self.policy.redact_kinds = list(kinds)
        if terms is not None:
            self.policy.redact_terms = [t.strip() for t in terms if t.strip()]
        if patterns is not None:
            self.policy.redact_patterns = list(patterns)
        self._changed(REDACTION)

    def set_on_device_only(
        self,
        *,
        collections: Iterable[str] | None = None,
        action: OnDeviceOnlyAction | str | None = None,
    ) -> None:
        """Change the collections whose passages never leave, and what a request that
        would carry them does (refuse, or answer locally)."""
        if action is not None:
            try:
                action = OnDeviceOnlyAction(action)
            except ValueError:
                raise InvalidEndpointError(
                    f"'{action}' is not a choice for on-device-only passages; use "
                    f"{' or '.join(str(a) for a in OnDeviceOnlyAction)}."
                ) from None
            self.policy.on_device_only_action = action
        if collections is not None:
            wanted = (c.strip() for c in collections)
            self.policy.on_device_only = list(dict.fromkeys(n for n in wanted if n))
        self._changed(ON_DEVICE_ONLY)
