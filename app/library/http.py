"""Plain HTTP(S) GETs for file bytes: redirects followed, statuses turned into errors.

Downloads and remote header reads use the standard library's `http.client` directly: it
reads straight into our buffer (no per-chunk objects), which keeps a loopback download as
fast as `curl`, and it lets us send exactly the `Range` we want.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from app.library.errors import GatedRepoError, HubNotFoundError, HubUnreachableError
from app.library.hub_errors import unreachable
from app.netguard import EgressRefusedError

MAX_REDIRECTS = 5
TIMEOUT = 30.0

# Opens the network guard for a host for as long as the returned context is entered.
Allow = Callable[[str], AbstractContextManager[None]]


@dataclass
class Response:
    """An open response: status, headers, the body stream and the connection to close."""

    status: int
    headers: http.client.HTTPMessage
    body: http.client.HTTPResponse
    conn: http.client.HTTPConnection
    url: str

    def close(self) -> None:
        self.body.close()
        self.conn.close()

    def header(self, name: str) -> str:
        return self.body.getheader(name) or ""


def _connect(url: str) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            host, parts.port, timeout=TIMEOUT, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(host, parts.port, timeout=TIMEOUT)
    return conn, path


def get(
    url: str,
    *,
    what: str,
    repo: str,
    token: str | None = None,
    range_start: int | None = None,
    range_end: int | None = None,
    method: str = "GET",
    allow: Allow | None = None,
) -> Response:
    """GET (or HEAD) `url`, following redirects; the token goes to the first host only.

    Raises `GatedRepoError` (401/403), `HubNotFoundError` (404) or `HubUnreachableError`.
    """
    first_host = urlsplit(url).hostname
    for _ in range(MAX_REDIRECTS + 1):
        conn, path = _connect(url)
        host = urlsplit(url).hostname or ""
        headers = {"User-Agent": "carrel", "Accept-Encoding": "identity"}
        if token and host == first_host:
            headers["Authorization"] = f"Bearer {token}"
        if range_start is not None:
            end = "" if range_end is None else str(range_end)
            headers["Range"] = f"bytes={range_start}-{end}"
        where = f"{urlsplit(url).scheme}://{host}"
        try:
            # Connecting first, apart from sending, tells the ledger whether any byte of
            # the request left when a request fails.
            if allow is not None and host != first_host:
                with allow(host):
                    conn.connect()
            else:
                conn.connect()
        except EgressRefusedError:
            conn.close()
            raise
        except OSError as exc:
            conn.close()
            raise unreachable(where, exc, nothing_sent=True) from exc
        try:
            conn.request(method, path, headers=headers)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise unreachable(where, exc) from exc
        if resp.status in (301, 302, 303, 307, 308):
            location = resp.getheader("Location") or ""
            resp.read()
            conn.close()
            url = urljoin(url, location)
            continue
        if resp.status in (401, 403):
            conn.close()
            raise GatedRepoError(repo, resp.status)
        if resp.status == 404:
            conn.close()
            raise HubNotFoundError(what)
        if resp.status == 416:
            conn.close()
            raise HubUnreachableError(host, "the server refused the byte range asked for")
        if resp.status >= 400:
            conn.close()
            raise HubUnreachableError(host, f"HTTP {resp.status} {resp.reason}")
        return Response(resp.status, resp.msg, resp, conn, url)
    raise HubUnreachableError(url, "too many redirects")
