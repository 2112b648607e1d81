"""`ViewerBar`: the document viewer's controls (paging, zoom, the system viewer) and which
of them apply to what is shown."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QToolButton, QWidget


class ViewerBar(QWidget):
    """The row of controls above a shown document: previous / page box / next, zoom out /
    zoom / zoom in / fit width, and "Open in system viewer". It keeps the controls' state;
    the viewer connects their signals (it has none of its own)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prev_button = QPushButton("◀ Previous", self)
        self.next_button = QPushButton("Next ▶", self)
        self.page_box = QSpinBox(self)
        self.page_box.setPrefix("Page ")
        self.page_box.setKeyboardTracking(False)
        self.zoom_out_button = self._tool("−", "Zoom out (Ctrl+-)")
        self.zoom_label = QLabel(self)
        self.zoom_in_button = self._tool("+", "Zoom in (Ctrl+=)")
        self.fit_button = self._tool("Fit width", "Fit the page to the window's width (Ctrl+0)")
        self.system_button = QPushButton("Open in system viewer", self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        paging: list[QWidget] = [self.prev_button, self.page_box, self.next_button]
        zoom: list[QWidget] = [self.zoom_out_button, self.zoom_label, self.zoom_in_button]
        for w in paging:
            layout.addWidget(w)
        layout.addSpacing(12)
        for w in [*zoom, self.fit_button]:
            layout.addWidget(w)
        layout.addStretch(1)
        layout.addWidget(self.system_button)

    def _tool(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        return button

    def set_mode(self, mode: str | None, has_document: bool) -> None:
        """'pdf', 'text', or None (nothing to show): paging and fitting apply to a PDF,
        zoom to both, the system viewer to any document."""
        pdf = mode == "pdf"
        for w in (self.prev_button, self.next_button, self.page_box, self.fit_button):
            w.setVisible(pdf)
        self.zoom_label.setVisible(pdf)
        for w in (self.zoom_in_button, self.zoom_out_button):
            w.setVisible(mode is not None)
        self.system_button.setEnabled(has_document)

    def set_count(self, count: int) -> None:
        """A PDF of `count` pages is open (the page box changes without a signal)."""
        self.page_box.blockSignals(True)
        self.page_box.setRange(1, count)
        self.page_box.setSuffix(f" of {count}")
        self.page_box.blockSignals(False)

    def show_position(self, index: int, count: int, zoom: float) -> None:
        """Page `index` (0-based) of `count` is shown at `zoom` (the page box changes
        without a signal)."""
        self.page_box.blockSignals(True)
        self.page_box.setValue(index + 1)
        self.page_box.blockSignals(False)
        self.prev_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < count - 1)
        self.zoom_label.setText(f"{round(zoom * 100)} %")
