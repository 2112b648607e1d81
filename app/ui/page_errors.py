"""Each page says what went wrong on it, on it.

`attach_error_bar` puts an `ErrorBar` at the top of a page and shows there every message
of the page's `error` signal. The message stays until the person dismisses it or the page
does something that resolves it (the `resolved` signals: a later success of the same
kind); it never appears on another page, nor in the status bar where it would fade.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QBoxLayout, QSizePolicy, QWidget

from app.ui.widgets import ErrorBar


def attach_error_bar(page: QWidget, error: Any, resolved: list[Any]) -> ErrorBar:
    """An error bar at the top of `page` for its `error` signal; each of the `resolved`
    signals dismisses it."""
    layout = page.layout()
    assert isinstance(layout, QBoxLayout)
    bar = ErrorBar(page)
    # As tall as its message, never a share of the page's height.
    bar.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
    layout.insertWidget(0, bar)
    error.connect(bar.show_message)
    for signal in resolved:
        signal.connect(lambda *_args: bar.dismiss())
    return bar
