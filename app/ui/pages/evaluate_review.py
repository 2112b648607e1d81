"""`ReviewPanel`: blind side-by-side review, driven by the keyboard.

It shows a question and two answers labelled only A and B. Which contestant wrote which
is kept by the core's `Reviews` (a plain Python object, not a widget or a property), so
no name is anywhere in the widget tree before the vote. Keys: A, B, T (tie), N (both
bad); after a vote the panel says who was who, and Space (or Enter) shows the next pair.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from app.evaluate.review import Pair, Reviews, Verdict

KEYS = {Qt.Key.Key_A: "A", Qt.Key.Key_B: "B", Qt.Key.Key_T: "tie", Qt.Key.Key_N: "both-bad"}
HELP = "A or B: the better answer · T: tie · N: both bad"


class ReviewPanel(QWidget):
    """Shows one anonymous pair at a time and records the person's verdict.

    Signals: `voted(object)` with the `Verdict` (naming the contestants, now that the vote
    is in); `done()` when every pair has a verdict.
    """

    voted = Signal(object)
    done = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._reviews: Reviews | None = None
        self._pair: Pair | None = None
        self._revealed = False
        self.question = QLabel(self)
        self.question.setWordWrap(True)
        self.answer_a = QPlainTextEdit(self)
        self.answer_b = QPlainTextEdit(self)
        for box in (self.answer_a, self.answer_b):
            box.setReadOnly(True)
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.label_a, self.label_b = QLabel("Answer A", self), QLabel("Answer B", self)
        self.status = QLabel("Choose a run and press Review.", self)
        sides = QHBoxLayout()
        for label, box in ((self.label_a, self.answer_a), (self.label_b, self.answer_b)):
            column = QVBoxLayout()
            column.addWidget(label)
            column.addWidget(box)
            sides.addLayout(column)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addLayout(sides, 1)
        layout.addWidget(self.status)

    def start(self, reviews: Reviews) -> None:
        """Review the pairs of `reviews` from the first not yet judged."""
        self._reviews = reviews
        self.show_next()
        self.setFocus()

    @property
    def pair(self) -> Pair | None:
        return self._pair

    def show_next(self) -> None:
        self._revealed = False
        pair = self._reviews.next_pair() if self._reviews is not None else None
        self._pair = pair
        if pair is None:
            self.question.setText("Every pair has a verdict.")
            self.answer_a.clear()
            self.answer_b.clear()
            self.status.setText("")
            self.done.emit()
            return
        self.question.setText(pair.question)
        self.answer_a.setPlainText(pair.answer_a)
        self.answer_b.setPlainText(pair.answer_b)
        left = self._reviews.remaining if self._reviews is not None else 0
        self.status.setText(f"{HELP} · {left} more after this one")

    def vote(self, verdict: str) -> Verdict | None:
        if self._reviews is None or self._pair is None or self._revealed:
            return None
        v = self._reviews.vote(self._pair.token, verdict)
        self._revealed = True
        self.status.setText(f"A was {v.a}; B was {v.b}. Space: next pair.")
        self.voted.emit(v)
        return v

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        if key in KEYS and not self._revealed:
            self.vote(KEYS[key])
        elif key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._revealed:
            self.show_next()
        else:
            super().keyPressEvent(event)
