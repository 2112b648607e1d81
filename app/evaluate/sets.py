"""Test sets: questions over a collection, each with an optional expected answer and the
passages that hold its answer (gold). Kept in the store's `eval_sets` / `eval_items`."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from app.citation import Citation
from app.evaluate.errors import EvaluateError, TestSetNotFoundError
from app.evaluate.schema import COMPONENT, EVALUATE_MIGRATIONS
from app.store import Store

STATUSES = ("draft", "accepted", "dropped")


@dataclass(frozen=True)
class Gold:
    """A passage that holds an answer: where it is (collection, file, page, character
    offsets as the chunker gave them) and its text, or the part of it that is evidence."""

    source: str
    collection: str = ""
    page: int | None = None
    start: int = 0
    end: int = 0
    text: str = ""

    @classmethod
    def of(cls, c: Citation) -> Gold:
        return cls(c.source, c.collection, c.page, c.start, c.end, c.text)

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> Gold:
        page = r.get("page")
        return cls(
            source=str(r.get("source") or ""),
            collection=str(r.get("collection") or ""),
            page=page if isinstance(page, int) else None,
            start=int(r.get("start") or 0),
            end=int(r.get("end") or 0),
            text=str(r.get("text") or ""),
        )

    def matches(self, c: Citation) -> bool:
        """Is `c` this passage? Same file (by name or path) and page, and overlapping
        offsets when both are known, else the gold text inside the passage."""
        same_file = c.source == self.source or c.source.endswith("/" + self.source.lstrip("/"))
        if not same_file or (self.page is not None and c.page not in (None, self.page)):
            return False
        if self.end > self.start and c.end > c.start:
            return c.start < self.end and self.start < c.end
        return not self.text or _squash(self.text) in _squash(c.text)


def _squash(text: str) -> str:
    return " ".join(text.lower().split())


@dataclass
class Item:
    """One question of a test set."""

    id: int
    question: str
    expected: str = ""
    gold: list[Gold] = field(default_factory=list)
    task: str = ""
    status: str = "accepted"
    origin: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "expected": self.expected,
            "gold": [dataclasses.asdict(g) for g in self.gold],
            "task": self.task,
            "status": self.status,
        }


@dataclass
class TestSet:
    """A named set of questions over one collection."""

    __test__ = False

    id: int
    name: str
    collection: str
    items: list[Item] = field(default_factory=list)

    def usable(self) -> list[Item]:
        """The items a run asks: accepted ones."""
        return [i for i in self.items if i.status == "accepted"]

    def describe(self) -> str:
        counts = {s: sum(1 for i in self.items if i.status == s) for s in STATUSES}
        return (
            f"{self.name} ({self.collection or 'no collection'}): {counts['accepted']} accepted, "
            f"{counts['draft']} draft, {counts['dropped']} dropped"
        )


class TestSets:
    """The test sets in the store: create, list, add and edit items."""

    __test__ = False

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate(COMPONENT, EVALUATE_MIGRATIONS)

    def create(self, name: str, collection: str = "") -> TestSet:
        if not name.strip():
            raise EvaluateError("A test set needs a name.")
        try:
            with self.store.transaction() as db:
                db.execute(
                    "INSERT INTO eval_sets (name, collection, created_at) VALUES (?, ?, ?)",
                    (name, collection, time.time()),
                )
        except sqlite3.IntegrityError as exc:
            raise EvaluateError(
                f"A test set named '{name}' exists already; choose another name."
            ) from exc
        return self.get(name)

    def names(self) -> list[str]:
        return [r["name"] for r in self.store.query("SELECT name FROM eval_sets ORDER BY name")]

    def get(self, name: str) -> TestSet:
        rows = self.store.query("SELECT * FROM eval_sets WHERE name = ?", (name,))
        if not rows:
            raise TestSetNotFoundError(name)
        return self._of(rows[0])

    def by_id(self, set_id: int) -> TestSet:
        rows = self.store.query("SELECT * FROM eval_sets WHERE id = ?", (set_id,))
        if not rows:
            raise TestSetNotFoundError(str(set_id))
        return self._of(rows[0])

    def _of(self, row: sqlite3.Row) -> TestSet:
        items = [
            Item(
                id=r["id"],
                question=r["question"],
                expected=r["expected"],
                gold=[Gold.from_record(g) for g in json.loads(r["gold"])],
                task=r["task"],
                status=r["status"],
                origin=r["origin"],
            )
            for r in self.store.query(
                "SELECT * FROM eval_items WHERE set_id = ? ORDER BY id", (row["id"],)
            )
        ]
        return TestSet(row["id"], row["name"], row["collection"], items)

    def delete(self, name: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM eval_sets WHERE name = ?", (name,))

    def add(self, test_set: TestSet, items: list[Item]) -> list[int]:
        """Add items (their `id` is ignored) in one transaction; returns the new ids."""
        ids: list[int] = []
        with self.store.transaction() as db:
            for i in items:
                if i.status not in STATUSES:
                    raise EvaluateError(f"'{i.status}' is not a status ({', '.join(STATUSES)}).")
                cur = db.execute(
                    "INSERT INTO eval_items (set_id, question, expected, gold, task, status,"
                    " origin) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        test_set.id,
                        i.question,
                        i.expected,
                        json.dumps([dataclasses.asdict(g) for g in i.gold]),
                        i.task,
                        i.status,
                        i.origin,
                    ),
                )
                assert cur.lastrowid is not None
                ids.append(cur.lastrowid)
        return ids

    def edit(
        self,
        item_id: int,
        *,
        question: str | None = None,
        expected: str | None = None,
        status: str | None = None,
        task: str | None = None,
    ) -> None:
        """Change an item: reword it, give its expected answer, accept or drop it."""
        if status is not None and status not in STATUSES:
            raise EvaluateError(f"'{status}' is not a status ({', '.join(STATUSES)}).")
        changes = {
            k: v
            for k, v in (
                ("question", question),
                ("expected", expected),
                ("status", status),
                ("task", task),
            )
            if v is not None
        }
        if not changes:
            return
        assignments = ", ".join(f"{k} = ?" for k in changes)
        with self.store.transaction() as db:
            cur = db.execute(
                f"UPDATE eval_items SET {assignments} WHERE id = ?", (*changes.values(), item_id)
            )
            if cur.rowcount == 0:
                raise EvaluateError(
                    f"There is no question {item_id}; 'carrel eval sets show NAME' numbers them."
                )
