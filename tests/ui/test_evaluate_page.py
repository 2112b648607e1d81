"""The Evaluate page as a person uses it: a run with progress from the window's own tab,
the results table, the report and routes; and blind review by keyboard, with no
contestant's name anywhere in the widget tree before the vote."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.evaluate.contestants import Contestant
from app.evaluate.runs import Result, Runs
from app.evaluate.sets import Item, TestSets
from app.ui.main_window import MainWindow
from app.ui.pages.evaluate import EvaluatePage
from app.workbench import Workbench
from tests.evaluate.conftest import SMOL, make_collection, make_set
from tests.ui.conftest import TIMEOUT_MS, send

pytestmark = pytest.mark.slow

A = Contestant.parse("local:alpha-model?k=2")
B = Contestant.parse("local:beta-model?kv=q8_0&k=2")


def texts(root: QWidget) -> str:
    """Everything a widget tree shows or carries as text."""
    out = []
    for w in [root, *root.findChildren(QWidget)]:
        out += [w.objectName(), w.toolTip(), w.accessibleName(), w.windowTitle()]
        for n in w.dynamicPropertyNames():
            try:
                out.append(str(w.property(bytes(n.data()).decode())))
            except RuntimeError:  # Qt's own internal properties have no Python type
                continue
        if isinstance(w, QLabel | QAbstractButton | QLineEdit):
            out.append(w.text())
        if isinstance(w, QPlainTextEdit):
            out.append(w.toPlainText())
        if isinstance(w, QComboBox):
            out += [w.itemText(i) for i in range(w.count())]
        if isinstance(w, QTableWidget):
            out += [
                w.item(r, c).text()
                for r in range(w.rowCount())
                for c in range(w.columnCount())
                if w.item(r, c)
            ]
    return "\n".join(out)


def test_a_run_from_the_evaluate_tab(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    page = window.evaluate_page
    make_set(page.ev, make_collection(window.wb, tmp_path / "docs"), n=2)
    window.tabs.setCurrentWidget(page)  # shown: it lists sets, models and runs
    assert window.tabs.tabText(window.tabs.indexOf(page)) == "Evaluate"
    assert page.set_picker.currentText() == "harbour" and page.items.rowCount() == 2
    runs = page.runs
    runs.max_tokens.setValue(12)
    runs.extra.setText(f"local:{SMOL}?k=2")
    progress: list[object] = []
    runs.run_progress.connect(progress.append)
    with qtbot.waitSignal(runs.run_finished, timeout=TIMEOUT_MS * 4) as done:
        qtbot.mouseClick(runs.run_button, Qt.MouseButton.LeftButton)
    assert done.args == ["finished"] and len(progress) == 2
    assert runs.progress.value() == 2 and "2/2 answers" in runs.progress_label.text()
    assert runs.results.rowCount() == 1
    assert runs.results.item(0, 0).toolTip() == f"local:{SMOL}?k=2&mode=hybrid"
    assert runs.results.item(0, 0).text() == f"{SMOL} · top-2 hybrid"
    assert "Route every task" in runs.routes.text()
    with qtbot.waitSignal(runs.report_written):
        runs.write_report(tmp_path / "report.html")
    assert "<svg" in (tmp_path / "report.html").read_text()
    assert (tmp_path / "report.csv").read_text().count(SMOL) == 2
    with qtbot.waitSignal(runs.routes_applied):
        qtbot.mouseClick(runs.apply_button, Qt.MouseButton.LeftButton)
    assert window.wb.settings.model.default == SMOL


def reviewed_run(wb: Workbench) -> int:
    sets, runs = TestSets(wb.store), Runs(wb.store)
    s = sets.create("blind")
    ids = sets.add(s, [Item(0, "Who is the harbour master?"), Item(0, "Where is diesel?")])
    run = runs.create(s.id, [A, B], {})
    for item_id in ids:
        runs.save(Result(0, run.id, item_id, A.key, "It is Ingrid Solberg [1].", {}))
        runs.save(Result(0, run.id, item_id, B.key, "The documents do not say.", {}))
    return run.id


def test_blind_review_by_keyboard_names_nobody_before_the_vote(
    qtbot: QtBot, workbench: Workbench
) -> None:
    run_id = reviewed_run(workbench)
    page = EvaluatePage(workbench)
    qtbot.addWidget(page)
    page.show()
    page.start_review(run_id)
    panel = page.review
    seen = []
    for key in (Qt.Key.Key_A, Qt.Key.Key_T):
        shown = texts(panel)
        assert panel.pair is not None and panel.pair.question in shown
        for name in ("alpha", "beta", A.key, B.key):
            assert name not in shown, name
        with qtbot.waitSignal(panel.voted) as voted:
            qtbot.keyClick(panel, key)
        seen.append(voted.args[0])
        assert "alpha-model" in panel.status.text()  # named once the vote is in
        qtbot.keyClick(panel, Qt.Key.Key_Space)
    assert panel.pair is None and "Every pair" in panel.question.text()
    assert [v.verdict for v in seen] == ["A", "tie"]
    rates = {w.contestant: w for w in page.ev.report(run_id).win_rates}
    assert rates[A.key].comparisons == rates[B.key].comparisons == 2
    assert rates[A.key].wins + rates[B.key].wins == 2


def test_the_usage_tab_counts_the_windows_replies_and_exports_them(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=TIMEOUT_MS):
        window.start(load_default=True)
    window.params.max_tokens.setValue(6)
    for text in ("Hi", "Say yes."):
        assert send(qtbot, window, text) is not None
    page = window.evaluate_page
    window.tabs.setCurrentWidget(page)
    page.tabs.setCurrentWidget(page.usage)  # shown: it reads the log
    table = page.usage.table
    assert table.rowCount() == 1
    assert table.item(0, 1).text() == window.wb.settings.model.default
    assert table.item(0, 3).text() == "2" and table.item(0, 4).text() == "0"
    page.usage.period.setCurrentText("month")
    assert table.rowCount() == 1 and len(table.item(0, 0).text()) == len("2026-12")
    with qtbot.waitSignal(page.usage.exported, timeout=TIMEOUT_MS) as written:
        page.usage.export(tmp_path / "usage.csv")
    lines = Path(written.args[0]).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("at,model,route") and len(lines) == 3
