"""The Documents page: a collection's reranker and embedder picked like a person does,
and both scores shown beside each hit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.citation import Citation
from app.rag.embedder import SentenceEmbedder
from app.ui.pages.documents import DocumentsPage
from app.workbench import Workbench
from tests.support.tinymodels import bert_to_gguf, save_tiny_bert

TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    e = SentenceEmbedder()
    e.load()
    return e


@pytest.fixture
def page(qtbot: QtBot, carrel_home: Path, embedder: SentenceEmbedder) -> Iterator[DocumentsPage]:
    wb = Workbench.open()
    wb.documents.embedder = embedder
    p = DocumentsPage(wb)
    qtbot.addWidget(p)
    p.show()
    yield p
    p.shutdown()
    wb.close()


def test_pick_reranker_and_embedder(
    qtbot: QtBot,
    page: DocumentsPage,
    corpus: Path,
    tmp_path: Path,
) -> None:
    models = page.wb.paths.models_dir
    models.mkdir(parents=True, exist_ok=True)
    bert_to_gguf(save_tiny_bert(tmp_path / "rr", classifier=True), models / "rank.gguf", "rank")
    bert_to_gguf(save_tiny_bert(tmp_path / "emb"), models / "embed.gguf", "mean")
    with qtbot.waitSignal(page.collections_changed, timeout=TIMEOUT_MS):
        page.create_collection("k")
    with qtbot.waitSignal(page.ingest_finished, timeout=TIMEOUT_MS):
        page.add_paths([corpus])
    choice = page.choice
    assert choice.embedder.currentText() == "sentence-transformers/all-MiniLM-L6-v2"
    assert choice.reranker.currentText() == "(none)"

    # Choosing a reranker: every hit then shows the search's score and the reranker's.
    index = choice.reranker.findText("rank.gguf")
    with qtbot.waitSignal(choice.changed, timeout=TIMEOUT_MS):
        choice.reranker.setCurrentIndex(index)
        choice.reranker.activated.emit(index)
        assert choice.status.text().startswith("Preparing rank.gguf")
    assert choice.status.text() == "Searches re-ranked by rank.gguf."
    with qtbot.waitSignal(page.searched, timeout=TIMEOUT_MS) as searched:
        page.search("Toubkal summit")
    hits: list[Citation] = searched.args[0]
    assert all(h.rerank is not None for h in hits)
    first = page.hits.topLevelItem(0)
    assert first is not None and " · " in first.text(4)

    # Choosing an embedder re-embeds the collection in a worker; then it is recorded.
    index = choice.embedder.findText("embed.gguf")
    with qtbot.waitSignal(choice.changed, timeout=TIMEOUT_MS):
        choice.embedder.setCurrentIndex(index)
        choice.embedder.activated.emit(index)
    record = page.documents.records.collection("k")
    assert record is not None and (record.embedder, record.dim) == ("embed.gguf", 32)
    assert "embedded with embed.gguf" in choice.status.text()


def test_a_reranker_that_cannot_run_is_refused_when_picked(
    qtbot: QtBot, page: DocumentsPage, corpus: Path, tmp_path: Path
) -> None:
    """A cross-encoder whose weights are damaged: picking it says why on the status line,
    and the collection keeps searching without a reranker (the picker shows that again)."""
    from app.library.retrieval import snapshot_folder
    from tests.support.tinymodels import save_tiny_cross_encoder

    folder = snapshot_folder(page.wb.paths.models_dir, "test/damaged-reranker")
    save_tiny_cross_encoder(folder)
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    with qtbot.waitSignal(page.collections_changed, timeout=TIMEOUT_MS):
        page.create_collection("d")
    with qtbot.waitSignal(page.ingest_finished, timeout=TIMEOUT_MS):
        page.add_paths([corpus])
    choice = page.choice
    index = choice.reranker.findText("test/damaged-reranker")
    assert index >= 0
    with qtbot.waitSignal(choice.reranker_chosen, timeout=TIMEOUT_MS):
        choice.reranker.setCurrentIndex(index)
        choice.reranker.activated.emit(index)
    qtbot.waitUntil(lambda: "Preparing" not in choice.status.text(), timeout=TIMEOUT_MS)
    said = choice.status.text()
    assert said.startswith("The reranker test/damaged-reranker cannot be loaded from"), said
    assert said.endswith("download or import it again.")
    assert choice.reranker.currentText() == "(none)"
    record = page.documents.records.collection("d")
    assert record is not None and record.reranker == ""
