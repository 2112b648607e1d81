"""Refuse, before any packet is sent, every connection that would leave this machine.

An audit hook (`sys.addaudithook`) sees each `socket.connect` and raises unless the
destination is loopback, a local (Unix) socket, or an address an action has allowed for
as long as it runs. Installed once at start-up by the app and by the test suite.
"""

from __future__ import annotations

import ipaddress
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
        with self._lock:
            self._allowed[host] = self._allowed.get(host, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._allowed[host] -= 1

    def treat_as_off_device(self, host: str) -> None:
        """Tests declare a second loopback address (127.0.0.2) off-device to see refusals."""
        self._off_device.add(host)


_guard: NetGuard | None = None


def install() -> NetGuard:
    """Install the guard once per process and return it."""
    global _guard
    if _guard is None:
        guard = NetGuard()

        def hook(event: str, args: tuple[Any, ...]) -> None:
            if event == "socket.connect":
                sock, address = args
                guard.check(address, sock.family)

        sys.addaudithook(hook)
        _guard = guard
    return _guard
