"""Embedding and reranking GGUFs sit in the same models folder as chat models, but only
chat models are offered for chat: listed, picked in the window, or loaded by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.errors import CarrelError
from app.library.gguf import read_header
from app.library.registry import role_of
from app.workbench import Workbench
from tests.support.tinymodels import bert_to_gguf, save_tiny_bert


@pytest.fixture(scope="module")
def retrieval_ggufs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("retrieval-gguf")
    return [
        bert_to_gguf(save_tiny_bert(root / "emb"), root / "tiny-embed.gguf", "mean"),
        bert_to_gguf(save_tiny_bert(root / "cls"), root / "tiny-cls.gguf", "cls"),
        bert_to_gguf(save_tiny_bert(root / "rr", classifier=True), root / "tiny-rank.gguf", "rank"),
    ]


def test_roles_read_from_the_header(retrieval_ggufs: list[Path], smollm_path: Path) -> None:
    roles = [role_of(read_header(p)) for p in retrieval_ggufs]
    assert roles == ["embedder", "embedder", "reranker"]
    assert role_of(read_header(smollm_path)) == "chat"


def test_retrieval_models_are_not_offered_for_chat(
    workbench: Workbench, retrieval_ggufs: list[Path], smollm_path: Path
) -> None:
    models = workbench.paths.models_dir
    models.mkdir(parents=True, exist_ok=True)
    for path in retrieval_ggufs:
        shutil.copyfile(path, models / path.name)
    shutil.copyfile(smollm_path, models / "chatty.gguf")

    listed = {m.name: m.role for m in workbench.registry.list()}
    assert listed["tiny-embed"] == "embedder" and listed["tiny-rank"] == "reranker"
    chat = [m.name for m in workbench.models()]
    assert "chatty" in chat
    assert not {"tiny-embed", "tiny-cls", "tiny-rank"} & set(chat)
    with pytest.raises(CarrelError, match="is a reranking model, not a chat model"):
        workbench.load_model("tiny-rank")
    with pytest.raises(CarrelError, match="is an embedding model, not a chat model"):
        workbench.load_model(str(models / "tiny-embed.gguf"))
    assert workbench.loaded_model is None
