"""Errors of the local server, in the shape OpenAI's clients read.

Every failure answers `{"error": {"message", "type", "param", "code"}}` with a status a
client library turns into the matching exception (`openai.NotFoundError` for 404, …). The
message is the same one-line, act-on-it text the GUI and the CLI show.
"""

from __future__ import annotations

from typing import Any

from app.errors import (
    CarrelError,
    ContextExceededError,
    ModelLoadError,
    ModelNotFoundError,
    ModelTooLargeError,
    NoModelLoadedError,
)
from app.privacy.errors import ConsentRefusedError, OnDeviceOnlyError, RemoteDisabledError
from app.rag.errors import CollectionNotFoundError

# OpenAI's error types by status.
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}


class ApiError(Exception):
    """A request the server answers with an error: HTTP status, message for a person,
    OpenAI's `code` and the offending `param` when there is one."""

    def __init__(
        self, status: int, message: str, *, code: str | None = None, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": _TYPES.get(self.status, "server_error"),
                "param": self.param,
                "code": self.code,
            }
        }


def bad_request(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, message, code="invalid_request", param=param)


def from_carrel(exc: CarrelError) -> ApiError:
    """The status a core error deserves: a name that points at nothing is 404; a model
    that cannot be loaded (too large, broken) or is not there is 503 (retry later, or
    another model); privacy refusals are 403; the rest is the client's request (400)."""
    if isinstance(exc, ModelNotFoundError):
        return ApiError(404, exc.message, code="model_not_found", param="model")
    if isinstance(exc, CollectionNotFoundError):
        return ApiError(404, exc.message, code="collection_not_found")
    if isinstance(exc, ModelTooLargeError):
        return ApiError(503, exc.message, code="model_too_large", param="model")
    if isinstance(exc, ModelLoadError | NoModelLoadedError):
        return ApiError(503, exc.message, code="model_unavailable", param="model")
    if isinstance(exc, ContextExceededError):
        return ApiError(400, exc.message, code="context_length_exceeded", param="messages")
    if isinstance(exc, ConsentRefusedError | OnDeviceOnlyError | RemoteDisabledError):
        return ApiError(403, exc.message, code="remote_refused")
    return ApiError(400, exc.message, code="carrel_error")
