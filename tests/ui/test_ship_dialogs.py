"""Help → Self-check… and File → Export / Import bundle… as a person uses them: the real
window, real models and a real collection, every step in workers (the tests wait on the
dialogs' signals)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.config import Paths
from app.ui.bundle_dialogs import ExportBundleDialog
from app.ui.main_window import MainWindow
from app.ui.selfcheck_dialog import SelfCheckDialog
from app.workbench import Workbench

TIMEOUT_MS = 240_000
SMOL = "SmolLM2-135M-Instruct.Q4_1"


def _window(qtbot: QtBot, home: Path) -> MainWindow:
    window = MainWindow(Workbench.open(Paths.under(home)), owns_workbench=True)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.models_listed, timeout=60_000):
        window.start(load_default=False)
    return window


@pytest.fixture
def window(qtbot: QtBot, carrel_home: Path) -> Iterator[MainWindow]:
    w = _window(qtbot, carrel_home)
    yield w
    w.close()


def _dialog(window: MainWindow, kind: type) -> object:
    found = [d for d in window.findChildren(kind) if d.isVisible()]
    assert len(found) == 1
    return found[0]


@pytest.mark.slow
def test_help_self_check_runs_in_a_worker(qtbot: QtBot, window: MainWindow) -> None:
    window.self_check_action.trigger()
    dialog = _dialog(window, SelfCheckDialog)
    assert isinstance(dialog, SelfCheckDialog) and dialog.running
    with qtbot.waitSignal(dialog.completed, timeout=TIMEOUT_MS) as done:
        pass
    assert done.args == [True]
    assert dialog.lines.count() == 6
    assert dialog.verdict.text().startswith("All 6 checks passed")
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    dialog.close()


@pytest.mark.slow
def test_export_then_import_asking_about_a_name(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    wb = window.wb
    notes = tmp_path / "notes.md"
    notes.write_text("# Harbour\n\nThe ferry leaves at seven and returns at noon.\n", "utf-8")
    wb.documents.add([notes], "harbour")
    model, _ = wb.library.quantize(SMOL, "Q4_0", measure=False)
    out = tmp_path / "carry.tar"

    window.bundle_export_action.trigger()
    export = _dialog(window, ExportBundleDialog)
    assert isinstance(export, ExportBundleDialog)
    qtbot.waitUntil(lambda: export.models.count() > 0 and export.collections.count() == 1)
    export.check([model.name], ["harbour"])
    export.path_edit.setText(str(out))
    with qtbot.waitSignal(export.exported, timeout=TIMEOUT_MS) as exported:
        export.export_button.click()
    assert exported.args[0].collections == ["harbour"] and out.is_file()
    qtbot.waitUntil(lambda: not export.running)
    export.close()

    other = _window(qtbot, tmp_path / "other-machine")
    try:
        dialog = other.import_bundle()
        dialog.path_edit.setText(str(out))
        with qtbot.waitSignal(dialog.imported, timeout=TIMEOUT_MS) as imported:
            dialog.import_button.click()
        assert imported.args[0].placed == [f"model '{model.name}'", "collection 'harbour'"]
        qtbot.waitUntil(lambda: "harbour" in other.documents_page.collection_names())
        hits = other.wb.documents.search("when does the ferry leave", "harbour")
        assert hits and "seven" in hits[0].text
        qtbot.waitUntil(lambda: not dialog.running)

        # Again: the model is the same bytes (nothing to ask); the collection's name is taken.
        with qtbot.waitSignal(dialog.asked, timeout=TIMEOUT_MS) as asked:
            dialog.import_button.click()
        box = asked.args[0]
        assert isinstance(box, QMessageBox) and "collection 'harbour'" in box.text()
        keep = next(b for b in box.buttons() if b.text() == "Keep mine")
        with qtbot.waitSignal(dialog.imported, timeout=TIMEOUT_MS) as again:
            keep.click()
        assert again.args[0].skipped == ["collection 'harbour'"]
        assert again.args[0].identical == [f"model '{model.name}'"]
        qtbot.waitUntil(lambda: not dialog.running)
        dialog.close()
    finally:
        other.close()
