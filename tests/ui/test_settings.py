"""The Settings dialog over a real Workbench: endpoints that persist and start switched off,
a key stored in the real encrypted vault and shown only by its last four characters, the
plain message where no system keyring exists, redaction lists, and the ledger's exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QTableWidget
from pytestqt.qtbot import QtBot

from app.engine.router import Route
from app.privacy.keys import Keys
from app.privacy.policy import EndpointKind, load_policy, policy_file
from app.ui.main_window import MainWindow
from app.ui.pages.endpoints import KEY, ON
from app.ui.pages.settings import SettingsDialog
from tests.ui.conftest import PASSPHRASE, REMOTE_KEY, TIMEOUT_MS, open_window

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def open_settings(qtbot: QtBot, window: MainWindow) -> SettingsDialog:
    with qtbot.waitSignal(window.settings_opened, timeout=TIMEOUT_MS) as blocker:
        window.settings_action.trigger()
    dialog = blocker.args[0]
    assert isinstance(dialog, SettingsDialog)
    return dialog


def close_settings(qtbot: QtBot, dialog: SettingsDialog) -> None:
    with qtbot.waitSignal(dialog.finished, timeout=TIMEOUT_MS):
        dialog.reject()


def pick_route(window: MainWindow, route: Route) -> None:
    """What the person does: pick a route in the combo box."""
    combo = window.route.route
    index = combo.findData(str(route))
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def visible_texts(dialog: SettingsDialog) -> list[str]:
    texts = [w.text() for w in dialog.findChildren(QLabel)]
    texts += [w.text() for w in dialog.findChildren(QLineEdit)]
    for table in dialog.findChildren(QTableWidget):
        for r in range(table.rowCount()):
            for c in range(table.columnCount()):
                item = table.item(r, c)
                texts.append(item.text() if item is not None else "")
    return texts


def test_add_enable_disable_persists_and_the_window_follows(
    qtbot: QtBot, carrel_home: Path
) -> None:
    window = open_window(qtbot, load=False)
    assert window.status.badge.text() == "On-device"
    dialog = open_settings(qtbot, window)
    tab = dialog.page.endpoints
    tab.name.setText("team")
    tab.url.setText("http://127.0.0.1:9/v1")
    tab.model.setText("smollm2")
    tab.kind.setCurrentIndex(tab.kind.findData(str(EndpointKind.SELF_HOSTED)))
    with qtbot.waitSignal(dialog.endpoints_changed, timeout=TIMEOUT_MS):
        tab.add_button.click()
    assert tab.names() == ["team"]
    on = tab.table.item(tab.row_of("team"), ON)
    assert on is not None and on.checkState() == Qt.CheckState.Unchecked  # off by default
    saved = load_policy(window.wb.paths).endpoint("team")
    assert not saved.enabled and saved.kind == EndpointKind.SELF_HOSTED
    assert window.status.badge.text() == "On-device"

    with qtbot.waitSignal(dialog.endpoints_changed, timeout=TIMEOUT_MS):
        on.setCheckState(Qt.CheckState.Checked)  # the person ticks "On"
    assert load_policy(window.wb.paths).endpoint("team").enabled
    assert "remote enabled: team" in window.status.badge.text()

    tab.url.setText("not a url")
    tab.name.setText("broken")
    tab.model.setText("m")
    assert not tab.add()
    assert "is not an http(s) URL" in dialog.page.error_bar.message
    close_settings(qtbot, dialog)

    window.new_conversation()
    cid = window.current_conversation
    assert cid is not None
    assert not window.ask_remote_button.isEnabled()  # on-device only by default
    pick_route(window, Route.LOCAL_FIRST)
    params = window.wb.store.conversation(cid).params
    assert params["route"] == "local-first" and params["remote"] == "team"
    assert window.ask_remote_button.isEnabled()
    assert window.route.endpoint.currentData() == "team"

    dialog = open_settings(qtbot, window)
    on = dialog.page.endpoints.table.item(0, ON)
    assert on is not None and on.checkState() == Qt.CheckState.Checked
    with qtbot.waitSignal(dialog.endpoints_changed, timeout=TIMEOUT_MS):
        on.setCheckState(Qt.CheckState.Unchecked)
    assert not load_policy(window.wb.paths).endpoint("team").enabled
    assert window.status.badge.text() == "On-device"
    assert not window.ask_remote_button.isEnabled()
    close_settings(qtbot, dialog)
    window.close()

    again = open_window(qtbot, load=False)  # a restart keeps the endpoint and the route
    assert [e.name for e in again.wb.privacy.endpoints()] == ["team"]
    assert again.current_conversation == cid
    assert again.route.current_route() == Route.LOCAL_FIRST
    again.close()


def test_a_key_in_the_vault_is_shown_only_by_its_last_four(qtbot: QtBot, carrel_home: Path) -> None:
    window = open_window(qtbot, load=False)
    wb = window.wb
    wb.privacy.add_endpoint("team", "http://127.0.0.1:9/v1", "m", EndpointKind.SELF_HOSTED)
    wb.privacy.use_vault(True)
    dialog = open_settings(qtbot, window)
    tab = dialog.page.endpoints
    keys = tab.keys
    assert "encrypted vault" in keys.where.text() and keys.vault_row.isVisible()
    assert not keys.set_button.isEnabled()  # locked

    # A new vault: an empty passphrase, then two that differ, are refused; twice the same opens.
    assert keys.repeat.isVisible() and keys.unlock_button.text() == "Create vault"
    for first, second in (("", ""), (PASSPHRASE, PASSPHRASE + "x")):
        keys.passphrase.setText(first)
        keys.repeat.setText(second)
        with qtbot.waitSignal(keys.failed, timeout=TIMEOUT_MS):
            keys.unlock_button.click()
    assert not Path(wb.privacy.vault_path).exists() and wb.vault_passphrase is None
    keys.passphrase.setText(PASSPHRASE)
    keys.repeat.setText(PASSPHRASE)
    with qtbot.waitSignals([keys.ready, keys.hints], order="strict", timeout=TIMEOUT_MS):
        keys.unlock_button.click()
    assert wb.vault_passphrase == PASSPHRASE
    assert keys.passphrase.text() == "" and not keys.vault_row.isVisible()

    tab.select("team")
    keys.key.setText(REMOTE_KEY)
    with qtbot.waitSignal(keys.key_changed, timeout=TIMEOUT_MS) as blocker:
        keys.set_button.click()
    assert blocker.args == ["team", "…7c3d"]
    assert keys.key.text() == ""
    assert "…7c3d" in keys.hint.text()
    cell = tab.table.item(tab.row_of("team"), KEY)
    assert cell is not None and cell.text() == "…7c3d"
    shown = visible_texts(dialog)
    assert not any(REMOTE_KEY[:-4] in t for t in shown)

    vault = Path(wb.privacy.vault_path)
    assert Keys.vault(vault, PASSPHRASE).get("team") == REMOTE_KEY
    assert REMOTE_KEY.encode() not in vault.read_bytes()
    assert REMOTE_KEY not in policy_file(wb.paths).read_text(encoding="utf-8")

    with qtbot.waitSignal(keys.key_changed, timeout=TIMEOUT_MS) as blocker:
        keys.clear_button.click()
    assert blocker.args == ["team", "(no key)"]
    close_settings(qtbot, dialog)
    window.close()


def test_no_system_keyring_is_said_plainly_and_the_vault_offered(
    qtbot: QtBot, carrel_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/nonexistent")
    window = open_window(qtbot, load=False)
    dialog = open_settings(qtbot, window)
    keys = dialog.page.endpoints.keys
    qtbot.waitUntil(lambda: keys.vault_row.isVisible(), timeout=TIMEOUT_MS)
    assert keys.where.text().startswith("No system keyring is available on this machine")
    assert "encrypted vault" in keys.where.text()
    close_settings(qtbot, dialog)
    window.close()


def test_redaction_lists_and_ledger_exports(
    qtbot: QtBot, carrel_home: Path, tmp_path: Path
) -> None:
    window = open_window(qtbot, load=False)
    dialog = open_settings(qtbot, window)
    redaction = dialog.page.redaction
    redaction.terms.field.setText("Project Falcon")
    redaction.terms.add_button.click()
    redaction.patterns.field.setText("ACME-[")
    redaction.patterns.add_button.click()
    assert "not a valid regular expression" in dialog.page.error_bar.message
    redaction.patterns.field.setText(r"ACME-\d{4}")
    redaction.patterns.add_button.click()
    redaction.kinds["PHONE"].setChecked(False)
    collections = dialog.page.collections
    collections.collections.field.setText("contracts")
    collections.collections.add_button.click()
    policy = load_policy(window.wb.paths)
    assert policy.redact_terms == ["Project Falcon"]
    assert policy.redact_patterns == [r"ACME-\d{4}"]
    assert "PHONE" not in policy.redact_kinds and "EMAIL" in policy.redact_kinds
    assert policy.on_device_only == ["contracts"]

    ledger = dialog.page.ledger
    assert ledger.rows() == [] and not ledger.csv_button.isEnabled()
    window.wb.privacy.ledger.record(
        endpoint="team",
        host="127.0.0.1",
        kind="self-hosted",
        model="m",
        size=120,
        sha256="ab" * 32,
        redactions=1,
        conversation_id=None,
        consent="once",
    )
    dialog.page.show_tab(ledger)  # showing the tab reads the ledger again
    [row] = ledger.rows()
    assert row[1] == "sent" and row[11] == "team" and row[8] == "120"
    assert row[2] == "gui"  # recorded by the window's Workbench
    assert ledger.export("csv", tmp_path / "ledger.csv")
    assert ledger.export("json", tmp_path / "ledger.json")
    assert "sha256" in (tmp_path / "ledger.csv").read_text(encoding="utf-8").splitlines()[0]
    assert json.loads((tmp_path / "ledger.json").read_text(encoding="utf-8"))[0]["bytes"] == 120
    close_settings(qtbot, dialog)
    window.close()
