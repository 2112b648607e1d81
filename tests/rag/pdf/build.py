"""Build the PDF-manuals development set's documents from installed Debian packages.

python -m tests.rag.pdf.build FOLDER   (prints the files it made)

English manuals printed to PDF, none written by anyone on the project and nothing
committed, each with an outline (bookmarks) and a real text layer, each made by another
tool; every file is copied as it is:

- GNU Libtasn1's library reference (`libtasn1-doc`, `libtasn1.pdf`): texinfo through
  pdfTeX, 36 pages, an outline of 21 items two levels deep (chapters and sections; the
  function reference has one entry per function in the text but none in the outline);
- the Auto Multiple Choice user guide (`auto-multiple-choice-doc-pdf`,
  `auto-multiple-choice.en.pdf`): DocBook through dblatex and xdvipdfmx, 101 pages, an
  outline of 173 items up to five levels deep;
- the ReportLab PDF library user guide (`python-reportlab-doc`,
  `reportlab-userguide.pdf`): made by ReportLab itself, 134 pages, an outline of 104
  items, chapters and their numbered sections;
- the Why3 manual (`why3-doc-pdf`, `manual.pdf`): Sphinx's LaTeX through pdfTeX, 184
  pages, an outline of 195 items up to four levels deep;
- the FreeFEM user manual (`freefem-doc`, `freefem.pdf`): LaTeX through pdfTeX, 50
  pages, an outline of 55 items up to three levels deep.

They come with `apt-get install --no-install-recommends libtasn1-doc
auto-multiple-choice-doc-pdf python-reportlab-doc why3-doc-pdf freefem-doc`. The build
is deterministic for a given package version; `questions.toml` names the files by the
names given here.
"""

from __future__ import annotations

import gzip
import shutil
import sys
from pathlib import Path

from tests.rag.dev2.build import MissingSourceError

DOC = Path("/usr/share/doc")
# (file made, installed PDF, Debian package)
MANUALS: list[tuple[str, Path, str]] = [
    ("libtasn1.pdf", DOC / "libtasn1-doc/libtasn1.pdf", "libtasn1-doc"),
    (
        "auto-multiple-choice.pdf",
        DOC / "auto-multiple-choice/auto-multiple-choice.en.pdf",
        "auto-multiple-choice-doc-pdf",
    ),
    (
        "reportlab-userguide.pdf",
        DOC / "python-reportlab-doc/reportlab-userguide.pdf",
        "python-reportlab-doc",
    ),
    ("why3-manual.pdf", DOC / "why3-doc-pdf/manual.pdf", "why3-doc-pdf"),
    ("freefem.pdf", DOC / "freefem-doc/freefem.pdf", "freefem-doc"),
]


def build(folder: Path) -> list[Path]:
    """Copy every document of the set into `folder` (kept if already there); return them."""
    folder.mkdir(parents=True, exist_ok=True)
    return [copy_manual(source, folder / name, package) for name, source, package in MANUALS]


def copy_manual(source: Path, target: Path, package: str) -> Path:
    """`source` as `target` (unpacked if Debian ships it gzipped), unless already there."""
    if target.exists():
        return target
    if not source.exists():
        raise MissingSourceError(f"{source} is missing: install the Debian package {package}")
    partial = target.with_name(target.name + ".part")
    if source.suffix == ".gz":
        with gzip.open(source, "rb") as packed, partial.open("wb") as out:
            shutil.copyfileobj(packed, out)
    else:
        shutil.copyfile(source, partial)
    partial.replace(target)
    return target


if __name__ == "__main__":
    for path in build(Path(sys.argv[1])):
        print(path)
