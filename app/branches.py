"""`Branches`: a conversation as a tree of messages, and which branch of it is shown.

Regenerating a reply adds a sibling of that reply (a *variant*); editing an earlier
message and sending it again adds a sibling of that message, so the conversation
branches there. Nothing is overwritten: every variant and branch stays in the store and
can be shown again. The conversation shows the path from its first message to its
*leaf*; `select` moves the leaf into another variant's branch.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import CarrelError
from app.store import Message, Store, message_of


@dataclass(frozen=True)
class Turn:
    """A message of the shown branch and its variants (itself included, oldest first)."""

    message: Message
    variants: tuple[int, ...]

    @property
    def index(self) -> int:
        """This message's place among its variants, from 0."""
        return self.variants.index(self.message.id)

    def describe(self) -> str:
        """'2/3' when there are variants to browse, else ''."""
        return f"{self.index + 1}/{len(self.variants)}" if len(self.variants) > 1 else ""

    def neighbour(self, step: int) -> int | None:
        """The id of the variant `step` places away (-1 previous, +1 next), if any."""
        at = self.index + step
        return self.variants[at] if 0 <= at < len(self.variants) else None


class Branches:
    """Variants and branches of the conversations in a `Store`. No signals (plain core)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def message(self, message_id: int) -> Message:
        for m in self._siblings_of(message_id):
            if m.id == message_id:
                return m
        raise CarrelError(f"Message {message_id} is not there any more; reopen the chat.")

    def thread(self, conversation_id: int) -> list[Turn]:
        """The shown branch, each message with its variants."""
        path = self._store.messages(conversation_id)
        rows = self._store.query(
            "SELECT id, parent_id, role FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        )
        groups: dict[tuple[int | None, str], list[int]] = {}
        for r in rows:
            groups.setdefault((r["parent_id"], r["role"]), []).append(r["id"])
        return [Turn(m, tuple(groups.get((m.parent_id, m.role), [m.id]))) for m in path]

    def path_to(self, message_id: int) -> list[Message]:
        """The branch from the conversation's first message to `message_id`."""
        m = self.message(message_id)
        rows = self._store.query(
            "SELECT * FROM messages WHERE conversation_id = ? AND id <= ?",
            (m.conversation_id, message_id),
        )
        by_id = {r["id"]: message_of(r) for r in rows}
        path: list[Message] = []
        at: int | None = message_id
        while at is not None and at in by_id:
            path.append(by_id[at])
            at = by_id[at].parent_id
        return path[::-1]

    def variants(self, message_id: int) -> list[Message]:
        """The message and its siblings of the same role, oldest first."""
        return self._siblings_of(message_id)

    def select(self, message_id: int) -> None:
        """Show the branch through `message_id`: the leaf becomes the newest message
        under it (the one last added there), or the message itself."""
        m = self.message(message_id)
        rows = self._store.query(
            "SELECT id, parent_id FROM messages WHERE conversation_id = ? AND id > ? ORDER BY id",
            (m.conversation_id, message_id),
        )
        under = {message_id}
        leaf = message_id
        for r in rows:
            if r["parent_id"] in under:
                under.add(r["id"])
                leaf = r["id"]
        self.set_leaf(m.conversation_id, leaf)

    def set_leaf(self, conversation_id: int, leaf_id: int | None) -> None:
        """Show the branch ending at `leaf_id` (None: an empty conversation)."""
        with self._store.transaction() as db:
            db.execute(
                "UPDATE conversations SET leaf_id = ? WHERE id = ?", (leaf_id, conversation_id)
            )

    def _siblings_of(self, message_id: int) -> list[Message]:
        rows = self._store.query(
            "SELECT s.* FROM messages m JOIN messages s ON s.conversation_id = m.conversation_id"
            " AND s.role = m.role AND s.parent_id IS m.parent_id WHERE m.id = ? ORDER BY s.id",
            (message_id,),
        )
        if not rows:
            raise CarrelError(f"Message {message_id} is not there any more; reopen the chat.")
        return [message_of(r) for r in rows]
