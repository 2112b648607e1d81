"""`ModelPanel`: the model picker, with a busy bar while a model loads."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGroupBox, QLabel, QProgressBar, QVBoxLayout, QWidget

from app.library.registry import ModelInfo


def describe(info: ModelInfo) -> str:
    text = f"{info.quant} · {info.size / 1e6:.0f} MB · context {info.context_length:,}"
    return text + (f" · licence {info.license}" if info.license else "")


class ModelPanel(QGroupBox):
    """Lists the models Carrel knows and reports the one the person picks.

    Signals: `chosen(str)` with a model name, only when the person picks one.
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
        self.info.setStyleSheet("color: #666;")
        layout.addWidget(self.combo)
        layout.addWidget(self.busy)
        layout.addWidget(self.info)

    def set_models(self, models: list[ModelInfo]) -> None:
        self.combo.clear()
        for m in (m for m in models if m.role == "chat"):  # never an embedder or reranker
            self.combo.addItem(m.name if not m.problem else f"{m.name} (unusable)", m.name)
            tip = m.problem or f"{describe(m)} · {m.source}"
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
