"""Asking a real remote (llama-cpp-python's OpenAI-compatible server on loopback, behind a
recording proxy) from the window: the consent dialog shows what would leave, a refusal
sends nothing and is in the ledger, an approval brings a reply with the remote badge."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.engine.router import Route
from app.privacy.keys import Keys
from app.privacy.policy import EndpointKind
from app.ui.consent import ConsentDialog
from app.ui.main_window import MainWindow
from tests.support.servers import RecordingProxy
from tests.ui.conftest import PASSPHRASE, REMOTE_KEY, TIMEOUT_MS, completions, open_window
from tests.ui.test_settings import close_settings, open_settings, pick_route

pytestmark = [
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
    pytest.mark.slow,
]

QUESTION = "My e-mail is ada@example.org. Say hello."


def remote_window(qtbot: QtBot, proxy: RecordingProxy) -> MainWindow:
    """A window whose conversation routes local-first to an enabled self-hosted endpoint,
    its key in the vault (unlocked this session). No local model is loaded."""
    window = open_window(qtbot, load=False)
    wb = window.wb
    wb.privacy.add_endpoint("team", proxy.base_url, "smollm2", EndpointKind.SELF_HOSTED)
    wb.privacy.use_vault(True)
    Keys.vault(Path(wb.privacy.vault_path), PASSPHRASE).set("team", REMOTE_KEY)
    wb.vault_passphrase = PASSPHRASE
    wb.privacy.set_enabled("team", True)
    window.refresh_remote()
    window.new_conversation()
    pick_route(window, Route.LOCAL_FIRST)
    assert window.ask_remote_button.isEnabled()
    return window


def ask(qtbot: QtBot, window: MainWindow, text: str = QUESTION) -> ConsentDialog:
    window.prompt.setPlainText(text)
    with qtbot.waitSignal(window.consent.asked, timeout=TIMEOUT_MS) as blocker:
        window.ask_remote_button.click()
    dialog = blocker.args[0]
    assert isinstance(dialog, ConsentDialog)
    return dialog


def test_refused_sends_nothing_and_the_ledger_shows_it(
    qtbot: QtBot, carrel_home: Path, proxy: RecordingProxy
) -> None:
    window = remote_window(qtbot, proxy)
    dialog = ask(qtbot, window)
    shown = dialog.text()
    assert "Say hello" in shown and "[EMAIL_1]" in shown  # the request, redacted
    assert "My e-mail is [EMAIL_1]." in shown  # what is sent carries only the placeholder
    assert "ada@example.org" in shown  # ...and the table says what it stands for
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS) as blocker:
        dialog.refuse_button.click()
    assert blocker.args[0] is None
    assert "You refused to send this request" in window.error_bar.message
    assert completions(proxy) == []  # nothing reached the server
    [entry] = window.wb.privacy.ledger.entries()
    assert entry.outcome == "refused" and entry.consent == "refused" and entry.bytes == 0

    settings = open_settings(qtbot, window)
    settings.page.show_tab(settings.page.ledger)
    [row] = settings.page.ledger.rows()
    assert row[1] == "refused, nothing sent (refused by the person)" and row[11] == "team"
    assert row[2] == "gui" and entry.origin == "gui"  # asked in the window
    assert row[3] == window.wb.store.conversation(entry.conversation_id or -1).title
    close_settings(qtbot, settings)
    window.close()


def test_approved_reply_arrives_with_the_remote_badge(
    qtbot: QtBot, carrel_home: Path, proxy: RecordingProxy
) -> None:
    window = remote_window(qtbot, proxy)
    asked: list[object] = []
    window.consent.asked.connect(asked.append)
    dialog = ask(qtbot, window)
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS) as blocker:
        dialog.conversation_button.click()  # approve for this conversation
    done = blocker.args[0]
    assert done is not None and done.text.strip()
    assert done.stats.badge == "self-hosted" and done.stats.endpoint == proxy.base_url
    assert "self-hosted" in window.chat.toPlainText()
    [sent] = completions(proxy)
    [entry] = window.wb.privacy.ledger.entries()
    assert entry.outcome == "sent" and entry.consent == "conversation"
    assert entry.sha256 == hashlib.sha256(sent.body).hexdigest()
    assert b"ada@example.org" not in sent.body and b"[EMAIL_1]" in sent.body
    last = window.wb.store.messages(window.current_conversation or -1)[-1]
    assert last.stats["badge"] == "self-hosted"

    # Approved for the conversation: the next request is not asked about again.
    window.prompt.setPlainText("And goodbye?")
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS) as blocker:
        window.ask_remote()
    assert blocker.args[0] is not None and blocker.args[0].stats.badge == "self-hosted"
    assert len(asked) == 1 and len(completions(proxy)) == 2
    window.close()


def test_closing_the_window_while_asked_refuses_and_nothing_hangs(
    qtbot: QtBot, carrel_home: Path, proxy: RecordingProxy
) -> None:
    window = remote_window(qtbot, proxy)
    ask(qtbot, window)
    window.close()  # waits for the worker, which the bridge's refusal releases
    assert window.consent.pending == 0
    assert completions(proxy) == []
