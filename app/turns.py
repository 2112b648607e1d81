"""`Turns`: the reply actions of a conversation — send, regenerate, continue a stopped
reply, edit an earlier message and send it again — and the variants they leave behind.

Each action starts a `Reply`; none overwrites what was there (but continuing, which
finishes the very reply that was stopped). Regenerating adds a sibling of the reply;
editing adds a sibling of the message, so the conversation branches there; both are kept
and browsable through `Branches` (`thread`, `select`). Every face (window, command line)
asks these methods, so a variant made in one is there in the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.branches import Branches, Turn
from app.errors import CarrelError
from app.prompt import ChatMessage, Prompt
from app.replies import Reply
from app.store import Conversation, Message

if TYPE_CHECKING:
    from app.workbench import Workbench

NEW_TITLE = "New conversation"
TITLE_LENGTH = 48


class Turns:
    """The reply actions over a `Workbench`'s store and models. No signals (plain core);
    each method returns a `Reply` to iterate on a worker thread, or raises a
    `CarrelError` that says why it cannot start."""

    def __init__(self, workbench: Workbench) -> None:
        self._wb = workbench
        self.branches = Branches(workbench.store)

    def thread(self, conversation_id: int) -> list[Turn]:
        """The shown branch, each message with its variants."""
        return self.branches.thread(conversation_id)

    def select(self, message_id: int) -> None:
        """Show the variant (or branch) that `message_id` belongs to."""
        self.branches.select(message_id)

    def reply(
        self,
        conversation_id: int,
        text: str,
        overrides: dict[str, Any] | None = None,
        *,
        ask_remote: bool = False,
    ) -> Reply:
        """Add the person's message at the end of the shown branch and answer it."""
        wb = self._wb
        c = wb.store.conversation(conversation_id)
        wb.ready_for(c)
        user = wb.store.add_message(conversation_id, "user", text)
        if c.title == NEW_TITLE:
            wb.store.update_conversation(conversation_id, title=title_from(text))
        return self._answer(c, user, overrides, ask_remote)

    def regenerate(
        self,
        conversation_id: int,
        message_id: int | None = None,
        overrides: dict[str, Any] | None = None,
        *,
        ask_remote: bool = False,
    ) -> Reply:
        """Write a new variant of a reply (by default the last one shown); the old one
        is kept beside it."""
        wb = self._wb
        c = wb.store.conversation(conversation_id)
        reply = self._target_reply(conversation_id, message_id, "regenerate")
        wb.ready_for(c)
        if reply.parent_id is None:
            raise CarrelError("This reply answers no message, so it cannot be regenerated.")
        asked = self.branches.message(reply.parent_id)
        return self._answer(c, asked, overrides, ask_remote)

    def edit(
        self,
        conversation_id: int,
        message_id: int,
        text: str,
        overrides: dict[str, Any] | None = None,
        *,
        ask_remote: bool = False,
    ) -> Reply:
        """Send `text` in place of an earlier message of yours: the conversation
        branches there, and the old branch is kept."""
        wb = self._wb
        c = wb.store.conversation(conversation_id)
        old = self.branches.message(message_id)
        if old.role != "user" or old.conversation_id != conversation_id:
            raise CarrelError("Only your own messages in this conversation can be edited.")
        if not text.strip():
            raise CarrelError("The edited message is empty; type something to send.")
        wb.ready_for(c)
        user = wb.store.add_message(conversation_id, "user", text, parent_id=old.parent_id)
        return self._answer(c, user, overrides, ask_remote)

    def continue_reply(
        self,
        conversation_id: int,
        message_id: int | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> Reply:
        """Go on writing a stopped reply (by default the last one shown) with the
        on-device model, from where it stopped, into the same message."""
        wb = self._wb
        c = wb.store.conversation(conversation_id)
        reply = self._target_reply(conversation_id, message_id, "continue")
        if not reply.stopped:
            raise CarrelError("Only a stopped reply can be continued; this one was finished.")
        params = wb.params_for({**c.params, **(overrides or {})})
        path = self.branches.path_to(reply.id)
        prompt = Prompt.asking(wb.history(c, path[:-1]), reply.citations)
        # A trailing assistant message is continued by the engine, not answered.
        messages = [*prompt.messages(), ChatMessage("assistant", reply.text)]
        generation = wb.complete(messages, params)
        self.branches.set_leaf(conversation_id, reply.id)
        return Reply(
            wb.store, conversation_id, generation, params, reply.citations, continues=reply
        )

    def _answer(
        self,
        c: Conversation,
        asked: Message,
        overrides: dict[str, Any] | None,
        ask_remote: bool,
    ) -> Reply:
        wb = self._wb
        params = wb.params_for({**c.params, **(overrides or {})})
        branch = self.branches.path_to(asked.id)
        return wb.start_reply(
            c, wb.history(c, branch), asked.text, params, asked.id, ask_remote=ask_remote
        )

    def _target_reply(self, conversation_id: int, message_id: int | None, verb: str) -> Message:
        if message_id is None:
            replies = [m for m in self._wb.store.messages(conversation_id) if m.role == "assistant"]
            if not replies:
                raise CarrelError(f"There is no reply to {verb} yet; send a message first.")
            return replies[-1]
        m = self.branches.message(message_id)
        if m.role != "assistant" or m.conversation_id != conversation_id:
            raise CarrelError(f"Only a reply of this conversation can be asked to {verb}.")
        return m


def title_from(text: str) -> str:
    """A conversation's title from its first message: one line, at most 48 characters."""
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"
