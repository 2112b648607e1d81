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
from app.engine.llama import LoadOptions
from app.errors import NoModelLoadedError
from app.library.listings import InstalledModel
from app.library.registry import ModelInfo
from app.ui import bundle_dialogs, loaded_model
from app.ui.chat_view import reply_figures
from app.ui.keyboard import WindowKeys
from app.ui.pages.evaluate import add_evaluate_page
from app.ui.reply_actions import ReplyActions
from app.ui.selfcheck_dialog import open_self_check
from app.ui.viewer import viewer_for
from app.ui.window_frame import WindowFrame
from app.ui.workers import GenerationWorker, TaskWorker, WorkerSet
from app.workbench import Workbench

log = logging.getLogger(__name__)


class MainWindow(WindowFrame):
    """Carrel's main window over one `Workbench`. All blocking work runs in workers.

    Signals: `models_listed(list)` with the `ModelInfo`s, `model_loaded(str)` with a name,
    `reply_started(object)` with the `GenerationWorker` before it runs,
    `reply_finished(object)` with the `Done` of a reply (or None if it failed),
    `busy_changed(bool)`; and those of `WindowFrame` (`first_painted`, `settings_opened`,
    `consent.asked`).
    """

    models_listed = Signal(list)
    reply_started = Signal(object)
    model_loaded = Signal(str)
    reply_finished = Signal(object)
    busy_changed = Signal(bool)

    def __init__(
        self, workbench: Workbench, *, owns_workbench: bool = True, log_file: Path | None = None
    ) -> None:
        self._owns_workbench = owns_workbench
        self._generation: GenerationWorker | None = None
        self._loading: str | None = None
        self._just_loaded: str | None = None
        self._last_done: Done | None = None
        self._closed = False
        super().__init__(workbench, log_file)
        self._workers = WorkerSet(self)
        self.evaluate_page = add_evaluate_page(self)  # the Evaluate tab (issue 19)
        self.reply_actions = ReplyActions(self)
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

    # start-up ----------------------------------------------------------------------------

    def start(self, load_default: bool = True) -> None:
        """List the models and load the default one, both off the GUI thread; the message
        box has the keyboard focus."""
        self.prompt.setFocus()
        lister = TaskWorker(self.wb.models, self.log_file)
        lister.result.connect(self._on_models_listed)
        lister.failed.connect(self.show_error)
        self._workers.start(lister)
        if load_default:
            self.load_model(self.wb.settings.model.default)

    # models ------------------------------------------------------------------------------

    def _on_models_listed(self, models: list[ModelInfo]) -> None:
        if self._closed:
            return
        self.model_panel.set_models(models)
        self._sync_model_combo()
        self.models_listed.emit(models)

    def _on_library_changed(self, rows: list[InstalledModel]) -> None:
        if not self._closed:
            self.model_panel.set_models([row.info for row in rows])
            self._sync_model_combo()

    def _sync_model_combo(self) -> None:
        loaded = self.wb.loaded_model
        self.model_panel.set_current(self._loading or (loaded.name if loaded else None))

    def _on_model_chosen(self, name: str) -> None:
        loaded = self.wb.loaded_model
        if loaded is None or loaded.name != name:
            self.load_model(name)

    def load_model(self, name: str) -> None:
        """Load a model in a worker; the window stays usable and shows it is busy."""
        if self._loading is not None or self._generation is not None:
            return
        self._loading = name
        self._set_busy(f"Loading {name}…")
        wb, load = self.wb, self._conversation_load()
        worker = TaskWorker(lambda: wb.load_model(name, warmup=True, overrides=load), self.log_file)
        worker.result.connect(self._on_model_loaded)
        worker.failed.connect(self.show_error)
        worker.finished.connect(self._on_load_finished)
        self._workers.start(worker)
        self._update_actions()

    def _on_model_loaded(self, info: ModelInfo) -> None:
        self._just_loaded = info.name

    def _on_load_finished(self) -> None:
        if self._closed:
            return
        self._loading = None
        self._set_busy("")
        loaded = self.wb.loaded_model
        if loaded is not None:
            self.status.model.setText(f"Model: {loaded.name}")
            self.model_panel.info.setText(loaded.describe())
        else:
            self.status.model.setText("No model loaded")
            self.model_panel.info.setText("Pick a model to load it.")
        self._show_placement()
        self._sync_model_combo()
        self._update_actions()
        name, self._just_loaded = self._just_loaded, None
        if name is not None:
            self.model_loaded.emit(name)

    def _show_placement(self) -> None:
        loaded_model.show_placement(self.wb, self.status, self.model_panel)

    def _conversation_load(self) -> dict[str, object] | None:
        return loaded_model.conversation_load(self.wb, self._current)

    def apply_load_options(self, scope: str, options: LoadOptions) -> None:
        """Keep the options for the loaded model ("model") or the current conversation
        ("conversation"), then reload the model with them in a worker."""
        loaded = self.wb.loaded_model
        if loaded is None or self._generation is not None or self._loading is not None:
            return
        with self._shown_errors():
            loaded_model.keep_load_options(self.wb, loaded.name, self._current, scope, options)
            self.load_model(loaded.name)

    def _set_busy(self, text: str) -> None:
        self.status.set_busy(text)
        self.model_panel.set_busy(text if self._loading else "")
        self.busy_changed.emit(bool(text))

    # conversations -----------------------------------------------------------------------

    def reload_conversations(self) -> None:
        with self._shown_errors():
            found = self.wb.store.conversations(self.conversations.search.text().strip())
            self.conversations.set_conversations(found, self._current)

    def _on_selected(self, conversation_id: int) -> None:
        self._open_conversation(conversation_id if conversation_id >= 0 else None)

    def _open_conversation(self, conversation_id: int | None) -> None:
        self.params.flush()
        if conversation_id != self._current:
            # An error belongs to the conversation it happened in.
            self.error_bar.dismiss()
            self.reply_actions.cancel_edit()
        self._current = conversation_id
        with self._shown_errors():
            if conversation_id is None:
                self.chat.clear_conversation()
                self.params.set_values(self.wb.params_for(), self.wb.settings.model.system_prompt)
                self.route.set_values({})
                self.collection_picker.set_selected([])
            else:
                c = self.wb.store.conversation(conversation_id)
                self.chat.show_thread(self.wb.turns.thread(conversation_id))
                self.params.set_values(self.wb.params_for(c.params), c.system_prompt)
                self.route.set_values(c.params)
                self.collection_picker.set_selected(list(c.params.get("collections") or []))
            loaded_model.show_options(self.wb, self.model_panel, self._current)
        self._update_actions()

    @property
    def current_conversation(self) -> int | None:
        return self._current

    def reopen(self) -> None:
        """Show the current conversation again as the store holds it."""
        self._open_conversation(self._current)

    def new_conversation(self) -> None:
        if self._generation is not None:
            return
        with self._shown_errors():
            c = self.wb.new_conversation()
            self.conversations.search.clear()
            self._current = c.id
            self.reload_conversations()
            self._open_conversation(c.id)
            self.prompt.setFocus()

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        title = " ".join(title.split())
        with self._shown_errors():
            if title:
                self.wb.store.update_conversation(conversation_id, title=title)
        self.reload_conversations()

    def delete_conversation(self, conversation_id: int) -> None:
        if self._generation is not None:
            return
        with self._shown_errors():
            title = self.wb.store.conversation(conversation_id).title
            if not self.confirm(f"Delete the conversation “{title}”? This cannot be undone."):
                return
            self.wb.store.delete_conversation(conversation_id)
        if self._current == conversation_id:
            self._current = None
        self.reload_conversations()
        if self._current is None and self.conversations.list.count():
            self.conversations.list.setCurrentRow(0)
        else:
            self._open_conversation(self._current)

    def _save_params(self) -> None:
        if self._current is None:
            return
        with self._shown_errors():
            load = self._conversation_load()  # kept: set by the load controls, not here
            params = {
                **self.params.params(),
                **self.route.values(),
                "collections": self.collection_picker.selected(),
                **({"load": load} if load else {}),
            }
            self.wb.store.update_conversation(
                self._current, params=params, system_prompt=self.params.prompt()
            )

    # replies -----------------------------------------------------------------------------

    @property
    def generating(self) -> bool:
        return self._generation is not None

    @property
    def loading(self) -> str | None:
        """The name of the model being loaded, if one is."""
        return self._loading

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
