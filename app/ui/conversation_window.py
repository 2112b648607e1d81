"""`ConversationWindow`: the main window's conversations — the list on the left, opening
one (its messages, parameters, route and collections), new, rename, delete, and keeping
the conversation's parameters as the person edits them. `ModelWindow` and `MainWindow`
add model loading and replies on top."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.ui import loaded_model
from app.ui.window_frame import WindowFrame
from app.workbench import Workbench


class ConversationWindow(WindowFrame):
    """The conversation list's behaviour over `WindowFrame`'s widgets. No signals of its
    own (see `WindowFrame`)."""

    def __init__(self, workbench: Workbench, log_file: Path | None) -> None:
        super().__init__(workbench, log_file)

    # hooks the subclasses fill in --------------------------------------------------------

    def _leaving_conversation(self) -> None:
        """Called before another conversation is shown: what belongs to the one shown
        (its error, an edit in progress) goes."""
        self.error_bar.dismiss()

    # the list ----------------------------------------------------------------------------

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
            self._leaving_conversation()
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
        if self.generating:
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
        if self.generating:
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

    # its parameters ----------------------------------------------------------------------

    def _conversation_load(self) -> dict[str, Any] | None:
        return loaded_model.conversation_load(self.wb, self._current)

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
