"""Titles told by type size against the PDF's own outline, printed as JSON:
`python -m tests.bench.bench_pdf_titles [--set dev|pdf|pdf2|eval] [--bold-numbered on|off]
[FILE.pdf ...]`.

For each PDF with an outline: the titles `app.rag.loaders.typeset` finds when the outline
is not read, how many of them match an outline item (precision) and how many outline
items they find (recall), words compared without case or punctuation, a title matching
an item when one ends with the other ("Chapter 3 Expressions" and "Expressions"); the
passages they name; the CPU of reading and chunking the file with and without them. No
embedding, no search: what the detector sees, not what retrieval makes of it.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

import pypdfium2  # type: ignore[import-untyped]

from app.rag.chunker import Chunker
from app.rag.loaders import outline, typeset
from app.rag.loaders.pdf import load_pdf
from tests.bench.bench_rag_eval import QUESTION_SETS, load_questions


def words(title: str) -> str:
    return " ".join(re.findall(r"\w+", title.lower()))


def matches(a: str, b: str) -> bool:
    return bool(a and b) and (a == b or a.endswith(" " + b) or b.endswith(" " + a))


def measure(path: Path) -> dict[str, Any]:
    doc = pypdfium2.PdfDocument(str(path))
    items = {words(b.get_title() or "") for b in doc.get_toc()} - {""}
    pages = len(doc)
    doc.close()
    found: list[str] = []
    keep = typeset.TypeSizes.titles

    def spy(self: typeset.TypeSizes, lines: list[typeset.Line]) -> list[outline.Item]:
        titles = keep(self, lines)
        found.extend(title for _, title in titles)
        return titles

    shipped = outline.PDF_OUTLINE, typeset.TYPESET_HEADINGS
    outline.PDF_OUTLINE = False
    cpu: dict[bool, float] = {}
    try:
        for on in (False, True):
            typeset.TYPESET_HEADINGS = on
            typeset.TypeSizes.titles = spy if on else keep  # type: ignore[method-assign]
            start = time.process_time()
            with path.open("rb") as data:
                chunks = list(Chunker().chunks(load_pdf(data, path.name)))
            cpu[on] = time.process_time() - start
    finally:
        typeset.TypeSizes.titles = keep  # type: ignore[method-assign]
        outline.PDF_OUTLINE, typeset.TYPESET_HEADINGS = shipped
    told = [words(t) for t in found]
    right = sum(1 for t in told if any(matches(t, i) for i in items))
    recalled = sum(1 for i in items if any(matches(t, i) for t in told))
    return {
        "file": path.name,
        "pages": pages,
        "outline_items": len(items),
        "titles": len(found),
        "titles_matching_an_item": right,
        "items_found": recalled,
        "passages": len(chunks),
        "passages_named": sum(1 for c in chunks if c.outline),
        "cpu_s_without": round(cpu[False], 2),
        "cpu_s_with": round(cpu[True], 2),
        "first_titles": found[:8],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=sorted(QUESTION_SETS), help="a set's PDF documents")
    parser.add_argument(
        "--bold-numbered",
        choices=("on", "off"),
        default="on" if typeset.BOLD_NUMBERED else "off",
        help="whether numbered bold lines at the body's size are titles (default: as shipped)",
    )
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    typeset.BOLD_NUMBERED = args.bold_numbered == "on"
    files = list(args.files)
    if args.set:
        files += [d for d in load_questions(QUESTION_SETS[args.set])[0] if d.suffix == ".pdf"]
    rows = [measure(f) for f in files]
    total = {k: sum(r[k] for r in rows) for k in ("titles", "titles_matching_an_item")}
    total |= {k: sum(r[k] for r in rows) for k in ("outline_items", "items_found")}
    out = {"bold_numbered": typeset.BOLD_NUMBERED, "files": rows, "all": total}
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
