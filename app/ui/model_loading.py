"""`ModelWindow`: the main window's model loading — listing the models, loading the one
picked (in a worker, the window stays usable), showing where it runs, and reloading it
with other load options. `MainWindow` adds the replies on top."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal

from app.library.listings import InstalledModel
from app.library.load_options import LoadOptions
from app.library.registry import ModelInfo
from app.ui import loaded_model
from app.ui.conversation_window import ConversationWindow
from app.ui.workers import TaskWorker, WorkerSet
from app.workbench import Workbench


class ModelWindow(ConversationWindow):
    """Model loading over `ConversationWindow`; its workers run in `_workers`.

    Signals: `models_listed(list)` with the `ModelInfo`s, `model_loaded(str)` with a name,
    `busy_changed(bool)`.
    """

    models_listed = Signal(list)
    model_loaded = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, workbench: Workbench, log_file: Path | None) -> None:
        self._loading: str | None = None
        self._just_loaded: str | None = None
        self._closed = False
        super().__init__(workbench, log_file)
        self._workers = WorkerSet(self)

    @property
    def loading(self) -> str | None:
        """The name of the model being loaded, if one is."""
        return self._loading

    def list_models(self) -> None:
        """List the models off the GUI thread; the picker shows them."""
        lister = TaskWorker(self.wb.models, self.log_file)
        lister.result.connect(self._on_models_listed)
        lister.failed.connect(self.show_error)
        self._workers.start(lister)

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

    def use_in_chat(self, name: str) -> None:
        """Models → Installed → Use in chat: the Chat page, with that model (loaded if it
        is not already)."""
        self.tabs.setCurrentIndex(0)
        self._on_model_chosen(name)

    def load_model(self, name: str) -> None:
        """Load a model in a worker; the window stays usable and shows it is busy."""
        if self._loading is not None or self.generating:
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

    def apply_load_options(self, scope: str, options: LoadOptions) -> None:
        """Keep the options for the loaded model ("model") or the current conversation
        ("conversation"), then reload the model with them in a worker."""
        loaded = self.wb.loaded_model
        if loaded is None or self.generating or self._loading is not None:
            return
        with self._shown_errors():
            loaded_model.keep_load_options(self.wb, loaded.name, self._current, scope, options)
            self.load_model(loaded.name)

    def _set_busy(self, text: str) -> None:
        self.status.set_busy(text)
        self.model_panel.set_busy(text if self._loading else "")
        self.busy_changed.emit(bool(text))
