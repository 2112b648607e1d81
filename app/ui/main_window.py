"""`MainWindow`: conversations on the left, the chat in the middle, model, route and
parameters on the right, and a status bar that says which model runs and whether anything
may leave the device. Settings… (Ctrl+,) opens the privacy settings; remote requests are
shown and approved in the consent dialog first."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent

from app.citation import Citation
from app.engine.backend import Done
from app.errors import NoModelLoadedError
from app.ui import bundle_dialogs
from app.ui.answer_progress import AnswerProgress
from app.ui.chat_view import reply_figures
from app.ui.keyboard import WindowKeys
from app.ui.model_loading import ModelWindow
from app.ui.pages.evaluate import add_evaluate_page
from app.ui.reply_actions import ReplyActions
from app.ui.selfcheck_dialog import open_self_check
from app.ui.viewer import viewer_for
from app.ui.workers import GenerationWorker, TaskWorker
from app.workbench import Workbench

log = logging.getLogger(__name__)


class MainWindow(ModelWindow):
    """Carrel's main window over one `Workbench`. All blocking work runs in workers. The
    window is built in layers, one idea each: `WindowFrame` (widgets, menu, errors,
    exports, settings), `ConversationWindow` (the conversation list), `ModelWindow`
    (model loading) and this class (replies).

    Signals: `reply_started(object)` with the `GenerationWorker` before it runs,
    `reply_finished(object)` with the `Done` of a reply (or None if it failed); those of
    `ModelWindow` (`models_listed(list)`, `model_loaded(str)`, `busy_changed(bool)`) and
    of `WindowFrame` (`first_painted`, `settings_opened`, `consent.asked`).
    """

    reply_started = Signal(object)
    reply_finished = Signal(object)

    def __init__(
        self, workbench: Workbench, *, owns_workbench: bool = True, log_file: Path | None = None
    ) -> None:
        self._owns_workbench = owns_workbench
        self._generation: GenerationWorker | None = None
        self._last_done: Done | None = None
        super().__init__(workbench, log_file)
        self.evaluate_page = add_evaluate_page(self)  # the Evaluate tab (issue 19)
        self.reply_actions = ReplyActions(self)
        self.answer_progress = AnswerProgress(self)
        self.keys = WindowKeys(self)
        self._connect()
        self.refresh_remote()
        self.reload_conversations()
        first = self.conversations.current_id()
        if first is None and self.conversations.list.count():
            self.conversations.list.setCurrentRow(0)
        else:
            self._open_conversation(first)
        self._update_actions()

    def _connect(self) -> None:
        self.conversations.selected.connect(self._on_selected)
        self.conversations.search_changed.connect(lambda _text: self.reload_conversations())
        self.conversations.new_requested.connect(self.new_conversation)
        self.conversations.renamed.connect(self.rename_conversation)
        self.conversations.delete_requested.connect(self.delete_conversation)
        self.prompt.submitted.connect(self.send)
        self.send_button.clicked.connect(self.send)
        self.ask_remote_button.clicked.connect(self.ask_remote)
        self.stop_button.clicked.connect(self.stop)
        self.stop_shortcut.activated.connect(self.stop)
        self.new_action.triggered.connect(self.new_conversation)
        self.model_panel.chosen.connect(self._on_model_chosen)
        self.model_panel.controls.applied.connect(self.apply_load_options)
        self.models_page.system_listed.connect(self.model_panel.controls.set_report)
        self.params.changed.connect(self._save_params)
        self.route.changed.connect(self._save_params)
        self.route.changed.connect(self._update_actions)
        self.chat.citation_clicked.connect(self.open_citation)
        self.models_page.online.connect(self.status.set_online)
        # A download, import, quantization or removal changes what the model picker offers.
        self.models_page.installed_listed.connect(self._on_library_changed)
        self.models_page.use_in_chat.connect(self.use_in_chat)
        self.documents_page.collections_changed.connect(
            lambda _names: self.collection_picker.refresh()
        )
        self.collection_picker.changed.connect(lambda _names: self._save_params())
        self.self_check_action.triggered.connect(
            lambda: open_self_check(self, self.wb.paths, self._workers, self.log_file)
        )
        self.bundle_export_action.triggered.connect(
            lambda: bundle_dialogs.open_export(self.wb, self, self._workers, self.log_file)
        )
        self.bundle_import_action.triggered.connect(self.import_bundle)
        # The chat's colours are drawn into it: draw the conversation again.
        self.theme.changed.connect(self._on_theme_changed)

    def _on_theme_changed(self, _dark: bool) -> None:
        if not self.generating:
            self.reopen()

    # start-up ----------------------------------------------------------------------------

    def start(self, load_default: bool = True) -> None:
        """List the models and load the default one, both off the GUI thread; the message
        box has the keyboard focus."""
        self.prompt.setFocus()
        self.list_models()
        if load_default:
            self.load_model(self.wb.settings.model.default)

    def _leaving_conversation(self) -> None:
        super()._leaving_conversation()
        self.reply_actions.cancel_edit()

    # replies -----------------------------------------------------------------------------

    @property
    def generating(self) -> bool:
        return self._generation is not None

    def ask_remote(self) -> None:
        """Send the message to the conversation's remote endpoint (after the person has
        seen and approved the request)."""
        self.send(ask_remote=True)

    def send(self, ask_remote: bool = False) -> None:
        """Send the text in the message box (in place of the message being edited, if
        one is); the reply streams in from a worker."""
        text = self.prompt.toPlainText().strip()
        if not text or self._generation is not None or self._loading is not None:
            return
        if self.wb.loaded_model is None and not self._remote_ready():
            self.show_error(NoModelLoadedError().message)
            return
        if self.reply_actions.editing is not None:
            self.reply_actions.send_edit(text, ask_remote)
            return
        if self._current is None:
            self.new_conversation()
        if self._current is None:
            return
        self.params.flush()
        self.prompt.clear()
        self.chat.add_user_message(text)
        self.chat.begin_reply()
        worker = GenerationWorker(
            self.wb, self._current, text, None, self.log_file, ask_remote=ask_remote
        )
        self.start_generation(worker)

    def start_generation(self, worker: GenerationWorker) -> None:
        """Run a reply's worker: its text streams into the chat, which shows the
        conversation as stored when it ends."""
        self.error_bar.dismiss()
        worker.tokens.connect(self.chat.append_stream)
        worker.result.connect(self._on_reply_done)
        worker.failed.connect(self._on_reply_failed)
        worker.finished.connect(self._on_generation_finished)
        self._generation = worker
        self._set_busy("Generating…")
        self.answer_progress.follow(worker)
        self._update_actions()
        self.reply_started.emit(worker)
        self._workers.start(worker)

    def stop(self) -> None:
        """Stop the reply in progress (what was generated is kept and marked stopped);
        with none running, Esc leaves the editing of an earlier message."""
        if self._generation is not None:
            self._generation.cancel()
        else:
            self.reply_actions.cancel_edit()

    def open_citation(self, citation: Citation) -> None:
        """Show a source under a reply in the built-in viewer, at its page."""
        with self._shown_errors():
            viewer_for(self).open_citation(citation)

    def _on_reply_done(self, done: Done) -> None:
        if self._closed:
            return
        stats = done.stats
        citations = self._generation.citations if self._generation is not None else []
        turns = []
        with self._shown_errors():  # the stored reply and message, for their actions
            turns = self.wb.turns.thread(self._current or -1)[-2:]
        figures = reply_figures(stats.as_dict())
        self.chat.end_reply(done.text, figures, stats.stopped, stats.badge, citations, turns)
        if stats.tokens_per_s > 0:
            self.status.set_speed(stats.tokens_per_s)
        self._last_done = done

    def _on_reply_failed(self, message: str) -> None:
        if self._closed:
            return
        self.show_error(message)
        self._open_conversation(self._current)  # show what the store holds
        backend = self.wb.backend
        if backend is not None:  # a lost GPU: show where the model runs once it is reloaded
            settled = TaskWorker(lambda: backend.wait_settled(600), self.log_file)
            settled.result.connect(self._on_settled)
            self._workers.start(settled)

    def _on_settled(self, _ok: bool) -> None:
        if not self._closed:
            self._show_placement()

    def _on_generation_finished(self) -> None:
        if self._closed:
            return
        self._generation = None
        self._set_busy("")
        self._show_placement()  # a conversation's options or a lost GPU may have moved it
        self.reload_conversations()  # the first message names the conversation
        self._update_actions()
        done, self._last_done = self._last_done, None
        self.reply_finished.emit(done)

    def _update_actions(self) -> None:
        idle = self._generation is None
        remote = self._remote_ready()
        ready = idle and self._loading is None and (self.wb.loaded_model is not None or remote)
        self.send_button.setEnabled(ready)
        self.ask_remote_button.setEnabled(idle and self._loading is None and remote)
        self.route.setEnabled(idle)
        self.settings_action.setEnabled(idle)
        self.stop_button.setEnabled(not idle)
        self.model_panel.setEnabled(idle and self._loading is None)
        self.conversations.setEnabled(idle)
        self.new_action.setEnabled(idle)
        has = self._current is not None
        self.export_md_action.setEnabled(has)
        self.export_json_action.setEnabled(has)

    def import_bundle(self) -> bundle_dialogs.ImportBundleDialog:
        """File → Import bundle…; what it adds shows in the Models and Documents pages."""
        dialog = bundle_dialogs.open_import(self.wb, self, self._workers, self.log_file)
        dialog.imported.connect(lambda _report: self.models_page.refresh_installed())
        dialog.imported.connect(lambda _report: self.documents_page.refresh_collections())
        dialog.imported.connect(lambda _report: self.collection_picker.refresh())
        return dialog

    # closing -----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop every worker, wait for its thread, and close the workbench if owned."""
        if self._closed:
            return
        self._closed = True
        self.params.flush()
        self._close_frame()
        self.documents_page.shutdown()
        self.models_page.shutdown()
        self.evaluate_page.shutdown()
        self._workers.shutdown()
        if self._owns_workbench:
            self.wb.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
