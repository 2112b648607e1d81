"""Build the second development set's documents from installed Debian packages.

python -m tests.rag.dev2.build FOLDER   (prints the files it made)

Nothing here was written by anyone on the project, and nothing is committed: every file is
made from what the Debian packages in `.ci/run` install (git-doc, sqlite3-doc,
asymptote-doc, distro-info-data, pandoc), each in a different form a person meets:

- long one-file-per-chapter HTML pages (the Git user manual, SQLite's language pages);
- a scanned PDF: pages of the Asymptote manual rendered to images and put into a PDF with
  no text layer, so Carrel's OCR path (Tesseract) has to read it;
- e-mail: Git's "howto" notes, which are messages from its mailing list with their
  headers, saved as .eml;
- CSV: Debian's and Ubuntu's release tables;
- office documents: pages of the Git and SQLite documentation converted to DOCX by pandoc.

The build is deterministic for a given package version; `questions.toml` names the files
by the names given here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

GIT = Path("/usr/share/doc/git-doc")
SQLITE = Path("/usr/share/doc/sqlite3")
ASYMPTOTE = Path("/usr/share/doc/asymptote/asymptote.pdf")
DISTRO_INFO = Path("/usr/share/distro-info")

HTML = [
    GIT / "user-manual.html",
    SQLITE / "datatype3.html",
    SQLITE / "pragma.html",
    SQLITE / "windowfunctions.html",
    SQLITE / "queryplanner.html",
]
# Pages of the Asymptote manual that become the scanned PDF (1-based, physical).
SCANNED_PAGES = range(9, 21)
SCAN_NAME = "asymptote-scanned.pdf"
SCAN_SCALE = 2.0  # 144 dpi, about what an office scanner makes
MAIL = [
    "revert-a-faulty-merge",
    "maintain-git",
    "rebase-from-internal-branch",
    "recover-corrupted-blob-object",
    "recover-corrupted-object-harder",
    "separating-topic-branches",
    "keep-canonical-history-correct",
    "revert-branch-rebase",
    "rebuild-from-update-hook",
    "update-hook-example",
    "using-signed-tag-in-pull-request",
]
CSV = [DISTRO_INFO / "debian.csv", DISTRO_INFO / "ubuntu.csv"]
DOCX = {
    "gitworkflows.docx": GIT / "gitworkflows.html",
    "sqlite-locking.docx": SQLITE / "lockingv3.html",
    "sqlite-when-to-use.docx": SQLITE / "whentouse.html",
}


class MissingSourceError(RuntimeError):
    """A Debian package the set is made from is not installed."""


def build(folder: Path) -> list[Path]:
    """Make every document of the set in `folder` (kept if already there); return them."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for source in HTML:
        made.append(_copy(source, folder / _html_name(source)))
    made.append(_scanned(folder / SCAN_NAME))
    for name in MAIL:
        made.append(_mail(GIT / "howto" / f"{name}.txt", folder / f"{name}.eml"))
    for source in CSV:
        made.append(_copy(source, folder / f"{source.stem}-releases.csv"))
    for name, source in DOCX.items():
        made.append(_docx(source, folder / name))
    return made


def _need(source: Path) -> Path:
    if not source.exists():
        raise MissingSourceError(f"{source} is missing: install the Debian packages in .ci/run")
    return source


def _html_name(source: Path) -> str:
    return ("git-" if source.parent == GIT else "sqlite-") + source.name


def _copy(source: Path, target: Path) -> Path:
    if not target.exists():
        shutil.copyfile(_need(source), target)
    return target


def _scanned(target: Path) -> Path:
    """Pages rendered to grey images and placed, one per page, in a PDF with no text."""
    if target.exists():
        return target
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(str(_need(ASYMPTOTE)))
    out = pdfium.PdfDocument.new()
    for number in SCANNED_PAGES:
        page = src[number - 1]
        width, height = page.get_size()
        bitmap = page.render(scale=SCAN_SCALE, grayscale=True)
        new = out.new_page(width, height)
        image = pdfium.PdfImage.new(out)
        image.set_bitmap(bitmap)
        image.set_matrix(pdfium.PdfMatrix().scale(width, height))
        new.insert_obj(image)
        new.gen_content()
    partial = target.with_suffix(".part")
    out.save(str(partial))
    partial.replace(target)
    return target


def _mail(source: Path, target: Path) -> Path:
    """A howto note as the message it was: its headers, then a plain-text body."""
    if target.exists():
        return target
    head, _, body = _need(source).read_text(encoding="utf-8").partition("\n\n")
    headers = [h for h in head.splitlines() if not h.lower().startswith("content-type")]
    if not any(h.startswith("Subject:") for h in headers):
        raise MissingSourceError(f"{source} does not start with mail headers")
    headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    target.write_text("\n".join(headers) + "\n\n" + body, encoding="utf-8")
    return target


def _docx(source: Path, target: Path) -> Path:
    if target.exists():
        return target
    pandoc = shutil.which("pandoc")
    if pandoc is None:
        raise MissingSourceError("pandoc is missing: install the Debian packages in .ci/run")
    partial = target.with_name(target.stem + ".part.docx")
    subprocess.run(
        [pandoc, "-f", "html", "-t", "docx", "-o", str(partial), str(_need(source))],
        check=True,
        capture_output=True,
    )
    partial.replace(target)
    return target


if __name__ == "__main__":
    for path in build(Path(sys.argv[1])):
        print(path)
