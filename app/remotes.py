"""The remote endpoints' backends, built once each and dropped when an endpoint or a key
changes, so the next reply uses them as they are now. Every request a backend makes goes
through the privacy gate and into the ledger."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from app.privacy.service import ENDPOINTS, KEYS, Privacy

if TYPE_CHECKING:
    from app.engine.remote import RemoteBackend


class RemoteBackends:
    """A thread-safe cache of `RemoteBackend`s by endpoint name, kept by the Workbench."""

    def __init__(self, privacy: Privacy) -> None:
        self.privacy = privacy
        self._backends: dict[str, RemoteBackend] = {}
        self._lock = threading.Lock()
        privacy.listeners.append(self._on_privacy_changed)

    def get(self, name: str) -> RemoteBackend:
        """The backend of endpoint `name` (raises the privacy service's error if unknown)."""
        chosen = self.privacy.endpoint(name)
        with self._lock:
            if chosen.name not in self._backends:
                from app.engine.remote import RemoteBackend

                key = self.privacy.keys().get(chosen.name)
                self._backends[chosen.name] = RemoteBackend(chosen, self.privacy.gate, key)
            return self._backends[chosen.name]

    def named_or_first(self, wanted: str) -> RemoteBackend | None:
        """The enabled endpoint named `wanted` (or the first enabled one), if any."""
        enabled = [e for e in self.privacy.endpoints() if e.enabled]
        chosen = next((e for e in enabled if e.name == wanted), None) if wanted else None
        chosen = chosen or (enabled[0] if enabled else None)
        return self.get(chosen.name) if chosen is not None else None

    def forget(self) -> None:
        """Close and drop every backend: the next reply builds one afresh."""
        with self._lock:
            backends = list(self._backends.values())
            self._backends.clear()
        for backend in backends:
            backend.close()

    def _on_privacy_changed(self, what: str) -> None:
        if what in (ENDPOINTS, KEYS):
            self.forget()
