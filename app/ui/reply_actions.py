"""`ReplyActions`: what a person can do with the messages of the chat — copy a reply,
regenerate it (the old one is kept as a variant), continue a stopped one, edit an earlier
message and send it again (the conversation branches), and step through the variants —
from the links under each message or from the keyboard.

Shortcuts (the Chat page): Ctrl+Shift+C copies the last reply, Ctrl+R regenerates it,
Ctrl+Shift+Enter continues it, Ctrl+Shift+E edits your last message, Alt+Left and
Alt+Right show the last reply's previous and next variant. Esc leaves an edit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut

from app.branches import Turn
from app.errors import CarrelError
from app.markers import check_answer
from app.replies import Reply
from app.ui.reply_links import CONTINUE, COPY, EDIT, REGENERATE, SHOW
from app.ui.workers import GenerationWorker

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

SHORTCUTS = {
    "copy": "Ctrl+Shift+C",
    "regenerate": "Ctrl+R",
    "continue": "Ctrl+Shift+Return",
    "edit": "Ctrl+Shift+E",
    "previous": "Alt+Left",
    "next": "Alt+Right",
}
EDIT_NOTE = (
    "Editing an earlier message: Enter sends it as a new branch (the old one is kept), Esc cancels."
)


class ReplyActions(QObject):
    """The reply actions of a `MainWindow`'s chat; asks `Workbench.turns` for each one
    and runs the reply it starts through the window.

    Signals: `copied(str)` with the text put on the clipboard, `editing_changed(int)` with
    the id of the message being edited (-1 when editing ends).
    """

    copied = Signal(str)
    editing_changed = Signal(int)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._w = window
        self.editing: int | None = None
        window.chat.action.connect(self.on_action)
        self.shortcuts: dict[str, QShortcut] = {}
        slots: dict[str, Callable[[], None]] = {
            "copy": self.copy,
            "regenerate": self.regenerate,
            "continue": self.continue_reply,
            "edit": self.edit,
            "previous": lambda: self.step(-1),
            "next": lambda: self.step(+1),
        }
        for name, keys in SHORTCUTS.items():
            shortcut = QShortcut(QKeySequence(keys), window.chat_tab)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slots[name])
            self.shortcuts[name] = shortcut

    # the links under each message ----------------------------------------------------------

    def on_action(self, name: str, message_id: int) -> None:
        if name == COPY:
            self.copy(message_id)
        elif name == REGENERATE:
            self.regenerate(message_id)
        elif name == CONTINUE:
            self.continue_reply(message_id)
        elif name == EDIT:
            self.edit(message_id)
        elif name == SHOW:
            self.show(message_id)

    # actions -----------------------------------------------------------------------------

    def copy(self, message_id: int | None = None) -> None:
        """Put a reply's text on the clipboard: its Markdown, with the citation markers
        as shown (the source list's numbers, `app.markers`)."""
        turn = self._turn(message_id, "assistant")
        if turn is None:
            return
        text = check_answer(turn.message.text, turn.message.citations).text
        QGuiApplication.clipboard().setText(text)
        self._w.status.showMessage("Reply copied to the clipboard.", 3000)
        self.copied.emit(text)

    def regenerate(self, message_id: int | None = None) -> None:
        """Write the reply again; the old one stays as a variant."""
        turn = self._turn(message_id, "assistant")
        if turn is None or not self._idle():
            return
        cid, mid = turn.message.conversation_id, turn.message.id
        self._run(turn, lambda: self._w.wb.turns.regenerate(cid, mid), before=True)

    def continue_reply(self, message_id: int | None = None) -> None:
        """Go on with a stopped reply from where it stopped."""
        turn = self._turn(message_id, "assistant")
        if turn is None or not self._idle():
            return
        if not turn.message.stopped:
            self._w.show_error("Only a stopped reply can be continued; this one was finished.")
            return
        cid, mid = turn.message.conversation_id, turn.message.id
        self._run(turn, lambda: self._w.wb.turns.continue_reply(cid, mid), before=True)
        self._w.chat.append_stream(turn.message.text)

    def edit(self, message_id: int | None = None) -> None:
        """Put one of your messages in the message box to change and send again."""
        turn = self._turn(message_id, "user")
        if turn is None or self._w.generating:
            return
        self.editing = turn.message.id
        self._w.prompt.setPlainText(turn.message.text)
        self._w.prompt.moveCursor(self._w.prompt.textCursor().MoveOperation.End)
        self._w.chat_panel.edit_note.setText(EDIT_NOTE)
        self._w.chat_panel.edit_note.show()
        self._w.prompt.setFocus()
        self.editing_changed.emit(turn.message.id)

    def cancel_edit(self) -> None:
        if self.editing is None:
            return
        self.editing = None
        self._w.prompt.clear()
        self._w.chat_panel.edit_note.hide()
        self.editing_changed.emit(-1)

    def send_edit(self, text: str, ask_remote: bool) -> None:
        """Send `text` in place of the message being edited (the window's Send)."""
        mid = self.editing
        turn = self._turn(mid, "user") if mid is not None else None
        if turn is None:
            self.cancel_edit()
            return
        cid = turn.message.conversation_id
        self.editing = None
        self._w.chat_panel.edit_note.hide()
        self._w.prompt.clear()
        self.editing_changed.emit(-1)

        def start() -> Reply:
            return self._w.wb.turns.edit(cid, turn.message.id, text, ask_remote=ask_remote)

        self._run(turn, start, before=False)
        self._w.chat.add_user_message(text)
        self._w.chat.begin_reply()

    def show(self, message_id: int) -> None:
        """Show the variant (and the branch under it) that `message_id` belongs to."""
        if self._w.generating:
            return
        try:
            self._w.wb.turns.select(message_id)
        except CarrelError as exc:
            self._w.show_error(exc.message)
            return
        self._w.reopen()

    def step(self, step: int) -> None:
        """Show the last reply's previous (-1) or next (+1) variant."""
        turn = self._turn(None, "assistant")
        target = turn.neighbour(step) if turn is not None else None
        if target is not None:
            self.show(target)

    # helpers -----------------------------------------------------------------------------

    def _idle(self) -> bool:
        return not self._w.generating and self._w.loading is None

    def _turn(self, message_id: int | None, role: str) -> Turn | None:
        """The shown message `message_id`, or the last shown one of `role`."""
        cid = self._w.current_conversation
        if cid is None:
            return None
        try:
            thread = self._w.wb.turns.thread(cid)
        except CarrelError as exc:
            self._w.show_error(exc.message)
            return None
        for turn in reversed(thread):
            if message_id is None and turn.message.role == role:
                return turn
            if turn.message.id == message_id:
                return turn if turn.message.role == role else None
        return None

    def _run(self, turn: Turn, start: Callable[[], Reply], *, before: bool) -> None:
        """Show the branch up to `turn` (`before`: without it), then stream the reply."""
        w = self._w
        if w.current_conversation is None:
            return
        w.params.flush()
        thread = w.wb.turns.thread(w.current_conversation)
        index = next(i for i, t in enumerate(thread) if t.message.id == turn.message.id)
        w.chat.show_thread(thread[:index] if before or turn.message.role == "user" else thread)
        if before:
            w.chat.begin_reply()
        worker = GenerationWorker(w.wb, w.current_conversation, "", None, w.log_file, start=start)
        w.start_generation(worker)
