"""`RouteBox`: where the current conversation's replies come from (on-device only, local
first, remote first) and which remote endpoint it may use."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QSizePolicy, QWidget

from app.engine.router import Route
from app.privacy.policy import RemoteEndpoint

ROUTES = [
    (Route.LOCAL_ONLY, "On-device only", "Only the model on this machine answers."),
    (
        Route.LOCAL_FIRST,
        "Local first",
        "The model on this machine answers; the remote one when it fails or you ask it.",
    ),
    (
        Route.REMOTE_FIRST,
        "Remote first",
        "The remote model answers; the one on this machine when the remote fails.",
    ),
]
NO_ENDPOINT = "No endpoint switched on (see Settings)"


class RouteBox(QGroupBox):
    """The route and remote endpoint of the current conversation, as the person picks them.

    Signals: `changed()` after the person picks a route or an endpoint, never while
    `set_values` or `set_endpoints` fill the box.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Where replies come from", parent)
        self._filling = False
        self._wanted = ""
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.route = QComboBox(self)
        for route, label, tip in ROUTES:
            self.route.addItem(label, str(route))
            self.route.setItemData(self.route.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.endpoint = QComboBox(self)
        self.endpoint.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.endpoint.setMinimumContentsLength(12)
        # Narrow enough for the side panel at 1000 pixels wide (a combo asks for its
        # longest label); the full labels show when it opens.
        for combo in (self.route, self.endpoint):
            combo.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            combo.setMinimumWidth(120)
        self.note = QLabel("", self)
        self.note.setWordWrap(True)
        self.note.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # grey, either theme
        form.addRow("Route", self.route)
        form.addRow("Remote", self.endpoint)
        form.addRow(self.note)
        self.route.activated.connect(self._edited)
        self.endpoint.activated.connect(self._edited)
        self.set_endpoints([])

    def _edited(self, _index: int = 0) -> None:
        if self._filling:
            return
        self._wanted = str(self.endpoint.currentData() or self._wanted)
        self._update()
        self.changed.emit()

    def _update(self) -> None:
        local = self.current_route() == Route.LOCAL_ONLY
        has = self.endpoint.currentData() is not None
        self.endpoint.setEnabled(not local and has)
        if local:
            self.note.setText("Nothing leaves this device.")
        elif not has:
            self.note.setText("Switch on a remote endpoint in Settings to use this route.")
        else:
            self.note.setText("You will see each request, and approve it, before it leaves.")

    def current_route(self) -> Route:
        return Route(str(self.route.currentData() or Route.LOCAL_ONLY))

    def set_endpoints(self, endpoints: list[RemoteEndpoint]) -> None:
        """List the endpoints that are switched on; keeps the conversation's choice."""
        self._filling = True
        try:
            self.endpoint.clear()
            for e in endpoints:
                if e.enabled:
                    self.endpoint.addItem(f"{e.name} ({e.kind})", e.name)
            if self.endpoint.count() == 0:
                self.endpoint.setPlaceholderText(NO_ENDPOINT)
                self.endpoint.setCurrentIndex(-1)
            else:
                index = self.endpoint.findData(self._wanted) if self._wanted else 0
                self.endpoint.setCurrentIndex(max(index, 0))
        finally:
            self._filling = False
        self._update()

    def set_values(self, params: dict[str, Any]) -> None:
        """Show a conversation's route and endpoint (from its params)."""
        self._filling = True
        try:
            route = str(params.get("route", Route.LOCAL_ONLY))
            self.route.setCurrentIndex(max(self.route.findData(route), 0))
            self._wanted = str(params.get("remote", ""))
            if self._wanted:
                index = self.endpoint.findData(self._wanted)
                if index >= 0:
                    self.endpoint.setCurrentIndex(index)
        finally:
            self._filling = False
        self._update()

    def values(self) -> dict[str, Any]:
        """What goes into the conversation's params."""
        chosen = self.endpoint.currentData()
        return {"route": str(self.current_route()), "remote": str(chosen or self._wanted)}
