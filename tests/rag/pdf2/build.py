"""Build the second PDF-manuals development set's documents from installed Debian packages.

python -m tests.rag.pdf2.build FOLDER   (prints the files it made)

English manuals printed to PDF, none written by anyone on the project and nothing
committed, each with an outline (bookmarks) and a real text layer, each made by another
tool; every file is copied as it is (the three that Debian ships gzipped are unpacked,
byte for byte the PDF inside):

- the GNU MathProg modeling language reference (`glpk-doc`,
  `/usr/share/doc/glpk-doc/gmpl.pdf`): LaTeX through dvipdfmx, 74 pages, an outline of
  100 items three levels deep;
- the GNU MPFR library manual (`libmpfr-doc`, `/usr/share/doc/libmpfr-doc/mpfr.pdf.gz`):
  texinfo through pdfTeX, 74 pages, an outline of 52 items three levels deep (the
  function reference has one entry per function in the text but none in the outline);
- the Prawn manual (`ruby-prawn-doc`, `/usr/share/doc/ruby-prawn/manual.pdf.gz`): made by
  Prawn itself from its Ruby examples, 111 pages, an outline of 113 items three levels
  deep;
- the Biber manual (`biber`, `/usr/share/doc/biber/biber.pdf`): LaTeX through LuaTeX, 57
  pages, an outline of 53 items three levels deep;
- the SDCC compiler user guide (`sdcc-doc`, `/usr/share/doc/sdcc-doc/sdccman.pdf.gz`):
  LyX's LaTeX through pdfTeX, 134 pages, an outline of 291 items four levels deep.

They come with `apt-get install --no-install-recommends glpk-doc libmpfr-doc
ruby-prawn-doc biber sdcc-doc`. The build is deterministic for a given package version;
`questions.toml` names the files by the names given here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.rag.pdf.build import copy_manual

DOC = Path("/usr/share/doc")
# (file made, installed PDF, Debian package)
MANUALS: list[tuple[str, Path, str]] = [
    ("gmpl.pdf", DOC / "glpk-doc/gmpl.pdf", "glpk-doc"),
    ("mpfr.pdf", DOC / "libmpfr-doc/mpfr.pdf.gz", "libmpfr-doc"),
    ("prawn-manual.pdf", DOC / "ruby-prawn/manual.pdf.gz", "ruby-prawn-doc"),
    ("biber.pdf", DOC / "biber/biber.pdf", "biber"),
    ("sdccman.pdf", DOC / "sdcc-doc/sdccman.pdf.gz", "sdcc-doc"),
]


def build(folder: Path) -> list[Path]:
    """Copy every document of the set into `folder` (kept if already there); return them."""
    folder.mkdir(parents=True, exist_ok=True)
    return [copy_manual(source, folder / name, package) for name, source, package in MANUALS]


if __name__ == "__main__":
    for path in build(Path(sys.argv[1])):
        print(path)
