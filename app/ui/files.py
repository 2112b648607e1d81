"""Writing exports: the bytes of a conversation as Markdown or JSON, saved atomically."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QIODevice, QSaveFile

from app.errors import CarrelError
from app.workbench import Workbench

FORMATS = {"md": "Markdown", "json": "JSON"}


def export_bytes(wb: Workbench, conversation_id: int, ext: str) -> bytes:
    if ext == "md":
        return wb.export_markdown(conversation_id).encode("utf-8")
    data = wb.export_json(conversation_id)
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")


def suggested_name(title: str, ext: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in title).strip()
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
