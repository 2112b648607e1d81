"""The lines an ingest shows, the same in the window and the terminal."""

from __future__ import annotations

from app.rag.outcome import FileOutcome, IngestProgress, IngestReport


def test_progress_line_says_when_the_search_index_is_built() -> None:
    """An ingest that waits for an HNSW step says so instead of showing a stalled file."""
    waiting = IngestProgress(files_done=3, files_total=10, current="/d/a.pdf", event="indexing")
    assert waiting.describe().endswith("building the search index")
    assert "a.pdf" not in waiting.describe()
    working = IngestProgress(files_done=3, files_total=10, current="/d/a.pdf", event="batch")
    assert working.describe().endswith("a.pdf")


def test_progress_line_says_what_it_waits_for() -> None:
    line = IngestProgress(files_total=4, event="waiting", note="waiting for pid 7").describe()
    assert line == "0/4 files · 0 chunks · waiting for pid 7"


def test_report_lines() -> None:
    report = IngestReport(
        [
            FileOutcome("/d/a.pdf", "indexed", pages=3, chunks=12),
            FileOutcome("/d/b.pdf", "failed", "'b.pdf' not found."),
            FileOutcome("/d/c.pdf", "needs_ocr"),
        ],
        seconds=3.24,
    )
    assert report.failed
    assert report.describe() == (
        "1 indexed, 0 skipped (unchanged), 1 failed, 1 need OCR, 0 removed in 3.2 s."
    )
    assert [f.describe() for f in report.files] == [
        "indexed   /d/a.pdf  (3 pages, 12 chunks)",
        "failed    /d/b.pdf  'b.pdf' not found.",
        "needs OCR /d/c.pdf",
    ]
