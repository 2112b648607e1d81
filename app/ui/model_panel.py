"""`ModelPanel`: the model picker, with a busy bar while a model loads, where the loaded
model runs, and its load options (`LoadControls`) behind a "Load options" toggle."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QLabel,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.engine.placement import Placement
from app.library.registry import ModelInfo
from app.ui.load_controls import LoadControls


class ModelPanel(QGroupBox):
    """Lists the models Carrel knows and reports the one the person picks.

    Signals: `chosen(str)` with a model name, only when the person picks one. Its
    `controls` (`LoadControls`) emit `applied(str, object)` and `estimated(object)`.
    """

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Model", parent)
        layout = QVBoxLayout(self)
        self.combo = QComboBox(self)
        self.combo.setPlaceholderText("Finding models…")
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(16)
        self.combo.activated.connect(self._on_activated)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setMaximumHeight(8)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.info = QLabel("", self)
        self.info.setWordWrap(True)
        self.info.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # grey, either theme
        self.runs_on = QLabel("", self)
        self.runs_on.setWordWrap(True)
        self.toggle = QToolButton(self)
        self.toggle.setText("Load options")
        self.toggle.setCheckable(True)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAutoRaise(True)
        self.controls = LoadControls(self)
        self.controls.setVisible(False)
        self.toggle.toggled.connect(self._toggle_controls)
        layout.addWidget(self.combo)
        layout.addWidget(self.busy)
        layout.addWidget(self.info)
        layout.addWidget(self.runs_on)
        layout.addWidget(self.toggle)
        layout.addWidget(self.controls)

    def _toggle_controls(self, shown: bool) -> None:
        self.controls.setVisible(shown)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def show_placement(self, placement: Placement | None) -> None:
        """Where the loaded model runs and, after a fallback, what happened."""
        if placement is None:
            self.runs_on.setText("")
            return
        lines = [f"Runs on: {placement.describe()}", *placement.notes]
        self.runs_on.setText("\n".join(lines))
        self.runs_on.setToolTip(placement.where_layers_went())

    def set_models(self, models: list[ModelInfo]) -> None:
        self.combo.clear()
        for m in (m for m in models if m.role == "chat"):  # never an embedder or reranker
            self.combo.addItem(m.name if not m.problem else f"{m.name} (unusable)", m.name)
            tip = m.problem or f"{m.describe()} · {m.source}"
            self.combo.setItemData(self.combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)

    def names(self) -> list[str]:
        return [str(self.combo.itemData(i)) for i in range(self.combo.count())]

    def set_current(self, name: str | None) -> None:
        self.combo.setCurrentIndex(self.combo.findData(name) if name else -1)

    def set_busy(self, text: str) -> None:
        self.busy.setVisible(bool(text))
        if text:
            self.info.setText(text)

    def _on_activated(self, index: int) -> None:
        name = self.combo.itemData(index)
        if isinstance(name, str):
            self.chosen.emit(name)
