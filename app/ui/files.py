"""Writing exports: the bytes of a conversation as Markdown or JSON, saved atomically."""

from __future__ import annotations

import json
import re
from pathlib import Path

from PySide6.QtCore import QIODevice, QSaveFile
from PySide6.QtWidgets import QFileDialog, QWidget

from app.errors import CarrelError
from app.workbench import Workbench

FORMATS = {"md": "Markdown", "json": "JSON"}


def export_bytes(wb: Workbench, conversation_id: int, ext: str) -> bytes:
    if ext == "md":
        return wb.export_markdown(conversation_id).encode("utf-8")
    data = wb.export_json(conversation_id)
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")


def suggested_name(title: str, ext: str) -> str:
    """A file name from a conversation's title: the "…" of a shortened title dropped,
    each run of other characters a file name cannot safely hold one "_"."""
    title = title.strip().removesuffix("…").removesuffix("...").strip()
    safe = re.sub(r"[^\w \-]+", "_", title).strip(" _")
    return f"{safe or 'conversation'}.{ext}"


def save_atomically(path: Path, data: bytes) -> None:
    """Write the whole file or nothing (QSaveFile); raises a `CarrelError` that says why."""
    file = QSaveFile(str(path))
    if not file.open(QIODevice.OpenModeFlag.WriteOnly):
        raise CarrelError(f"Cannot write {path}: {file.errorString()}. Pick another folder.")
    if file.write(data) != len(data) or not file.commit():
        reason = file.errorString()
        file.cancelWriting()
        raise CarrelError(f"Cannot write {path}: {reason}. Check free disk space.")


def export_conversation(
    parent: QWidget, wb: Workbench, conversation_id: int, ext: str, path: str | Path | None
) -> Path | None:
    """Write a conversation as Markdown or JSON; asks where unless `path` is given.
    Returns the path written, None if the person cancelled; raises a `CarrelError`."""
    kind = FORMATS[ext]
    if path is None:
        name = suggested_name(wb.store.conversation(conversation_id).title, ext)
        path, _ = QFileDialog.getSaveFileName(
            parent, f"Export as {kind}", name, f"{kind} (*.{ext})"
        )
        if not path:
            return None
    save_atomically(Path(path), export_bytes(wb, conversation_id, ext))
    return Path(path)
