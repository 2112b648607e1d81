"""Consent before anything leaves: the dialog that shows a request's `Preview`, and the
bridge that lets the egress gate ask from a worker thread and wait for the answer.

The gate calls its consent callback on the thread that runs the remote request. The
`ConsentBridge` is that callback: it hands the preview to the GUI thread with a queued
signal, blocks on a `threading.Event` until the person answers, and returns the `Consent`.
Closing the window (or the bridge) answers every pending question with a refusal, so no
worker is left waiting.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.privacy.gate import Consent, Preview
from app.privacy.policy import EndpointKind

MARK_STYLE = "background: #fff0b3; color: #6b4e00; font-weight: bold;"
WARN_STYLE = "color: #8a4b00;"


def preview_html(preview: Preview) -> str:
    """The request exactly as it will be sent; each placeholder is marked, and the
    originals it stands for are listed at the end (they stay on this device)."""
    marks = [r.placeholder for r in preview.redactions]

    def marked(text: str) -> str:
        out = html.escape(text)
        for p in marks:
            out = out.replace(html.escape(p), f'<span style="{MARK_STYLE}">{html.escape(p)}</span>')
        return out

    parts = []
    for p in preview.parts:
        parts.append(f"<h4 style='margin: 10px 0 2px 0;'>{html.escape(p.label)}</h4>")
        text = marked(p.text.strip("\n"))
        parts.append(f"<pre style='white-space: pre-wrap; margin: 0;'>{text}</pre>")
    if preview.redactions:
        rows = "".join(
            f"<tr><td><span style='{MARK_STYLE}'>{html.escape(r.placeholder)}</span></td>"
            f"<td>&nbsp;stands for&nbsp;</td><td>{html.escape(r.original)}</td>"
            f"<td>&nbsp;({html.escape(r.kind.lower())})</td></tr>"
            for r in preview.redactions
        )
        parts.append(
            "<h4 style='margin: 12px 0 2px 0;'>Redacted — the originals stay on this device"
            "</h4>"
            f"<table>{rows}</table>"
        )
    else:
        parts.append("<p><i>Nothing was redacted.</i></p>")
    # What redaction does not look for: said before the person decides.
    parts += [f"<p style='{WARN_STYLE}'>Note: {html.escape(n)}</p>" for n in preview.notices]
    return "".join(parts)


def preview_heading(preview: Preview) -> str:
    e = preview.endpoint
    who = "a third-party vendor" if e.kind == EndpointKind.THIRD_PARTY else "your team's server"
    return (
        f"<b>Send this request to {html.escape(e.host)}?</b><br>"
        f"{html.escape(e.name)} · {who} ({e.kind}) · model {html.escape(e.model)} · "
        f"about {preview.size:,} bytes"
    )


class ConsentDialog(QDialog):
    """Shows exactly what a remote request carries and asks: approve once, approve for
    this conversation, or refuse. Closing it is a refusal.

    Signals: `answered(str)` with the `Consent` value, once.
    """

    answered = Signal(str)

    def __init__(self, preview: Preview, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = preview
        self._answer: Consent | None = None
        self.setWindowTitle("Carrel — send to a remote model?")
        self.resize(640, 560)
        heading = QLabel(preview_heading(preview), self)
        heading.setWordWrap(True)
        warn = QLabel("Below is everything the request carries, exactly as it will be sent.", self)
        warn.setStyleSheet(WARN_STYLE)
        self.body = QTextBrowser(self)
        self.body.setHtml(preview_html(preview))
        box = QDialogButtonBox(self)
        self.once_button = QPushButton("Approve once", self)
        self.conversation_button = QPushButton("Approve for this conversation", self)
        self.refuse_button = QPushButton("Refuse", self)
        if preview.conversation_id is None:
            self.conversation_button.hide()
        box.addButton(self.refuse_button, QDialogButtonBox.ButtonRole.RejectRole)
        box.addButton(self.conversation_button, QDialogButtonBox.ButtonRole.AcceptRole)
        box.addButton(self.once_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.refuse_button.setDefault(True)  # Enter never sends by accident
        self.once_button.clicked.connect(lambda: self._choose(Consent.ONCE))
        self.conversation_button.clicked.connect(lambda: self._choose(Consent.CONVERSATION))
        self.refuse_button.clicked.connect(lambda: self._choose(Consent.REFUSE))
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(warn)
        layout.addWidget(self.body, 1)
        layout.addWidget(box)

    def text(self) -> str:
        """What the dialog shows, as plain text."""
        return self.body.toPlainText()

    def _choose(self, consent: Consent) -> None:
        if self._answer is None:
            self._answer = consent
            self.answered.emit(str(consent))
        if consent == Consent.REFUSE:
            super().reject()
        else:
            super().accept()

    def reject(self) -> None:  # Esc or the window's close button
        self._choose(Consent.REFUSE)


@dataclass(eq=False)
class _Question:
    preview: Preview
    event: threading.Event = field(default_factory=threading.Event)
    answer: Consent = Consent.REFUSE
    dialog: ConsentDialog | None = None


class ConsentBridge(QObject):
    """The gate's consent callback: asks on the GUI thread, waits on the worker's.

    Signals: `asked(object)` with the `ConsentDialog` once it is shown,
    `answered(str)` with the `Consent` value once the person has answered.
    """

    asked = Signal(object)
    answered = Signal(str)
    _requested = Signal(object)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._window = parent
        self._lock = threading.Lock()
        self._pending: list[_Question] = []
        self._closed = False
        self._requested.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def __call__(self, preview: Preview) -> Consent:
        """Called by the gate on a worker thread: blocks until the person answers."""
        question = _Question(preview)
        with self._lock:
            if self._closed:
                return Consent.REFUSE
            self._pending.append(question)
        if QThread.currentThread() is self.thread():
            # Asked on the GUI thread itself: a modal dialog, never a wait on ourselves.
            self._show(question)
            if question.dialog is not None and not question.event.is_set():
                question.dialog.exec()
        else:
            self._requested.emit(question)
        question.event.wait()
        return question.answer

    @Slot(object)
    def _show(self, question: _Question) -> None:
        if question.event.is_set():
            return
        dialog = ConsentDialog(question.preview, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.answered.connect(lambda value: self._answer(question, Consent(value)))
        question.dialog = dialog
        dialog.open()
        self.asked.emit(dialog)

    def _answer(self, question: _Question, consent: Consent) -> None:
        with self._lock:
            if question in self._pending:
                self._pending.remove(question)
        question.answer = consent
        question.event.set()
        self.answered.emit(str(consent))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def shutdown(self) -> None:
        """Refuse every question still open and every later one (the window closes)."""
        with self._lock:
            self._closed = True
            pending, self._pending = self._pending, []
        for question in pending:
            question.answer = Consent.REFUSE
            question.event.set()
            if question.dialog is not None:
                question.dialog.done(QDialog.DialogCode.Rejected)
