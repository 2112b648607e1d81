"""`Guard`: the server's door, as plain ASGI middleware in front of every route.

In order: the Host header must name this machine when listening on loopback (a web page
cannot reach the server through DNS rebinding); a token, when one is set, must come as
`Authorization: Bearer …` (401 otherwise; compared in constant time); a body may not be
larger than the limit (413, from Content-Length or while it streams in); a POST must be
JSON (a web page's form cannot post to it without a CORS preflight). Plain ASGI rather than
Starlette's `BaseHTTPMiddleware`, which would buffer streamed replies.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from app.server.errors import ApiError
from app.server.options import ServerOptions, is_loopback

Scope = dict[str, Any]
Receive = Any
Send = Any
ASGIApp = Any

LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


class BodyTooLargeError(ApiError):
    """Raised from `receive` when a body grows past the limit while it streams in."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"The request body is larger than this server's limit of {limit // 1024} KiB.",
            code="body_too_large",
        )


class Guard:
    """ASGI middleware enforcing `ServerOptions`' safety rules (see the module)."""

    def __init__(self, app: ASGIApp, options: ServerOptions) -> None:
        self.app = app
        self.options = options

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        problem = self._problem(scope, headers)
        if problem is not None:
            await _send_error(send, problem)
            return
        limit = self.options.max_body_bytes
        seen = 0

        async def bounded() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLargeError(limit)
            return message

        try:
            await self.app(scope, bounded, send)
        except BodyTooLargeError as exc:  # read outside a route's own error handling
            await _send_error(send, exc)

    def _problem(self, scope: Scope, headers: dict[str, str]) -> ApiError | None:
        if scope["method"] == "OPTIONS":
            return None  # CORS preflight: answered by the CORS middleware, or 405
        if self.options.loopback:
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in LOCAL_NAMES and not is_loopback(name):
                return ApiError(
                    403, f"This server answers only to 127.0.0.1, not to '{host}'.", code="bad_host"
                )
        token = self.options.token
        if token:
            given = headers.get("authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() != "bearer" or not secrets.compare_digest(
                value.strip().encode(), token.encode()
            ):
                what = "a wrong token" if given else "no token"
                return ApiError(
                    401,
                    f"This server needs its token and the request had {what}: send "
                    "'Authorization: Bearer <token>' (the token is shown in Carrel's Server "
                    "panel and by 'carrel serve --show-token').",
                    code="invalid_api_key",
                )
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.options.max_body_bytes:
            return _too_large(self.options.max_body_bytes)
        if scope["method"] == "POST":
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != "application/json":
                return ApiError(
                    400, "Send the body as JSON (Content-Type: application/json).", code="bad_type"
                )
        return None


def _too_large(limit: int) -> ApiError:
    return BodyTooLargeError(limit)


async def _send_error(send: Send, error: ApiError) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if error.status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
