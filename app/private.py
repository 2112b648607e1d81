"""Files and folders only the person can read.

Carrel's folders and files hold conversations, the ledger, the person's redaction terms
and their logs: only they may read them, whatever the umask (which left them 0755/0644).
The settings files (`app.tomlfile`), the database (`app.store`), the logs (`app.logs`) and
Carrel's folders (`app.config.Paths.ensure`) are made through these.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _chmod(path: Path, mode: int) -> None:
    if os.name != "nt":  # Windows keeps per-user folders private by their ACLs
        path.chmod(mode)


def private_dir(folder: Path) -> Path:
    """Create `folder` (and missing parents) and make it readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    _chmod(folder, PRIVATE_DIR)
    return folder


def private_file(file: Path) -> Path:
    """Create `file` empty if it is missing, and make it readable by its owner only."""
    os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE))
    _chmod(file, PRIVATE_FILE)
    return file


def write_private(file: Path, text: str) -> None:
    """Write `file` atomically and durably (a crash leaves the old file or the new, never
    half), created readable by its owner only."""
    file.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    tmp = file.with_name(file.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    _chmod(tmp, PRIVATE_FILE)
    tmp.replace(file)
