"""The person's choice of embedder and reranker: GGUF models run by llama.cpp and
sentence-transformers snapshots, built here with random weights (plumbing, not quality)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.library.retrieval import snapshot_folder
from app.rag import reembed
from app.rag.service import Documents
from tests.support.tinymodels import (
    bert_to_gguf,
    save_tiny_bert,
    save_tiny_cross_encoder,
    save_tiny_embedder,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The small models, built once: GGUF embedder and reranker, ST embedder and reranker."""
    root = tmp_path_factory.mktemp("tiny")
    bert_to_gguf(save_tiny_bert(root / "emb-hf"), root / "tiny-embed.gguf", "mean")
    bert_to_gguf(save_tiny_bert(root / "rr-hf", classifier=True), root / "tiny-rank.gguf", "rank")
    return {
        "gguf-embedder": root / "tiny-embed.gguf",
        "gguf-reranker": root / "tiny-rank.gguf",
        "st-embedder": save_tiny_embedder(root / "st-embedder"),
        "st-reranker": save_tiny_cross_encoder(root / "st-reranker"),
    }


@pytest.fixture
def library(documents: Documents, tiny: dict[str, Path]) -> Iterator[Documents]:
    """`documents` with the small models placed in its model library."""
    import shutil

    models = documents.paths.models_dir
    models.mkdir(parents=True, exist_ok=True)
    for key in ("gguf-embedder", "gguf-reranker"):
        shutil.copyfile(tiny[key], models / tiny[key].name)
    shutil.copytree(tiny["st-embedder"], snapshot_folder(models, "test/tiny-embedder"))
    shutil.copytree(tiny["st-reranker"], snapshot_folder(models, "test/tiny-reranker"))
    yield documents


def test_library_lists_retrieval_models_by_role(library: Documents) -> None:
    found = {m.name: (m.role, m.format) for m in library.models.available()}
    assert found["tiny-embed.gguf"] == ("embedder", "gguf")
    assert found["tiny-rank.gguf"] == ("reranker", "gguf")
    assert found["test/tiny-embedder"] == ("embedder", "sentence-transformers")
    assert found["test/tiny-reranker"] == ("reranker", "sentence-transformers")


@pytest.mark.parametrize("name", ["tiny-embed.gguf", "test/tiny-embedder"])
def test_collection_with_a_chosen_embedder(library: Documents, corpus: Path, name: str) -> None:
    library.index("t", create=True, embedder=name)
    report = library.add([corpus], "t")
    assert report.count("indexed") == 8
    record = library.records.collection("t")
    assert record is not None and (record.embedder, record.dim) == (name, 32)
    hits = library.search("derailleur sprockets", "t", k=3)
    assert hits and all(len(h.text) > 0 for h in hits)


@pytest.mark.parametrize("name", ["tiny-rank.gguf", "test/tiny-reranker"])
def test_reranker_rescores_the_fused_candidates(
    library: Documents, corpus: Path, name: str
) -> None:
    library.add([corpus], "r")
    fused = library.search("Which summit reaches 4167 metres?", "r", k=5)
    assert all(h.rerank is None for h in fused)
    library.set_reranker("r", name)
    hits = library.search("Which summit reaches 4167 metres?", "r", k=5)
    scores = [h.rerank for h in hits]
    assert all(s is not None for s in scores) and scores == sorted(scores, reverse=True)
    assert {"score", "rerank_score"} <= set(hits[0].as_dict())
    library.set_reranker("r", "")
    assert library.search("summit", "r", k=1)[0].rerank is None


def test_a_search_can_choose_its_own_reranker(library: Documents, corpus: Path) -> None:
    """What an evaluation run's contestant does (`rerank=NAME|none`): one search reranked,
    or not, whatever the collection is set to, and the collection left as it was."""
    library.add([corpus], "e")
    question = "Which summit reaches 4167 metres?"
    chosen = library.search(question, "e", k=3, reranker_name="test/tiny-reranker")
    assert all(h.rerank is not None for h in chosen)
    assert all(h.rerank is None for h in library.search(question, "e", k=3))
    library.set_reranker("e", "tiny-rank.gguf")
    assert all(h.rerank is None for h in library.search(question, "e", k=3, reranker_name=""))
    assert all(h.rerank is not None for h in library.search(question, "e", k=3))


def test_change_embedder_serves_the_old_index_until_done(library: Documents, corpus: Path) -> None:
    library.add([corpus], "c")
    count = library.index("c").count()
    halfway, go_on = threading.Event(), threading.Event()
    seen_during: list[str] = []

    def progress(done: int, total: int) -> None:
        halfway.set()
        go_on.wait(60)

    worker = threading.Thread(
        target=lambda: library.change_embedder("c", "tiny-embed.gguf", progress)
    )
    worker.start()
    assert halfway.wait(60)
    # Meanwhile: the old embedder and index answer searches.
    seen_during.extend(h.text for h in library.search("Toubkal summit", "c", k=1))
    record = library.records.collection("c")
    assert record is not None and record.dim == 384
    go_on.set()
    worker.join(60)
    assert seen_during and "4167" in seen_during[0]
    record = library.records.collection("c")
    assert record is not None and (record.embedder, record.dim) == ("tiny-embed.gguf", 32)
    assert library.index("c").count() == count
    assert library.search("macaques", "c", k=3, mode="bm25")[0].source.endswith("atlas.pdf")
    assert not reembed.staging(library.index_root / "c").exists()


def test_cancelled_change_keeps_the_old_index(library: Documents, corpus: Path) -> None:
    library.add([corpus], "k")
    cancel = threading.Event()
    cancel.set()
    assert library.change_embedder("k", "tiny-embed.gguf", cancel=cancel) is False
    record = library.records.collection("k")
    assert record is not None and record.dim == 384
    assert not reembed.staging(library.index_root / "k").exists()
    assert library.search("lighthouse lamp", "k", k=1)


def test_swap_cut_short_is_finished_on_open(library: Documents, corpus: Path) -> None:
    library.add([corpus], "s")
    index = library.index("s")
    folder = library.index_root / "s"
    embedder = library.models.embedder("tiny-embed.gguf")
    assert reembed.build(index, folder, embedder)  # type: ignore[arg-type]
    reembed.mark_ready(folder, {"embedder": embedder.name, "dim": 32, "revision": "",
                                "representation": "late"})  # fmt: skip
    library.close()  # "crash" before the swap
    reopened = Documents(library.paths, library.records.store, library.embedder)
    try:
        assert reopened.index("s").count() > 0
        record = reopened.records.collection("s")
        assert record is not None and record.embedder == "tiny-embed.gguf"
        assert not reembed.staging(folder).exists() and not reembed.retired(folder).exists()
    finally:
        reopened.close()
