"""Starting the GUI: the Qt application, logging to the log folder, the handler for
unexpected exceptions, the main window, and the default model loading in a worker."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app import heap
from app.errors import CarrelError
from app.logs import LogFile, unexpected_message
from app.resources import icon_files
from app.ui.main_window import MainWindow
from app.workbench import Workbench

log = logging.getLogger(__name__)


def app_icon() -> QIcon:
    """Carrel's icon in every size it is drawn at (resources/icons, rendered from its SVG)."""
    icon = QIcon()
    for path in icon_files():
        icon.addFile(str(path))
    return icon


class ErrorRelay(QObject):
    """Carries an error message from any thread to the window's error area.

    Signals: `error(str)`.
    """

    error = Signal(str)


def install_excepthook(window: MainWindow, log_file: Path) -> ErrorRelay:
    """Log any uncaught exception with its traceback and show it in the window, which
    keeps running. Returns the relay (keep it referenced as long as the window lives)."""
    relay = ErrorRelay(window)
    relay.error.connect(window.show_error_here)

    def report(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        if isinstance(exc, CarrelError):
            relay.error.emit(exc.message)
            return
        log.error("Unexpected error", exc_info=(kind, exc, tb))
        relay.error.emit(unexpected_message(log_file, exc))

    def report_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            report(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = report
    threading.excepthook = report_thread
    return relay


def main(
    argv: list[str] | None = None, *, on_shown: Callable[[MainWindow], None] | None = None
) -> int:
    """Run the GUI until its window closes; returns the process exit status.

    `on_shown` is called once the window has painted itself (the cold-start benchmark).
    """
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Carrel")
    app.setOrganizationName("Carrel")
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("carrel")  # the desktop entry: its icon and name in docks
    try:
        wb = Workbench.open()
    except CarrelError as exc:
        print(f"carrel: {exc.message}", file=sys.stderr)
        return 1
    logs = LogFile(wb.paths.logs_dir)
    log_file = logs.path
    window = MainWindow(wb, owns_workbench=True, log_file=log_file)
    relay = install_excepthook(window, log_file)
    if on_shown is not None:
        window.first_painted.connect(lambda: on_shown(window))
    # Start-up's objects (Qt's bindings, Carrel's modules) stay: out of the GC's passes.
    window.first_painted.connect(heap.settle)
    window.show()
    window.start(load_default=True)
    app.setQuitOnLastWindowClosed(True)
    try:
        status = app.exec()
    finally:
        window.shutdown()
        sys.excepthook = sys.__excepthook__
        threading.excepthook = threading.__excepthook__
        del relay
        logs.close()
    return status
