"""`carrel docs|search|ask` with --json, through the same argparse wiring as `carrel`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from app.cli import docs as docs_cli


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object]:
    parser = argparse.ArgumentParser(prog="carrel")
    docs_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.handler(args)
    out = capsys.readouterr().out
    return code, json.loads(out) if "--json" in argv else out


@pytest.mark.slow
def test_docs_search_ask_json(
    capsys: pytest.CaptureFixture[str], corpus: Path, smollm_path: Path
) -> None:
    code, added = run(capsys, "docs", "add", str(corpus), "--collection", "k", "--json")
    assert code == 0 and isinstance(added, dict) and added["indexed"] == 8
    code, cols = run(capsys, "docs", "list", "--json")
    assert cols == [
        {"name": "k", "embedder": "sentence-transformers/all-MiniLM-L6-v2", "files": 8,
         "chunks": added["chunks"]}
    ]  # fmt: skip
    code, files = run(capsys, "docs", "list", "--collection", "k", "--json")
    assert isinstance(files, list) and {f["status"] for f in files} == {"indexed"}
    code, hits = run(
        capsys, "search", "derailleur chain", "--collection", "k", "--k", "2", "--json"
    )
    assert isinstance(hits, list) and len(hits) == 2
    assert set(hits[0]) == {"source", "page", "page_end", "heading", "score", "text"}
    assert hits[0]["source"].endswith("page.html") and hits[0]["heading"] == "Bicycles › Gears"
    code, answer = run(
        capsys, "ask", "What reaches 4167 metres?", "--collection", "k",
        "--model", str(smollm_path), "--json",
    )  # fmt: skip
    assert code == 0 and isinstance(answer, dict)
    assert answer["model"] and isinstance(answer["answer"], str)
    assert answer["citations"][0]["n"] == 1
    assert set(answer["citations"][0]) >= {"n", "source", "page", "text"}
    code, removed = run(
        capsys, "docs", "remove", str(corpus / "page.html"), "--collection", "k", "--json"
    )
    assert removed == {"removed": True, "path": str(corpus / "page.html")}
    code, hits = run(capsys, "search", "derailleur", "--collection", "k", "--json")
    assert isinstance(hits, list) and all(not h["source"].endswith("page.html") for h in hits)


def test_unknown_collection_is_a_carrel_error(capsys: pytest.CaptureFixture[str]) -> None:
    from app.errors import CarrelError

    with pytest.raises(CarrelError, match="No collection called 'nope'"):
        run(capsys, "docs", "list", "--collection", "nope", "--json")
