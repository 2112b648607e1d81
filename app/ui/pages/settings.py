"""`SettingsPage`: remote endpoints and their keys, redaction, on-device-only collections
and the egress ledger; `SettingsDialog` shows it from the main window (Settings…, Ctrl+,).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.ui.pages.endpoints import EndpointsTab
from app.ui.pages.ledger_view import LedgerTab
from app.ui.pages.policy_tabs import CollectionsTab, RedactionTab
from app.ui.widgets import ErrorBar
from app.ui.workers import WorkerSet
from app.workbench import Workbench


class SettingsPage(QWidget):
    """Carrel's privacy settings over one `Workbench`; every change is saved at once.

    Signals: `endpoints_changed()` after an endpoint is added, removed, switched on or
    off, or its key changed (the window updates its route box and badge).
    """

    endpoints_changed = Signal()

    def __init__(self, wb: Workbench, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.wb = wb
        self._workers = WorkerSet(self)
        self.error_bar = ErrorBar(self)
        self.tabs = QTabWidget(self)
        self.endpoints = EndpointsTab(wb, self._workers, self.tabs)
        self.redaction = RedactionTab(wb, self._workers, self.tabs)
        self.collections = CollectionsTab(wb, self.tabs)
        self.ledger = LedgerTab(wb, self.tabs)
        self.tabs.addTab(self.endpoints, "Remote endpoints")
        self.tabs.addTab(self.redaction, "Redaction")
        self.tabs.addTab(self.collections, "On-device only")
        self.tabs.addTab(self.ledger, "Ledger")
        self.tabs.currentChanged.connect(self._on_tab)
        for tab in (self.endpoints, self.redaction, self.ledger):
            tab.failed.connect(self.error_bar.show_message)
        self.collections.collections.failed.connect(self.error_bar.show_message)
        self.endpoints.endpoints_changed.connect(self.endpoints_changed.emit)
        self.endpoints.keys.key_changed.connect(lambda _n, _h: self.endpoints_changed.emit())
        self.ledger.exported.connect(lambda p: self.error_bar.dismiss())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.error_bar)
        layout.addWidget(self.tabs, 1)

    def start(self) -> None:
        """Open the key store (in a worker) and read the ledger."""
        self.endpoints.keys.start()
        self.ledger.refresh()

    def show_tab(self, tab: QWidget) -> None:
        self.tabs.setCurrentWidget(tab)

    def _on_tab(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.ledger:
            self.ledger.refresh()

    def busy(self) -> bool:
        return len(self._workers) > 0

    def shutdown(self) -> None:
        """Wait for the key store's workers (each is one short keyring call)."""
        self._workers.shutdown()


class SettingsDialog(QDialog):
    """The settings page in a window of its own, with a Close button.

    Signals: `endpoints_changed()` (from the page).
    """

    endpoints_changed = Signal()

    def __init__(self, wb: Workbench, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Carrel — Settings")
        self.resize(860, 640)
        self.page = SettingsPage(wb, self)
        self.page.endpoints_changed.connect(self.endpoints_changed.emit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.page, 1)
        layout.addWidget(buttons)
        self.finished.connect(lambda _code: self.page.shutdown())
