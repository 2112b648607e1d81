"""The chat view on its own: streaming appends, then Markdown replaces the streamed text."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.ui.chat_view import ChatView

REPLY = "Intro\n\n- one\n- two\n\n```python\nprint('hi')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"


def test_stream_then_render_markdown(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.add_user_message("Question")
    view.begin_reply()
    for piece in ("Intro\n\n- on", "e\n- two"):
        view.append_stream(piece)
    assert view.streamed_text() == "Intro\n\n- one\n- two"
    view.end_reply(REPLY, "SmolLM2 · 50.0 tok/s", stopped=True)
    assert not view.streaming
    text = view.toPlainText()
    assert "- one" not in text  # the list is rendered, not shown as source
    assert "print('hi')" in text and "(stopped) · SmolLM2 · 50.0 tok/s" in text
    html = view.toHtml()
    assert "<table" in html and "<li" in html
    assert text.startswith("You\nQuestion\nAssistant\nIntro")
