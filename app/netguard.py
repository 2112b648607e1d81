"""Refuse, before any packet is sent, every connection that would leave this machine.

An audit hook (`sys.addaudithook`) sees each `socket.connect` and raises unless the
destination is loopback, a local (Unix) socket, or an address an action has allowed for
as long as it runs. Installed once at start-up by the app and by the test suite.

`install()` also sets, unless already set, the environment variables that stop libraries
from phoning home (telemetry, analytics, update checks).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.errors import CarrelError


class EgressRefusedError(CarrelError, ConnectionRefusedError):
    """A connection off the machine that no running action allowed."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"Carrel refused a connection to {host}: it keeps everything on this device "
            "unless you switch on a remote endpoint or browse the model hub."
        )
        self.host = host


class NetGuard:
    """The connection policy. `allow(host)` opens one destination for a `with` block."""

    def __init__(self) -> None:
        self._allowed: dict[str, int] = {}
        self._off_device: set[str] = set()
        self._lock = threading.Lock()
        self.refused: list[str] = []

    def is_local(self, host: str) -> bool:
        if host in self._off_device:
            return False
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
        except ValueError:
            return False

    def check(self, address: Any, family: int) -> None:
        if family == getattr(socket, "AF_UNIX", object()):
            return
        host = str(address[0]) if isinstance(address, tuple) and address else str(address)
        if self.is_local(host):
            return
        with self._lock:
            if self._allowed.get(host):
                return
            self.refused.append(host)
        raise EgressRefusedError(host)

    @contextmanager
    def allow(self, host: str) -> Iterator[None]:
        """Allow `host` (a name or an address) until the block ends. A name is resolved
        here, because the connection the hook sees is made to an address."""
        names = [host, *_addresses_of(host)]
        with self._lock:
            for name in names:
                self._allowed[name] = self._allowed.get(name, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                for name in names:
                    self._allowed[name] -= 1

    def treat_as_off_device(self, host: str) -> None:
        """Tests declare a second loopback address (127.0.0.2) off-device to see refusals."""
        self._off_device.add(host)


def _addresses_of(host: str) -> list[str]:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return []
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []  # the connection will fail on its own, with the library's message
    return sorted({str(info[4][0]) for info in infos} - {host})


# Libraries that call home unless told not to. Hub access is switched on per action by the
# hub code itself (it needs HF_HUB_OFFLINE unset), so that one is not forced here.
QUIET_ENV = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "SCARF_NO_ANALYTICS": "true",
    "OTEL_SDK_DISABLED": "true",
    "HAYSTACK_TELEMETRY_ENABLED": "False",
    "POSTHOG_DISABLED": "1",
    "DISABLE_TELEMETRY": "1",
}


def quiet_libraries() -> None:
    """Set each telemetry switch in `QUIET_ENV`, leaving any the person set alone."""
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)


_guard: NetGuard | None = None


def install() -> NetGuard:
    """Install the guard once per process and return it."""
    global _guard
    quiet_libraries()
    if _guard is None:
        guard = NetGuard()

        def hook(event: str, args: tuple[Any, ...]) -> None:
            if event == "socket.connect":
                sock, address = args
                guard.check(address, sock.family)

        sys.addaudithook(hook)
        _guard = guard
    return _guard
