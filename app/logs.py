"""The log file both faces write (`carrel.log` in the logs folder), and the one line a
person is shown for an unexpected error, whose traceback goes there.

A log that cannot be written (a full disk, a read-only folder) loses the record quietly:
logging must never turn one problem into a second, noisier one.
"""

from __future__ import annotations

import io
import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from app.private import private_dir, private_file

LOG_NAME = "carrel.log"
MAX_BYTES = 1_000_000
BACKUPS = 3

log = logging.getLogger(__name__)


class PrivateLogHandler(RotatingFileHandler):
    """Rotates at `MAX_BYTES`; a record that cannot be written is dropped, not printed.
    Each file, the new one after a rotation too, is readable by the person only
    (tracebacks may quote their documents)."""

    def _open(self) -> io.TextIOWrapper:
        private_file(Path(self.baseFilename))
        return super()._open()

    def handleError(self, record: logging.LogRecord) -> None:
        pass


class LogFile:
    """`carrel.log` attached to the root logger until `close()`."""

    def __init__(self, logs_dir: Path, level: int = logging.INFO) -> None:
        self.path = logs_dir / LOG_NAME
        self._handler: logging.Handler | None = None
        self._level = logging.getLogger().level
        try:
            private_dir(logs_dir)
            handler = PrivateLogHandler(
                self.path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
            )
        except OSError:
            return  # no log folder: records are lost, the app goes on
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(level)
        root = logging.getLogger()
        root.addHandler(handler)
        if root.level == logging.NOTSET or root.level > level:
            root.setLevel(level)
        self._handler = handler

    def record_unexpected(self, exc: BaseException) -> None:
        """Write `exc` with its traceback to the file only (not to the terminal, where the
        person is shown one line)."""
        if self._handler is None:
            return
        record = logging.getLogger("carrel").makeRecord(
            "carrel", logging.ERROR, __file__, 0, "Unexpected error", (),
            (type(exc), exc, exc.__traceback__),
        )  # fmt: skip
        self._handler.handle(record)

    def close(self) -> None:
        handler, self._handler = self._handler, None
        if handler is not None:
            root = logging.getLogger()
            root.removeHandler(handler)
            root.setLevel(self._level)
            handler.close()


def unexpected_message(log_file: Path | None, exc: BaseException | None = None) -> str:
    """'Unexpected error (KeyError: 'x') — details in …/carrel.log'."""
    where = str(log_file) if log_file is not None else "the log"
    what = f" ({type(exc).__name__}: {_first_line(exc)})" if exc is not None else ""
    return f"Unexpected error{what} — details in {where}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else "no message"
