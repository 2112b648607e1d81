"""The ledger tells what became of each request: written before sending, then sent, failed
before any byte left, or failed after sending; the badge counts only what left."""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from app.engine.backend import GenerationParams
from app.engine.remote import RemoteBackend
from app.privacy.errors import RemoteFailedError
from app.privacy.gate import Consent
from app.privacy.ledger import LEDGER_MIGRATIONS, Ledger, Outcome, summary
from app.prompt import ChatMessage
from app.store import Store
from tests.support.consent import Answers, endpoint_for, gate_with

QUESTION = [ChatMessage("user", "Say hello.")]
PARAMS = GenerationParams(max_tokens=4, temperature=0.0, seed=1)


class _Failing(BaseHTTPRequestHandler):
    """Reads the whole request, then answers 500: the bytes left, the request failed."""

    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        body = b'{"error": {"message": "boom"}}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def failing_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_an_answer_with_an_error_status_failed_after_sending(
    store: Store, failing_server: str
) -> None:
    backend = RemoteBackend(endpoint_for(failing_server), gate_with(store, Answers(Consent.ONCE)))
    with pytest.raises(RemoteFailedError, match="HTTP 500"):
        list(backend.stream(QUESTION, PARAMS))
    backend.close()
    [entry] = Ledger(store).entries()
    assert _Failing.received, "the request reached the server"
    assert entry.outcome == Outcome.FAILED_SENT and entry.left_device
    assert entry.describe_outcome() == "failed after sending (HTTP 500)"
    assert summary([entry]).startswith("1 request(s) left this device; 0 refused")


def test_the_summary_counts_only_what_left(store: Store) -> None:
    ledger = Ledger(store)
    conversation = store.create_conversation(title="Budget for Q3")
    record = functools.partial(
        ledger.record, endpoint="e", host="h", kind="k", model="m", size=9, sha256="x"
    )
    rows = [
        record(redactions=0, conversation_id=conversation.id, consent="once"),
        record(redactions=0, conversation_id=None, consent="refused", outcome="refused"),
        record(redactions=0, conversation_id=None, consent="once", outcome="sending"),
        record(redactions=0, conversation_id=999, consent="once", outcome="sending"),
    ]
    ledger.settle(rows[2].id, Outcome.FAILED_UNSENT, "cannot connect")
    ledger.settle(rows[0].id, Outcome.FAILED_UNSENT)  # already settled: stays sent
    entries = ledger.entries()
    assert [e.outcome for e in entries] == ["sent", "refused", "failed-unsent", "sending"]
    assert entries[0].describe_conversation() == "Budget for Q3"
    assert entries[3].describe_conversation() == "#999 (deleted)"
    assert summary(entries) == (
        "1 request(s) left this device; 2 refused or failed before sending; "
        "1 unfinished (may have left)."
    )
    assert "Budget for Q3" in ledger.export_json() and "conversation_title" in ledger.export_csv()


def test_a_ledger_written_before_the_outcomes_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    store = Store(path)
    store.migrate("ledger", LEDGER_MIGRATIONS[:1])
    with store.transaction() as db:
        db.execute(
            "INSERT INTO egress_ledger (at, endpoint, host, kind, model, bytes, sha256,"
            " redactions, conversation_id, consent, outcome, reason)"
            " VALUES (1.0, 'e', 'h', 'k', 'm', 5, 'abc', 1, NULL, 'once', 'sent', '')"
        )
    store.close()
    store = Store(path)
    [entry] = Ledger(store).entries()
    assert (entry.outcome, entry.bytes, entry.carried) == ("sent", 5, "")
    with pytest.raises(sqlite3.IntegrityError):
        Ledger(store).record(
            endpoint="e",
            host="h",
            kind="k",
            model="m",
            size=0,
            sha256="",
            redactions=0,
            conversation_id=None,
            consent="x",
            outcome="maybe",
        )
    store.close()
