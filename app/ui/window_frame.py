"""`WindowFrame`: the furniture of the main window — its panels, menu, status bar, the
one place errors are shown, exports, and the Settings dialog — without the behaviour of
models, conversations and replies, which `MainWindow` adds on top."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QPaintEvent, QShortcut
from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter, QTabWidget

from app.engine.router import Route
from app.errors import CarrelError
from app.privacy.ledger import Origin
from app.ui.chat_page import ChatPanel, SidePanel
from app.ui.consent import ConsentBridge
from app.ui.conversation_list import ConversationList
from app.ui.files import export_conversation
from app.ui.keyboard import FocusRing, one_tab_stop
from app.ui.page_errors import attach_error_bar
from app.ui.pages.collection_picker import CollectionPicker
from app.ui.pages.documents import DocumentsPage
from app.ui.pages.models import ModelsPage
from app.ui.pages.server import ServerPage
from app.ui.pages.settings import SettingsDialog
from app.ui.theme import DARK, LIGHT, SYSTEM, Theme
from app.ui.widgets import StatusBar, ask
from app.ui.window_state import WindowState
from app.workbench import Workbench


class WindowFrame(QMainWindow):
    """The main window's widgets and the actions that need no worker.

    Signals: `first_painted()` once the window has drawn itself, `settings_opened(object)`
    with the `SettingsDialog`. Its `consent` bridge (the egress gate's consent callback)
    emits `asked(object)` with each `ConsentDialog` it shows.
    """

    first_painted = Signal()
    settings_opened = Signal(object)

    def __init__(self, workbench: Workbench, log_file: Path | None) -> None:
        super().__init__()
        self.wb = workbench
        self.log_file = log_file or workbench.paths.logs_dir / "carrel.log"
        self._current: int | None = None
        self._painted = False
        self._settings: SettingsDialog | None = None
        self.consent = ConsentBridge(self)
        workbench.privacy.ask_with(self.consent)
        workbench.privacy.ledger.origin = Origin.GUI  # what this window sends is the GUI's
        self.setWindowTitle("Carrel")
        self.resize(1180, 760)
        self._build()
        self._build_menu()
        # Remembered across restarts (app.ui.window_state): size, splitters, page, theme.
        self.window_state = WindowState(workbench.paths.config_dir)
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        self.theme = Theme(app, self)
        self.set_theme(self.window_state.theme, keep=False)
        self.window_state.restore(self, self.tabs)

    # layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.conversations = ConversationList(self)
        center = self.chat_panel = ChatPanel(self)
        self.chat, self.error_bar, self.prompt = center.chat, center.error_bar, center.prompt
        self.send_button, self.stop_button = center.send_button, center.stop_button
        self.ask_remote_button = center.ask_remote_button
        right = SidePanel(self)
        self.model_panel, self.params, self.route = right.model_panel, right.params, right.route
        # Which collections this conversation answers from (after the route box).
        self.collection_picker = CollectionPicker(self.wb.documents, right)
        right.content.insertWidget(2, self.collection_picker)

        splitter = self.chat_tab = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.conversations)
        splitter.addWidget(center)
        splitter.addWidget(right)
        # A narrower window takes from the chat and, less, from the side panel.
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 1)
        splitter.setSizes([230, 640, 290])
        splitter.setChildrenCollapsible(False)
        splitter.setContentsMargins(6, 6, 6, 0)
        self.documents_page = DocumentsPage(self.wb, self, self.log_file)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(splitter, "Chat")
        self.tabs.addTab(self.documents_page, "Documents")
        self.models_page = ModelsPage(self.wb, self, self.log_file)
        self.tabs.addTab(self.models_page, "Models")
        self.server_page = ServerPage(self.wb, self)
        self.tabs.addTab(self.server_page, "Server")
        # Each page shows its own errors (app/ui/page_errors.py); a later success of the
        # same kind clears them.
        docs, models = self.documents_page, self.models_page
        self.documents_errors = attach_error_bar(
            docs, docs.error, [docs.ingest_started, docs.searched, docs.files_removed]
        )
        self.models_errors = attach_error_bar(
            models,
            models.error,
            [models.searched, models.files_listed, models.download_added, models.verified],
        )
        self.setCentralWidget(self.tabs)

        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.stop_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        self.new_action = QAction("&New conversation", self)
        self.new_action.setShortcut(QKeySequence.StandardKey.New)
        self.export_md_action = QAction("Export as &Markdown…", self)
        self.export_md_action.triggered.connect(lambda: self.export_markdown())
        self.export_json_action = QAction("Export as &JSON…", self)
        self.export_json_action.triggered.connect(lambda: self.export_json())
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.triggered.connect(lambda: self.open_settings())
        # Air-gap bundles and the self-check (their dialogs: app.ui.bundle_dialogs and
        # app.ui.selfcheck_dialog; MainWindow connects them, it owns the workers).
        self.bundle_export_action = QAction("Export &bundle…", self)
        self.bundle_import_action = QAction("&Import bundle…", self)
        self.self_check_action = QAction("&Self-check…", self)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (self.new_action, self.export_md_action, self.export_json_action):
            menu.addAction(action)
            self.addAction(action)
        menu.addSeparator()
        menu.addAction(self.bundle_export_action)
        menu.addAction(self.bundle_import_action)
        menu.addSeparator()
        menu.addAction(self.settings_action)
        self.addAction(self.settings_action)
        menu.addSeparator()
        menu.addAction(quit_action)
        themes = self.menuBar().addMenu("&View").addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for choice, label in ((SYSTEM, "Follow the &desktop"), (LIGHT, "&Light"), (DARK, "&Dark")):
            action = QAction(label, self)
            action.setCheckable(True)
            action.triggered.connect(partial(self.set_theme, choice))
            group.addAction(action)
            themes.addAction(action)
            self.theme_actions[choice] = action
        self.menuBar().addMenu("&Help").addAction(self.self_check_action)

    def set_theme(self, choice: str, *, keep: bool = True) -> None:
        """Light, dark, or follow the desktop ("system"); kept for the next start."""
        self.theme.apply(choice)
        self.theme_actions[self.theme.choice].setChecked(True)
        if keep:
            self.window_state.theme = self.theme.choice

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()

    # hooks the window's behaviour fills in -----------------------------------------------

    @property
    def generating(self) -> bool:
        return False

    def _update_actions(self) -> None:
        """Enable what may be done now (the subclass knows when it is busy)."""

    # errors ------------------------------------------------------------------------------

    def show_error(self, message: str) -> None:
        """Show an error of the Chat page (conversations, replies, the model picker)."""
        self.error_bar.show_message(message)

    def show_error_here(self, message: str) -> None:
        """Show an error that belongs to no page (an unexpected one) on the page in view."""
        page = self.tabs.currentWidget()
        if page is self.documents_page:
            self.documents_errors.show_message(message)
        elif page is self.models_page:
            self.models_errors.show_message(message)
        else:
            self.show_error(message)

    @contextmanager
    def _shown_errors(self) -> Iterator[None]:
        try:
            yield
        except CarrelError as exc:
            self.show_error(exc.message)

    def confirm(self, question: str) -> bool:
        return ask(self, "Carrel", question)

    # export ------------------------------------------------------------------------------

    def export_markdown(self, path: str | Path | None = None) -> bool:
        return self._export("md", path)

    def export_json(self, path: str | Path | None = None) -> bool:
        return self._export("json", path)

    def _export(self, ext: str, path: str | Path | None) -> bool:
        cid = self._current
        if cid is None:
            self.show_error("Pick a conversation to export first.")
            return False
        try:
            written = export_conversation(self, self.wb, cid, ext, path)
        except CarrelError as exc:
            self.show_error(exc.message)
            return False
        if written is None:
            return False
        self.status.showMessage(f"Exported to {written}", 5000)
        return True

    # settings and remote endpoints -------------------------------------------------------

    def open_settings(self) -> SettingsDialog | None:
        """Show the Settings dialog (window-modal); nothing while a reply runs."""
        if self.generating:
            return None
        if self._settings is not None:
            self._settings.raise_()
            return self._settings
        dialog = SettingsDialog(self.wb, self)
        FocusRing(dialog)  # the keyboard furniture of the window, in the dialog too
        one_tab_stop(dialog)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.endpoints_changed.connect(self.refresh_remote)
        dialog.finished.connect(self._on_settings_closed)
        self._settings = dialog
        dialog.open()
        dialog.page.start()
        self.settings_opened.emit(dialog)
        return dialog

    def _on_settings_closed(self, _code: int) -> None:
        self._settings = None
        self.refresh_remote()

    def refresh_remote(self) -> None:
        """Show which remote endpoints are switched on (status badge, route box); the
        Settings dialog calls it after each change."""
        endpoints = self.wb.privacy.endpoints()
        self.status.set_remote([e.name for e in endpoints if e.enabled])
        self.route.set_endpoints(endpoints)
        self._update_actions()

    def _remote_ready(self) -> bool:
        """The conversation's route may use a remote endpoint, and one is switched on."""
        enabled = any(e.enabled for e in self.wb.privacy.endpoints())
        return enabled and self.route.current_route() != Route.LOCAL_ONLY

    def _close_frame(self) -> None:
        """Refuse any consent question still open (no worker is left waiting on it) and
        let go of the gate and the Settings dialog's workers."""
        self.window_state.save(self, self.tabs)
        self.theme.restore()
        self.consent.shutdown()
        self.server_page.shutdown()
        if self.wb.privacy.consent is self.consent:
            self.wb.privacy.ask_with(None)
        if self._settings is not None:
            self._settings.page.shutdown()
