"""The routes of `carrel serve`: OpenAI's `/v1` API plus Carrel's collections.

- `GET /v1/models`, `POST /v1/chat/completions` and `POST /v1/completions` (streamed or
  not), `POST /v1/embeddings`
- `GET /v1/collections`, `POST /v1/collections/{name}/search`

Each route reads its body, runs the blocking part through `ServerCore` off the event loop,
and answers JSON; every failure is an OpenAI-shaped error (`app.server.errors`), and every
request is one `Entry` in the `RequestLog`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from app.errors import CarrelError
from app.server import chat
from app.server import completions as text
from app.server.errors import ApiError
from app.server.guard import Guard
from app.server.requestlog import Entry, RequestLog
from app.server.requests import parse_json
from app.server.service import ServerCore

log = logging.getLogger(__name__)

Handler = Callable[[Request, Entry], Awaitable[Response]]


def error_of(exc: BaseException) -> ApiError:
    """Any failure as the error a client gets; an unexpected one is logged in full."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, CarrelError):
        from app.server.errors import from_carrel

        return from_carrel(exc)
    log.error("Unexpected error in the server", exc_info=exc)
    return ApiError(500, f"Unexpected error: {type(exc).__name__}: {exc}", code="internal")


def build_app(core: ServerCore, requests: RequestLog) -> Starlette:
    """The ASGI application for `core`, behind the `Guard` (and CORS when origins are set)."""

    def route(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            entry = Entry(request.method, request.url.path)
            try:
                response = await handler(request, entry)
            except BaseException as exc:
                if isinstance(exc, anyio.get_cancelled_exc_class()):
                    raise
                api = error_of(exc)
                entry.fail(api.status)
                requests.close(entry)
                return JSONResponse(api.body(), status_code=api.status)
            if isinstance(response, StreamingResponse):
                response.background = _closer(requests, entry)
            else:
                requests.close(entry)
            return response

        return endpoint

    async def body_of(request: Request) -> dict[str, Any]:
        return parse_json(await request.body())

    async def models(request: Request, entry: Entry) -> Response:
        data = await anyio.to_thread.run_sync(core.models)
        return JSONResponse({"object": "list", "data": data})

    async def chat_completions(request: Request, entry: Entry) -> Response:
        body = await body_of(request)
        parsed, work, citations = await anyio.to_thread.run_sync(core.prepare, body)
        prepared = chat.prepared(parsed, work, citations)
        if parsed.stream:
            return StreamingResponse(
                chat.stream(core.scheduler, prepared, entry),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
            )
        return JSONResponse(await chat.complete(core.scheduler, prepared, entry))

    async def completions(request: Request, entry: Entry) -> Response:
        body = await body_of(request)
        parsed, works = await anyio.to_thread.run_sync(core.prepare_completion, body)
        if parsed.stream:
            return StreamingResponse(
                text.stream(core.scheduler, parsed, works, entry),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
            )
        return JSONResponse(await text.complete(core.scheduler, parsed, works, entry))

    async def embeddings(request: Request, entry: Entry) -> Response:
        body = await body_of(request)
        return JSONResponse(await anyio.to_thread.run_sync(core.embeddings, body))

    async def collections(request: Request, entry: Entry) -> Response:
        data = await anyio.to_thread.run_sync(core.collections)
        return JSONResponse({"object": "list", "data": data})

    async def search(request: Request, entry: Entry) -> Response:
        body = await body_of(request)
        name = request.path_params["name"]
        return JSONResponse(await anyio.to_thread.run_sync(core.search, name, body))

    async def not_found(request: Request, exc: Exception) -> Response:
        api = ApiError(
            404, f"There is no {request.method} {request.url.path} here.", code="no_route"
        )
        return JSONResponse(api.body(), status_code=404)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        api = ApiError(405, f"{request.url.path} does not take {request.method}.", code="method")
        return JSONResponse(api.body(), status_code=405)

    routes = [
        Route("/v1/models", route(models), methods=["GET"]),
        Route("/v1/chat/completions", route(chat_completions), methods=["POST"]),
        Route("/v1/completions", route(completions), methods=["POST"]),
        Route("/v1/embeddings", route(embeddings), methods=["POST"]),
        Route("/v1/collections", route(collections), methods=["GET"]),
        Route("/v1/collections/{name}/search", route(search), methods=["POST"]),
    ]
    options = core.options
    middleware = [Middleware(Guard, options=options)]
    if options.cors_origins:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(options.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type"],
            ),
        )
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={404: not_found, 405: not_allowed},
    )


def _closer(requests: RequestLog, entry: Entry) -> Any:
    from starlette.background import BackgroundTask

    return BackgroundTask(requests.close, entry)
