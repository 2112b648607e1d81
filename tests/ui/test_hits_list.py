"""The Documents page's hits: a deep section path shows its most specific level."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.citation import Citation
from app.ui.pages.documents_views import HitsList


def test_a_hit_shows_its_section_last_level_and_the_whole_path_on_hover(qtbot: QtBot) -> None:
    hits = HitsList()
    qtbot.addWidget(hits)
    deep = "7) List of Supported Options › 7.2) Dither Algorithm"
    hits.show_hits(
        [
            Citation("/m/manual.pdf", 53, 53, deep, "EvenTone is a newer algorithm."),
            Citation("/m/notes.md", None, None, "Tea", "Green tea at 80 degrees."),
            Citation("/m/plain.txt", None, None, "", "No heading here."),
        ]
    )
    shown = [hits.topLevelItem(i) for i in range(3)]
    assert [item.text(2) for item in shown if item is not None] == [
        "… › 7.2) Dither Algorithm", "Tea", "",
    ]  # fmt: skip
    first = shown[0]
    assert first is not None and first.toolTip(2) == deep
