"""`ServerPage`: the local server from the window — start and stop it, its address, its
token (by its last four characters), the model for requests that name none, how long an
idle model it loaded stays loaded (saved in the settings, which `carrel serve` reads too),
and a live log of requests with time, model, tokens and duration.

The server shares the window's Workbench, so its requests queue on the same model owner
thread as the chat. Starting binds a socket (quick); stopping waits for replies in
progress, so it runs on a thread of its own and `stopped` arrives when it is done.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.errors import CarrelError
from app.server import options as opts
from app.workbench import Workbench

if TYPE_CHECKING:  # Starlette and uvicorn load when the server starts, not with the window
    from app.server.requestlog import Entry
    from app.server.runner import LocalServer

DEFAULT_MODEL = "(the loaded model, else the default)"
LOG_LINES = 500


class ServerPage(QWidget):
    """Starts and stops `carrel serve`'s server inside the window.

    Signals: `started(str)` with the address; `stopped()`; `logged(str)` with one request's
    line (emitted from the server's threads, delivered on the GUI thread); `failed(str)`
    with a message for a person.
    """

    started = Signal(str)
    stopped = Signal()
    logged = Signal(str)
    failed = Signal(str)

    def __init__(self, wb: Workbench, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.wb = wb
        self.server: LocalServer | None = None
        self.host = QLineEdit(opts.DEFAULT_HOST, self)
        self.port = QSpinBox(self)
        self.port.setRange(0, 65535)
        self.port.setValue(opts.DEFAULT_PORT)
        self.model = QComboBox(self)
        # Saved in the settings: `carrel serve` uses the same idle time.
        self.idle = QDoubleSpinBox(self)
        self.idle.setRange(0.5, 24 * 60)
        self.idle.setDecimals(1)
        self.idle.setSuffix(" min")
        self.idle.setValue(wb.settings.server.idle_unload_minutes)
        self.idle.setToolTip("A model the server loaded is unloaded after this long unused.")
        self.idle.valueChanged.connect(self._set_idle)
        self.address = QLabel("Stopped", self)
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.token = QLabel(self)
        self.new_token = QPushButton("New token", self)
        self.new_token.clicked.connect(self._make_token)
        self.toggle = QPushButton("Start", self)
        self.toggle.clicked.connect(self._toggle)
        self.log = QListWidget(self)

        form = QFormLayout()
        form.addRow("Address", self.host)
        form.addRow("Port", self.port)
        form.addRow("Model", self.model)
        form.addRow("Unload when idle for", self.idle)
        token_row = QHBoxLayout()
        token_row.addWidget(self.token, 1)
        token_row.addWidget(self.new_token)
        form.addRow("Token", token_row)
        form.addRow("Serving", self.address)
        note = QLabel(
            "An OpenAI-compatible API for notebooks and scripts on this machine. Another "
            "address than 127.0.0.1 needs a token; nothing is ever sent to a remote endpoint.",
            self,
        )
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.toggle)
        layout.addWidget(QLabel("Requests", self))
        layout.addWidget(self.log, 1)
        self.logged.connect(self._append)
        self.stopped.connect(self._on_stopped)
        self.refresh()

    def refresh(self) -> None:
        """Fill the model list and the token's hint from the Workbench."""
        current = self.model.currentText()
        self.model.clear()
        self.model.addItems([DEFAULT_MODEL, *(m.name for m in self.wb.models())])
        if current:
            self.model.setCurrentText(current)
        self.token.setText(opts.token_hint(opts.saved_token(self.wb)))

    def start(self) -> None:
        if self.server is not None:
            return
        model = self.model.currentText()
        options = opts.ServerOptions(
            host=self.host.text().strip() or opts.DEFAULT_HOST,
            port=self.port.value(),
            model="" if model == DEFAULT_MODEL else model,
            token=opts.saved_token(self.wb),
            idle_unload_s=self.idle.value() * 60,
        )
        from app.server.runner import LocalServer

        try:
            server = LocalServer(self.wb, options)
            server.requests.listeners.append(self._on_request)
            server.start()
        except CarrelError as exc:
            self.failed.emit(exc.message)
            return
        self.server = server
        self.address.setText(server.url)
        self.toggle.setText("Stop")
        self._editable(False)
        self.started.emit(server.url)

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        self.toggle.setEnabled(False)
        self.address.setText("Stopping…")

        def finish() -> None:
            server.stop()
            self.stopped.emit()

        threading.Thread(target=finish, name="server-stop", daemon=True).start()

    def shutdown(self) -> None:
        """Stop the server before the window closes the Workbench (blocking)."""
        server, self.server = self.server, None
        if server is not None:
            server.stop()

    def _toggle(self) -> None:
        self.stop() if self.server is not None else self.start()

    def _on_stopped(self) -> None:
        self.address.setText("Stopped")
        self.toggle.setText("Start")
        self.toggle.setEnabled(True)
        self._editable(True)

    def _editable(self, on: bool) -> None:
        for widget in (self.host, self.port, self.model, self.new_token):
            widget.setEnabled(on)

    def _set_idle(self, minutes: float) -> None:
        try:
            self.wb.change_settings("server", idle_unload_minutes=minutes)
        except CarrelError as exc:
            self.failed.emit(exc.message)
            return
        if self.server is not None:
            self.server.core.scheduler.set_idle(minutes * 60)

    def _make_token(self) -> None:
        try:
            token = opts.new_token(self.wb)
        except CarrelError as exc:
            self.failed.emit(exc.message)
            return
        self.token.setText(f"{token}  (shown once; afterwards {opts.token_hint(token)})")

    def _on_request(self, entry: Entry) -> None:  # on a server thread
        self.logged.emit(entry.describe())

    def _append(self, line: str) -> None:
        self.log.addItem(line)
        while self.log.count() > LOG_LINES:
            self.log.takeItem(0)
        self.log.scrollToBottom()
