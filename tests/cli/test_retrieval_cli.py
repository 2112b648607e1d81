"""`carrel retrieval list|reranker|embedder` and `carrel search --json` with both scores."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from app.cli import docs as docs_cli
from app.cli import retrieval as retrieval_cli
from app.config import Paths
from tests.support.tinymodels import bert_to_gguf, save_tiny_bert


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object]:
    parser = argparse.ArgumentParser(prog="carrel")
    commands = parser.add_subparsers(dest="command")
    docs_cli.register(commands)
    retrieval_cli.register(commands)
    args = parser.parse_args(argv)
    code = args.handler(args)
    out = capsys.readouterr().out
    return code, json.loads(out) if "--json" in argv else out


def test_reranked_search_shows_both_scores(
    capsys: pytest.CaptureFixture[str], corpus: Path, tmp_path: Path
) -> None:
    models = Paths.default().ensure().models_dir
    models.mkdir(parents=True, exist_ok=True)
    bert_to_gguf(save_tiny_bert(tmp_path / "rr", classifier=True), models / "rank.gguf", "rank")
    bert_to_gguf(save_tiny_bert(tmp_path / "emb"), models / "embed.gguf", "mean")
    code, _ = run(capsys, "docs", "add", str(corpus), "--collection", "k", "--json")
    code, listed = run(capsys, "retrieval", "list", "--json")
    assert code == 0 and isinstance(listed, list)
    roles = {m["name"]: m["role"] for m in listed}
    assert roles["rank.gguf"] == "reranker" and roles["embed.gguf"] == "embedder"
    code, out = run(capsys, "retrieval", "reranker", "k", "rank.gguf")
    assert code == 0 and "rank.gguf" in str(out)
    code, hits = run(capsys, "search", "derailleur chain", "--collection", "k", "--json")
    assert isinstance(hits, list) and len(hits) == 10
    assert {"score", "rerank_score"} <= set(hits[0])
    ranked = [h["rerank_score"] for h in hits]
    assert ranked == sorted(ranked, reverse=True)
    code, text = run(capsys, "search", "derailleur", "--collection", "k", "--k", "1")
    assert "reranker" in str(text)
    code, moved = run(capsys, "retrieval", "embedder", "k", "embed.gguf", "--json")
    assert moved == {"collection": "k", "embedder": "embed.gguf"}
    code, cols = run(capsys, "docs", "list", "--json")
    assert isinstance(cols, list) and cols[0]["embedder"] == "embed.gguf"
    shutil.rmtree(tmp_path / "rr")
