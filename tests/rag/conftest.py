"""Fixtures for the document tests: one embedder per session, a corpus built here."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from app.config import Paths
from app.rag.embedder import SentenceEmbedder
from app.rag.service import Documents
from app.store import Store
from tests.rag.pdfwriter import make_pdf

REAL_HTML = Path("/usr/share/debian-reference/ch01.en.html")  # Debian package debian-reference-en
REAL_PDF = Path("/usr/share/doc/gutenprint-doc/gutenprint-users-manual.pdf")  # gutenprint-doc


@pytest.fixture(scope="session")
def embedder() -> SentenceEmbedder:
    e = SentenceEmbedder()
    e.load()
    return e


@pytest.fixture
def documents(carrel_home: Path, embedder: SentenceEmbedder) -> Iterator[Documents]:
    paths = Paths.under(carrel_home).ensure()
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    yield docs
    docs.close()
    store.close()


def make_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("Tea growing guide", level=1)
    d.add_heading("Soil", level=2)
    d.add_paragraph("Camellia sinensis prefers acidic, well drained soil with a pH near 5.")
    d.add_heading("Harvest", level=2)
    d.add_paragraph("The first flush is plucked in early spring; two leaves and a bud.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Grade"
    table.cell(0, 1).text = "Leaf"
    table.cell(1, 0).text = "FTGFOP"
    table.cell(1, 1).text = "tippy golden"
    d.save(str(path))
    return path


def make_zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            block = b"\0" * (1 << 20)
            for _ in range(300):
                f.write(block)
    return path


def make_eml(path: Path) -> Path:
    msg = EmailMessage()
    msg["From"] = "Ada <ada@example.org>"
    msg["To"] = "Bob <bob@example.org>"
    msg["Subject"] = "Quarterly lighthouse report"
    msg["Date"] = "Mon, 02 Nov 2026 10:00:00 +0000"
    msg.set_content("Bob, the lighthouse lamp was replaced with an LED unit in October.")
    msg.add_attachment(
        make_pdf([["Attachment: the keeper logbook records 41 storms this year."]]),
        maintype="application",
        subtype="pdf",
        filename="logbook.pdf",
    )
    msg.add_attachment(
        b"The fog horn test is scheduled for the second Tuesday.",
        maintype="text",
        subtype="plain",
        filename="notes.txt",
    )
    path.write_bytes(msg.as_bytes())
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A folder with one file per format, each with a fact found nowhere else."""
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "atlas.pdf").write_bytes(
        make_pdf(
            [
                ["Chapter one: the Atlas mountains.", "Barbary macaques live in cedar forests."],
                None,
                ["Page three: Toubkal summit reaches 4167 metres."],
            ]
        )
    )
    make_docx(root / "tea.docx")
    (root / "page.html").write_text(
        "<html><head><title>t</title><script>var secret='zzscriptzz';</script>"
        "<style>.x{}</style></head><body><nav>Home | About zznavzz</nav>"
        "<h1>Bicycles</h1><h2>Gears</h2><p>A derailleur moves the chain between sprockets.</p>"
        "<footer>Copyright zzfooterzz</footer></body></html>",
        encoding="utf-8",
    )
    (root / "notes.md").write_text(
        "# Sourdough\n\nIntro text.\n\n## Starter\n\nFeed the starter rye flour daily.\n\n"
        "```\n# not a heading\n```\n",
        encoding="utf-8",
    )
    (root / "birds.csv").write_text(
        "species,wingspan_cm\nalbatross,340\nwren,15\n", encoding="utf-8"
    )
    (root / "latin1.txt").write_bytes("Crème brûlée needs a blowtorch.".encode("latin-1"))
    (root / "utf16.txt").write_text("Kangaroos can hop at 70 km/h.", encoding="utf-16")
    make_eml(root / "mail.eml")
    return root
