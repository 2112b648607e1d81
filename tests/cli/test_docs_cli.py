"""`carrel docs|search|ask` with --json, through the same argparse wiring as `carrel`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.runners import cli


def run(*argv: str) -> tuple[int, object]:
    """(exit status, the printed JSON) of `carrel ARGV --json`; the error line when
    nothing was printed."""
    code, out, err = cli(*argv)
    return code, json.loads(out) if out.strip() else err


@pytest.mark.slow
def test_docs_search_ask_json(corpus: Path, smollm_path: Path) -> None:
    code, added = run("docs", "add", str(corpus), "--collection", "k", "--json")
    assert code == 0 and isinstance(added, dict) and added["indexed"] == 8
    code, cols = run("docs", "list", "--json")
    assert cols == [
        {"name": "k", "embedder": "sentence-transformers/all-MiniLM-L6-v2", "files": 8,
         "chunks": added["chunks"]}
    ]  # fmt: skip
    code, files = run("docs", "list", "--collection", "k", "--json")
    assert isinstance(files, list) and {f["status"] for f in files} == {"indexed"}
    code, hits = run("search", "derailleur chain", "--collection", "k", "--k", "2", "--json")
    assert isinstance(hits, list) and len(hits) == 2
    assert set(hits[0]) == {"source", "page", "page_end", "heading", "score", "text"}
    assert hits[0]["source"].endswith("page.html") and hits[0]["heading"] == "Bicycles › Gears"
    code, answer = run(
        "ask", "What reaches 4167 metres?", "--collection", "k",
        "--model", str(smollm_path), "--json",
    )  # fmt: skip
    assert code == 0 and isinstance(answer, dict)
    assert answer["model"] and isinstance(answer["answer"], str)
    assert answer["citations"][0]["n"] == 1
    assert set(answer["citations"][0]) >= {"n", "source", "page", "text"}
    # The markers as the source list's numbers (app.markers), and what the model wrote.
    assert {"answer_as_written", "markers", "cited", "unknown_markers", "links"} <= set(answer)
    assert all(m["text"].startswith("[") for m in answer["markers"])
    assert set(answer["cited"]) <= {c["n"] for c in answer["citations"]}
    code, removed = run("docs", "remove", str(corpus / "page.html"), "--collection", "k", "--json")
    assert removed == {"removed": True, "path": str(corpus / "page.html")}
    code, hits = run("search", "derailleur", "--collection", "k", "--json")
    assert isinstance(hits, list) and all(not h["source"].endswith("page.html") for h in hits)


def test_unknown_collection_is_one_line_and_status_1() -> None:
    code, err = run("docs", "list", "--collection", "nope", "--json")
    assert code == 1 and isinstance(err, str)
    assert err.startswith("carrel: No collection called 'nope'") and err.count("\n") == 1


def test_add_says_not_found_and_fails_when_a_file_failed(tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text("# Kites\n\nA kite flies on a string.\n")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    never = tmp_path / "never-made.pdf"
    code, report = run("docs", "add", str(good), str(never), "--collection", "k", "--json")
    assert code == 1 and isinstance(report, dict)  # a file failed: the status says so
    by_name = {Path(f["source"]).name: f for f in report["files"]}
    assert by_name["never-made.pdf"]["status"] == "failed"
    assert by_name["never-made.pdf"]["reason"] == f"'{never}' not found."
    assert by_name["good.md"]["status"] == "indexed"
    # A failed file stays failed until it indexes: added again, it is read again.
    run("docs", "add", str(empty), "--collection", "k", "--json")
    code, again = run("docs", "add", str(empty), "--collection", "k", "--json")
    assert code == 1 and isinstance(again, dict)
    assert (again["failed"], again["unchanged"]) == (1, 0)
    empty.write_text("Now it holds a line about kites.")
    code, fixed = run("docs", "add", str(empty), "--collection", "k", "--json")
    assert code == 0 and isinstance(fixed, dict) and fixed["indexed"] == 1
