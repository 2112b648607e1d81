"""Small widgets of the main window: the error bar, the prompt box, the parameters panel."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QSpinBox,
    QStatusBar,
    QToolButton,
    QWidget,
)

from app.engine.backend import GenerationParams

SEED_MAX = 2**31 - 1
BADGE_STYLE = (
    "QLabel { background: #e3f4e8; color: #1d6b35; border: 1px solid #9fd3af;"
    " border-radius: 8px; padding: 1px 8px; font-weight: bold; }"
)
REMOTE_BADGE_STYLE = (
    "QLabel { background: #fdf0dc; color: #8a4b00; border: 1px solid #e8c48f;"
    " border-radius: 8px; padding: 1px 8px; font-weight: bold; }"
)
ON_DEVICE_TIP = "Models run on this machine; nothing leaves the device."


class ErrorBar(QFrame):
    """The one place the window shows what went wrong; hidden until there is a message.

    Signals: `shown(str)` each time a message is shown, `dismissed()` when closed.
    """

    shown = Signal(str)
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBar")
        self.setStyleSheet(
            "#errorBar { background: #fdecea; border: 1px solid #e0a39c; border-radius: 4px; }"
            "#errorBar QLabel { color: #8a1c12; }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    @property
    def message(self) -> str:
        return "" if self.isHidden() else self.label.text()

    def show_message(self, message: str) -> None:
        self.label.setText(message)
        self.show()
        self.shown.emit(message)

    def dismiss(self) -> None:
        self.hide()
        self.label.clear()
        self.dismissed.emit()


def confirmation(parent: QWidget, title: str, question: str) -> QMessageBox:
    """A Yes/No question whose default (Enter) and Esc answer are No: a destructive
    action must be chosen, never fallen into."""
    box = QMessageBox(QMessageBox.Icon.Question, title, question, parent=parent)
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setEscapeButton(QMessageBox.StandardButton.No)
    return box


def ask(parent: QWidget, title: str, question: str) -> bool:
    """Ask `question` (see `confirmation`); True only for Yes."""
    return confirmation(parent, title, question).exec() == QMessageBox.StandardButton.Yes


class PromptEdit(QPlainTextEdit):
    """The message box: Enter sends, Shift+Enter inserts a newline; Tab and Shift+Tab
    move the focus on, Ctrl+Tab inserts a tab.

    Signals: `submitted()` when Enter is pressed.
    """

    submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if (
            event.key() == Qt.Key.Key_Tab
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.insertPlainText("\t")
            return
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        if enter:  # Shift+Enter: a plain newline, not a paragraph separator quirk
            self.insertPlainText("\n")
            return
        super().keyPressEvent(event)


class ParamsPanel(QWidget):
    """Sampling parameters and the system prompt of the current conversation: the
    temperature, reply length and system prompt in view, the less-used samplers and the
    seed behind an "Advanced" toggle (`advanced_toggle`, closed at first).

    Signals: `changed()` after the person edits a value (the system prompt is debounced),
    never while `set_values` fills the panel.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._filling = False
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        def dspin(lo: float, hi: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
            box = QDoubleSpinBox(self)
            box.setRange(lo, hi)
            box.setSingleStep(step)
            box.setDecimals(decimals)
            box.valueChanged.connect(self._edited)
            return box

        def ispin(lo: int, hi: int) -> QSpinBox:
            box = QSpinBox(self)
            box.setRange(lo, hi)
            box.valueChanged.connect(self._edited)
            return box

        self.temperature = dspin(0.0, 2.0, 0.05)
        self.top_p = dspin(0.0, 1.0, 0.05)
        self.top_k = ispin(0, 1000)
        self.min_p = dspin(0.0, 1.0, 0.01)
        self.repeat_penalty = dspin(0.5, 2.0, 0.05)
        self.max_tokens = ispin(1, 32768)
        self.seed = ispin(-1, SEED_MAX)
        self.seed.setSpecialValueText("random")
        self.system_prompt = QPlainTextEdit(self)
        self.system_prompt.setPlaceholderText("System prompt for this conversation")
        self.system_prompt.setMinimumHeight(96)
        self._prompt_timer = QTimer(self)
        self._prompt_timer.setSingleShot(True)
        self._prompt_timer.setInterval(400)
        self._prompt_timer.timeout.connect(self._edited)
        self.system_prompt.textChanged.connect(self._prompt_edited)

        form.addRow("Temperature", self.temperature)
        form.addRow("Max tokens", self.max_tokens)
        self.advanced_toggle = QToolButton(self)
        self.advanced_toggle.setText("Advanced")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setAutoRaise(True)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setToolTip("Top-p, top-k, min-p, repeat penalty and seed")
        self.advanced = QWidget(self)
        more = QFormLayout(self.advanced)
        more.setContentsMargins(12, 0, 0, 0)
        more.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        more.addRow("Top-p", self.top_p)
        more.addRow("Top-k", self.top_k)
        more.addRow("Min-p", self.min_p)
        more.addRow("Repeat penalty", self.repeat_penalty)
        more.addRow("Seed", self.seed)
        self.advanced.setVisible(False)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)
        form.addRow(self.advanced_toggle)
        form.addRow(self.advanced)
        form.addRow(QLabel("System prompt", self))
        form.addRow(self.system_prompt)

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    def _prompt_edited(self) -> None:
        if not self._filling:
            self._prompt_timer.start()

    def _edited(self) -> None:
        if not self._filling:
            self._prompt_timer.stop()
            self.changed.emit()

    def flush(self) -> None:
        """Report a pending system-prompt edit now (before sending, switching, closing)."""
        if self._prompt_timer.isActive():
            self._prompt_timer.stop()
            self.changed.emit()

    def set_values(self, params: GenerationParams, system_prompt: str) -> None:
        self._filling = True
        try:
            self._prompt_timer.stop()
            self.temperature.setValue(params.temperature)
            self.top_p.setValue(params.top_p)
            self.top_k.setValue(params.top_k)
            self.min_p.setValue(params.min_p)
            self.repeat_penalty.setValue(params.repeat_penalty)
            self.max_tokens.setValue(params.max_tokens)
            self.seed.setValue(params.seed)
            if self.system_prompt.toPlainText() != system_prompt:
                self.system_prompt.setPlainText(system_prompt)
        finally:
            self._filling = False

    def params(self) -> dict[str, Any]:
        return GenerationParams(
            temperature=round(self.temperature.value(), 4),
            top_p=round(self.top_p.value(), 4),
            top_k=self.top_k.value(),
            min_p=round(self.min_p.value(), 4),
            repeat_penalty=round(self.repeat_penalty.value(), 4),
            max_tokens=self.max_tokens.value(),
            seed=self.seed.value(),
        ).as_dict()

    def prompt(self) -> str:
        return self.system_prompt.toPlainText()


