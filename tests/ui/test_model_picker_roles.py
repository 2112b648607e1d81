"""The chat model picker never offers an embedding or reranking model, even when the
Models page's listing (which shows them all) refreshes it."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.library.registry import ModelInfo
from app.ui.model_panel import ModelPanel


def test_picker_leaves_out_retrieval_models(qtbot: QtBot) -> None:
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.set_models(
        [
            ModelInfo("chatty", Path("chatty.gguf"), 1, "models folder"),
            ModelInfo("tiny-embed", Path("tiny-embed.gguf"), 1, "models folder", role="embedder"),
            ModelInfo("tiny-rank", Path("tiny-rank.gguf"), 1, "models folder", role="reranker"),
        ]
    )
    assert panel.names() == ["chatty"]
