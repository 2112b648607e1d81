"""Test sets to and from files: CSV (one question a row) and JSONL (one object a line).

Both carry `question`, `expected`, `task`, `status` and the gold passages. In JSONL `gold`
is a list of objects (source, collection, page, start, end, text); in CSV it is the same
list as JSON in a `gold` column, or, for a hand-written file, one passage in the flat
columns `gold_source`, `gold_page`, `gold_text`. A file with a bad row imports nothing and
says which row.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

from app.evaluate.errors import ImportSetError
from app.evaluate.sets import STATUSES, Gold, Item, TestSet

CSV_COLUMNS = ["question", "expected", "task", "status", "gold"]


def read_items(path: Path) -> list[Item]:
    """The items in a CSV or JSONL file (by its suffix)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportSetError(f"Cannot read {path}: {exc}.") from exc
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        records = _jsonl(text, path)
    elif path.suffix.lower() == ".csv":
        records = list(csv.DictReader(io.StringIO(text)))
    else:
        raise ImportSetError(f"{path.name}: a test set is a .csv or .jsonl file.")
    return [_item(r, n, path) for n, r in enumerate(records, start=1)]


def _jsonl(text: str, path: Path) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportSetError(f"{path.name} line {n} is not JSON ({exc.msg}).") from exc
        if not isinstance(value, dict):
            raise ImportSetError(f"{path.name} line {n} is not an object.")
        out.append(value)
    return out


def _item(r: dict[str, Any], n: int, path: Path) -> Item:
    question = str(r.get("question") or "").strip()
    if not question:
        raise ImportSetError(f"{path.name} item {n} has no question; nothing was imported.")
    status = str(r.get("status") or "accepted").strip()
    if status not in STATUSES:
        raise ImportSetError(
            f"{path.name} item {n}: status '{status}' is not one of {', '.join(STATUSES)}."
        )
    return Item(
        id=0,
        question=question,
        expected=str(r.get("expected") or "").strip(),
        gold=_gold(r, n, path),
        task=str(r.get("task") or "").strip(),
        status=status,
        origin=f"import:{path.name}",
    )


def _gold(r: dict[str, Any], n: int, path: Path) -> list[Gold]:
    raw = r.get("gold")
    if isinstance(raw, str) and raw.strip():
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ImportSetError(f"{path.name} item {n}: its gold is not JSON.") from exc
    if isinstance(raw, list):
        if not all(isinstance(g, dict) for g in raw):
            raise ImportSetError(f"{path.name} item {n}: gold is a list of objects.")
        return [Gold.from_record(g) for g in raw]
    source = str(r.get("gold_source") or "").strip()
    if not source:
        return []
    page = str(r.get("gold_page") or "").strip()
    if page and not page.isdigit():
        raise ImportSetError(f"{path.name} item {n}: gold_page '{page}' is not a number.")
    return [Gold(source, page=int(page) if page else None, text=str(r.get("gold_text") or ""))]


def write_items(test_set: TestSet, path: Path) -> int:
    """Write the set's items (every status) as CSV or JSONL; returns how many."""
    items = test_set.items
    if path.suffix.lower() == ".csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, CSV_COLUMNS)
        writer.writeheader()
        for i in items:
            row = i.as_dict()
            row["gold"] = json.dumps([dataclasses.asdict(g) for g in i.gold], ensure_ascii=False)
            writer.writerow(row)
        text = out.getvalue()
    elif path.suffix.lower() in (".jsonl", ".ndjson"):
        text = "".join(json.dumps(i.as_dict(), ensure_ascii=False) + "\n" for i in items)
    else:
        raise ImportSetError(f"{path.name}: export to a .csv or .jsonl file.")
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return len(items)
