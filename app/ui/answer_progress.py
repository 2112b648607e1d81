"""`AnswerProgress`: what the window shows while a document answer is being prepared —
each step in the reply area and the status bar ("Searching 3 collections…", "Reading 5
passages…") in place of the last reply's speed — and, once per model in a session, a note
when the loaded model is too small to answer from documents well, with a link to the
model catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from app.answer_steps import SEARCHING, Step, small_model_note
from app.ui.workers import GenerationWorker

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


class AnswerProgress(QObject):
    """Follows the `GenerationWorker`s of a `MainWindow`. No signals (the chat's
    `step_shown(str)` and `note_shown(str)` tell what it showed)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._w = window
        self.noted: set[str] = set()  # models the note was shown for this session
        self._stepping = False  # a step is in the status bar
        window.chat.catalog_requested.connect(self.open_catalog)

    def follow(self, worker: GenerationWorker) -> None:
        """Show the worker's steps; the status bar drops the last reply's speed."""
        self._w.status.clear_speed()
        self._stepping = False
        worker.step.connect(self._on_step)
        worker.tokens.connect(self._on_first_words)

    def _on_step(self, step: Step) -> None:
        w = self._w
        if not w.generating or not w.chat.streaming:
            return
        if step.kind == SEARCHING:
            loaded = w.wb.loaded_model
            note = small_model_note(loaded)
            if note and loaded is not None and loaded.name not in self.noted:
                self.noted.add(loaded.name)
                w.chat.show_note(note)
        text = step.describe()
        w.chat.show_step(text)
        w.status.set_busy(text)
        self._stepping = True

    def _on_first_words(self, _text: str) -> None:
        if self._stepping and self._w.generating:
            self._stepping = False
            self._w.status.set_busy("Generating…")

    def open_catalog(self) -> None:
        """Models → Catalog, where larger models are listed."""
        page = self._w.models_page
        self._w.tabs.setCurrentWidget(page)
        page.tabs.setCurrentWidget(page.catalog_table)
