"""Why the hub could not be asked, in words: an exception from huggingface_hub, httpx or
the socket layer turned into the `HubError` a person reads ("its name could not be looked
up: no network, or no DNS") instead of a cut-off "[Errno -2]".

`check_reachable` looks the hub's name up before an action: without a network the lookup
fails at once, where huggingface_hub would retry the request five times with back-off
(about 23 s, measured in BENCHMARKS.md, Issue 17) before giving up.
"""

from __future__ import annotations

import errno
import socket
import ssl
import urllib.request

from app.library.errors import GatedRepoError, HubError, HubNotFoundError, HubUnreachableError

# getaddrinfo's failures (negative numbers in socket.gaierror), in words.
_LOOKUP = {
    socket.EAI_NONAME: "its name could not be looked up (no network connection, or no DNS)",
    socket.EAI_AGAIN: "looking its name up failed for now (the DNS server did not answer)",
    getattr(socket, "EAI_NODATA", -5): "its name has no address (check HF_ENDPOINT)",
    socket.EAI_FAIL: "looking its name up failed (the DNS server refused)",
}
_ERRNO = {
    errno.ECONNREFUSED: "it refused the connection (nothing listens there)",
    errno.ENETUNREACH: "the network is unreachable (no network connection)",
    errno.EHOSTUNREACH: "the host is unreachable",
    errno.ETIMEDOUT: "it did not answer in time",
    errno.ECONNRESET: "the connection was cut off",
}


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions behind it (causes, contexts, and exceptions held in its
    arguments, as urllib3 and httpx wrap them)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 20:
        e = todo.pop(0)
        if any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]
        todo += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
        reason = getattr(e, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return seen


def network_reason(exc: BaseException) -> str:
    """What went wrong on the way to a server, in words ('' when it is not clear)."""
    chain = _chain(exc)
    for e in chain:
        if isinstance(e, socket.gaierror) and e.errno in _LOOKUP:
            return _LOOKUP[e.errno]
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            return "its certificate could not be verified (a proxy in the way, or a wrong clock)"
        if isinstance(e, TimeoutError | socket.timeout):
            return "it did not answer in time"
        if isinstance(e, OSError) and e.errno in _ERRNO:
            return _ERRNO[e.errno]
    text = " ".join(str(e) for e in chain)
    if "Name or service not known" in text or "[Errno -2]" in text:
        return _LOOKUP[socket.EAI_NONAME]
    if "Temporary failure in name resolution" in text or "[Errno -3]" in text:
        return _LOOKUP[socket.EAI_AGAIN]
    if "timed out" in text.lower():
        return "it did not answer in time"
    if "refused" in text.lower():
        return _ERRNO[errno.ECONNREFUSED]
    return ""


def unreachable(endpoint: str, exc: BaseException, *, nothing_sent: bool = False) -> HubError:
    """A `HubUnreachableError` saying why in words, with the technical detail after it."""
    reason = network_reason(exc)
    detail = str(exc).strip() or type(exc).__name__
    if len(detail) > 160:
        detail = detail[:157] + "…"
    text = f"{reason}; {detail}" if reason else detail
    return HubUnreachableError(endpoint, text, nothing_sent=nothing_sent)


def translate(exc: Exception, endpoint: str, what: str, repo: str) -> HubError:
    """The `HubError` for a failed huggingface_hub call about `what` (in `repo`)."""
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HubError):
        return exc
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):
            return GatedRepoError(repo, status)
        if status == 404:
            return HubNotFoundError(what)
        return HubUnreachableError(endpoint, f"HTTP {status}")
    return unreachable(endpoint, exc)


def check_reachable(endpoint: str, host: str, port: int) -> None:
    """Look `host` up (no connection is made); a failed lookup raises at once the
    `HubUnreachableError` the request would have raised after its retries. Not behind a
    proxy (HTTPS_PROXY and kin): the proxy looks the name up, and this machine may not."""
    scheme = "https" if port == 443 else "http"
    proxies = urllib.request.getproxies()
    if (scheme in proxies or "all" in proxies) and not urllib.request.proxy_bypass(host):
        return
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise unreachable(endpoint, exc, nothing_sent=True) from exc