class StatusBar(QStatusBar):
    """The loaded model and where it runs, the last reply's speed, a busy bar for long
    actions, and the "On-device" badge. No signals."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = QLabel("No model loaded", self)
        self.runs_on = QLabel("", self)
        self.runs_on.setContentsMargins(12, 0, 12, 0)
        self.speed = QLabel("", self)
        self.busy_label = QLabel("", self)
        self.busy_bar = QProgressBar(self)
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(140)
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.hide()
        self.badge = QLabel("On-device", self)
        self.badge.setStyleSheet(BADGE_STYLE)
        self.badge.setToolTip(ON_DEVICE_TIP)
        for widget in (self.model, self.runs_on, self.speed, self.busy_label, self.busy_bar):
            self.addWidget(widget)
        self.addPermanentWidget(self.badge)
        self.online = QLabel("Online: Hugging Face", self)
        self.online.setStyleSheet(REMOTE_BADGE_STYLE)
        self.online.setToolTip("Carrel is talking to the model hub while you browse or download.")
        self.online.setVisible(False)
        self.addPermanentWidget(self.online)

    def set_busy(self, text: str) -> None:
        self.busy_label.setText(text)
        self.busy_bar.setVisible(bool(text))

    def set_runs_on(self, text: str, detail: str = "") -> None:
        """Where the model runs, as llama.cpp reported it ("Vulkan · 31/31 layers on
        llvmpipe", "CPU"); `detail` (the split, fallbacks) in the tooltip."""
        self.runs_on.setText(text)
        self.runs_on.setToolTip(detail)

    def set_speed(self, tokens_per_s: float) -> None:
        self.speed.setText(f"{tokens_per_s:.1f} tok/s")

    def clear_speed(self) -> None:
        """No speed shown (a reply is being prepared: the last one's would mislead)."""
        self.speed.setText("")

    def set_online(self, online: bool) -> None:
        """Show, while hub browsing or a download runs, that Carrel is online."""
        self.online.setVisible(online)

    def set_remote(self, names: list[str]) -> None:
        """Say whether any remote endpoint is switched on (and which)."""
        if not names:
            self.badge.setText("On-device")
            self.badge.setStyleSheet(BADGE_STYLE)
            self.badge.setToolTip(ON_DEVICE_TIP)
            return
        self.badge.setText("On-device · remote enabled: " + ", ".join(names))
        self.badge.setStyleSheet(REMOTE_BADGE_STYLE)
        self.badge.setToolTip(
            "A remote endpoint is switched on: conversations routed to it may send requests "
            "off this machine, each only after you approve it. Switch it off in Settings."
        )
