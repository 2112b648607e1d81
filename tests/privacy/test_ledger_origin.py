"""Each ledger row says which face asked: the window ("gui"), the command line ("cli", the
default) or the local server ("server"); rows written before the column say "unknown".
The column is in the exports and in `carrel ledger`."""

from __future__ import annotations

from pathlib import Path

from app.privacy.ledger import LEDGER_MIGRATIONS, Ledger, Origin
from app.store import Store
from app.workbench import Workbench
from tests.support.runners import cli


def _record(ledger: Ledger, **extra: object) -> None:
    ledger.record(
        endpoint="team",
        host="llm.example",
        kind="self-hosted",
        model="m",
        size=0,
        sha256="",
        redactions=0,
        conversation_id=None,
        consent="refused",
        outcome="refused",
        **extra,  # type: ignore[arg-type]
    )


def test_rows_before_the_column_are_kept_as_unknown(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    store = Store(path)
    store.migrate("ledger", LEDGER_MIGRATIONS[:2])
    with store.transaction() as db:
        db.execute(
            "INSERT INTO egress_ledger (at, endpoint, host, kind, model, bytes, sha256,"
            " redactions, conversation_id, consent, outcome, reason, carried)"
            " VALUES (1.0, 'e', 'h', 'k', 'm', 5, 'abc', 1, NULL, 'once', 'sent', '', '')"
        )
    store.close()
    store = Store(path)
    try:
        ledger = Ledger(store)
        _record(ledger)
        _record(ledger, origin=Origin.SERVER)
        ledger.origin = Origin.GUI
        _record(ledger)
        old, cli_row, server_row, gui_row = ledger.entries()
        assert (old.bytes, old.origin, old.describe_origin()) == (5, "", "unknown")
        assert [cli_row.origin, server_row.origin, gui_row.origin] == ["cli", "server", "gui"]
        assert "origin" in ledger.export_csv().splitlines()[0]
        assert '"origin": "server"' in ledger.export_json()
    finally:
        store.close()


def test_carrel_ledger_shows_the_origin(carrel_home: Path) -> None:
    wb = Workbench.open()
    _record(wb.privacy.ledger, origin=Origin.SERVER)
    _record(wb.privacy.ledger)  # a command's own request
    wb.close()
    code, out, _ = cli("ledger")
    assert code == 0
    lines = out.splitlines()
    assert "[server] llm.example" in lines[0] and "[cli] llm.example" in lines[1]
