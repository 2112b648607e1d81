"""How the local server runs, and its bearer token.

Safe by default: it binds 127.0.0.1; any other address needs a token the person set (kept
in the key store like every other secret, shown by its last four characters). When a token
is set it is checked on every address, loopback included, so a client that sends a wrong
one is told so instead of being silently let in (Ollama's complaint). Bodies and
`max_tokens` are bounded; CORS is off unless origins are listed.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.config import ServerSettings
from app.errors import CarrelError

if TYPE_CHECKING:
    from app.workbench import Workbench

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# The key-store account of the server's token (service "carrel", like the endpoints' keys).
TOKEN_ACCOUNT = "local-server"
# 1 MiB holds a long conversation; documents go in through collections, not bodies.
MAX_BODY_BYTES = 1 << 20
# A reply longer than this is asked for in several requests.
MAX_TOKENS_CAP = 4096
# Requests waiting or running at once before the server answers 429.
MAX_PENDING = 64


class ServerSetupError(CarrelError):
    """A server that would not be safe or could not start as asked."""


@dataclass(frozen=True)
class ServerOptions:
    """Where and how the server listens; `token` empty means none is set."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    model: str = ""
    token: str = ""
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = MAX_BODY_BYTES
    max_tokens_cap: int = MAX_TOKENS_CAP
    max_pending: int = MAX_PENDING
    # Seconds without a request after which the model the server loaded is unloaded
    # (the person sets it in minutes: settings' `server.idle_unload_minutes`).
    idle_unload_s: float = ServerSettings().idle_unload_minutes * 60

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def check(self) -> None:
        """Refuse to listen off loopback without a token."""
        if not self.loopback and not self.token:
            raise ServerSetupError(
                f"Listening on {self.host} lets other machines reach your models and "
                "documents, so it needs a token. Create one with 'carrel serve --new-token', "
                "or listen on 127.0.0.1."
            )
        if "*" in self.cors_origins and not self.loopback:
            raise ServerSetupError(
                "CORS origin '*' is allowed on 127.0.0.1 only; list the origins by name."
            )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_hint(token: str) -> str:
    """A token as it is shown: its last four characters."""
    return f"…{token[-4:]}" if token else "none"


def saved_token(wb: Workbench) -> str:
    """The server's token from the key store; empty when none is set (or it is locked)."""
    return wb.secret(TOKEN_ACCOUNT) or ""


def new_token(wb: Workbench) -> str:
    """Make a token, keep it in the key store and return it (shown in full once)."""
    token = "carrel-" + secrets.token_urlsafe(24)
    wb.privacy.set_key(TOKEN_ACCOUNT, token)
    return token


def forget_token(wb: Workbench) -> bool:
    return wb.privacy.clear_key(TOKEN_ACCOUNT)
