"""`Privacy`: the one object the Workbench, the CLI and the Settings page use for remote
endpoints, keys, the gate and the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.config import Paths
from app.engine.backend import Backend
from app.engine.router import Route, Router
from app.netguard import NetGuard
from app.privacy.errors import InvalidEndpointError, VaultLockedError
from app.privacy.gate import ConsentCallback, EgressGate
from app.privacy.keys import VAULT_NAME, Keys
from app.privacy.ledger import Ledger
from app.privacy.policy import (
    EndpointKind,
    PrivacyPolicy,
    RemoteEndpoint,
    load_policy,
    save_policy,
)
from app.privacy.recognize import names
from app.privacy.recognize.phone import region_known
from app.privacy.redact import Redactor
from app.store import Store

if TYPE_CHECKING:  # openai takes 0.3 s to import: only when a remote is used
    from app.engine.remote import RemoteBackend


class Privacy:
    """Remote endpoints (off by default), their keys, the egress gate and the ledger."""

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

    def save(self) -> None:
        save_policy(self.paths, self.policy)

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
        self.save()

    def import_names_model(self, folder: Path) -> Path:
        """Copy a named-entity pipeline from disk into Carrel's data folder and use it."""
        target = names.import_model(folder, self.paths.data_dir / "names")
        self.policy.names_model = str(target)
        self.save()
        return target

    def forget_names_model(self) -> None:
        self.policy.names_model = ""
        self.save()

    # keys ------------------------------------------------------------------------------

    @property
    def vault_path(self) -> str:
        return str(self.paths.data_dir / VAULT_NAME)

    def keys(self, passphrase: str | None = None) -> Keys:
        """The key store the policy names: the system keyring, or the encrypted vault
        (which needs the passphrase the person typed)."""
        if self.policy.key_store == "vault":
            if passphrase is None:
                raise VaultLockedError
            return Keys.vault(self.paths.data_dir / VAULT_NAME, passphrase)
        return Keys.system()

    def use_vault(self, enabled: bool = True) -> None:
        self.policy.key_store = "vault" if enabled else "auto"
        self.save()

    # endpoints -------------------------------------------------------------------------

    def endpoints(self) -> list[RemoteEndpoint]:
        return list(self.policy.endpoints)

    def add_endpoint(
        self, name: str, base_url: str, model: str, kind: EndpointKind
    ) -> RemoteEndpoint:
        """Add an endpoint, switched off: switching it on is a separate, explicit act."""
        endpoint = self.policy.add(RemoteEndpoint(name, base_url.rstrip("/"), model, kind))
        self.save()
        return endpoint

    def remove_endpoint(self, name: str) -> RemoteEndpoint:
        endpoint = self.policy.remove(name)
        self.save()
        return endpoint

    def set_enabled(self, name: str, enabled: bool) -> RemoteEndpoint:
        endpoint = self.policy.endpoint(name)
        endpoint.enabled = enabled
        self.save()
        return endpoint

    def remote(self, name: str, keys: Keys | None = None) -> RemoteBackend:
        """A backend for the endpoint; its key is read from `keys` now and kept in
        memory only."""
        from app.engine.remote import RemoteBackend

        endpoint = self.policy.endpoint(name)
        key = keys.get(name) if keys is not None else None
        return RemoteBackend(endpoint, self.gate, key)

    def router(
        self, local: Backend | None, route: Route, remote: RemoteBackend | None = None
    ) -> Router:
        return Router(local, remote if route != Route.LOCAL_ONLY else None, route)
