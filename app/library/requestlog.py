"""Hub requests in the egress ledger: the hub client writes a row before each action
(search, file list, header read, download) and settles it with what became of it.

The library does not know the privacy package: it talks to any `RequestLog`, which the
Workbench passes in (the egress `Ledger` is one). Outcomes are the ledger's words.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from app.netguard import EgressRefusedError

SENT = "sent"
FAILED_UNSENT = "failed-unsent"
FAILED_SENT = "failed-sent"


class RequestLog(Protocol):
    """Where hub requests are written down (`app.privacy.ledger.Ledger`)."""

    def open_hub_request(self, endpoint: str, host: str, repo: str, carried: str) -> int: ...

    def settle(self, entry_id: int, outcome: str, reason: str = "") -> None: ...


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = cause.__cause__ or cause.__context__


def outcome_of(exc: BaseException) -> tuple[str, str]:
    """(outcome, reason) of a hub action that raised `exc`. Only a failure that is known to
    come before the request was written (connecting, refused by the guard) is "nothing
    sent"; any other is counted as sent."""
    import httpx2

    status = None
    for e in _chain(exc):
        if isinstance(e, EgressRefusedError):
            return FAILED_UNSENT, "refused by Carrel's network guard"
        if getattr(e, "nothing_sent", False):
            return FAILED_UNSENT, str(getattr(e, "detail", "") or "cannot connect")
        if isinstance(e, httpx2.ConnectError | httpx2.ConnectTimeout):
            return FAILED_UNSENT, f"cannot connect ({e})" if str(e) else "cannot connect"
        response = getattr(e, "response", None)
        status = status or getattr(e, "status", None) or getattr(response, "status_code", None)
    if status:
        return FAILED_SENT, f"HTTP {status}"
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return FAILED_SENT, first[:160]
