"""Documents made by the tests: a tiny PDF writer (text pages in Helvetica, image-only
pages, an encryption stub), a DOCX, an e-mail with attachments, a zip bomb, and a folder
with one file per format (`build_corpus`)."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from pathlib import Path

# Real documents from Debian packages the CI installs (`.ci/run`).
REAL_HTML = Path("/usr/share/debian-reference/ch01.en.html")  # debian-reference-en
REAL_PDF = Path("/usr/share/doc/gutenprint-doc/gutenprint-users-manual.pdf")  # gutenprint-doc


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(
    pages: Sequence[Sequence[str | tuple[str, int] | tuple[str, int, str]] | None],
    encrypted: bool = False,
    outline: list[tuple[int, str, int]] | None = None,
) -> bytes:
    """One page per entry: a list of text lines (in 11 points, or (text, points), or
    (text, points, "bold") set in Helvetica Bold), or None for a page that is only an
    image. `outline`: bookmarks as (level from 1, title, 0-based page), in order."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>")
    image_data = zlib.compress(bytes([128, 64, 200]) * 16)
    image = add(
        b"<< /Type /XObject /Subtype /Image /Width 4 /Height 4 /ColorSpace /DeviceRGB "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
        % len(image_data)
        + image_data
        + b"\nendstream"
    )
    pages_id = len(objects) + 1 + 2 * len(pages)
    kids = []
    for lines in pages:
        if lines is None:
            content = b"q 200 0 0 200 100 400 cm /Im1 Do Q"
        else:
            ops = ["BT /F1 11 Tf 14 TL 72 760 Td"]
            for line in lines:  # a line given as (text, points) is set in that size
                text, size, face = (line, 11, "") if isinstance(line, str) else (*line, "")[:3]
                name = "/F2" if face == "bold" else "/F1"
                ops.append(f"{name} {size} Tf {size + 3} TL ({_escape(text)}) Tj T*")
            ops.append("ET")
            content = "\n".join(ops).encode("latin-1")
        stream = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> /XObject << /Im1 %d 0 R >> "
                b">> >>" % (pages_id, stream, font, bold, image)
            )
        )
    kid_refs = b" ".join(b"%d 0 R" % k for k in kids)
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kid_refs, len(kids))) == pages_id
    extra = b" /Outlines %d 0 R" % _outline(add, objects, outline, kids) if outline else b""
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R%s >>" % (pages_id, extra))
    encrypt = 0
    if encrypted:
        encrypt = add(
            b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 "
            b"/O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> >>"
        )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if encrypt:
        trailer += b" /Encrypt %d 0 R /ID [<%s> <%s>]" % (encrypt, b"ab" * 16, b"ab" * 16)
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _outline(
    add: Callable[[bytes], int],
    objects: list[bytes],
    items: list[tuple[int, str, int]],
    kids: list[int],
) -> int:
    """The outline's objects (a root and one per item, linked as PDF wants); the root's id."""
    root = add(b"")
    ids = [add(b"") for _ in items]
    parent: dict[int, int] = {}
    children: dict[int, list[int]] = {root: []}
    stack: list[tuple[int, int]] = [(0, root)]
    for i, (level, _, _) in zip(ids, items, strict=True):
        while stack[-1][0] >= level:
            stack.pop()
        parent[i] = stack[-1][1]
        children[parent[i]].append(i)
        children[i] = []
        stack.append((level, i))

    def links(obj: int) -> bytes:
        kids_of = children[obj]
        if not kids_of:
            return b""
        return b" /First %d 0 R /Last %d 0 R /Count %d" % (kids_of[0], kids_of[-1], len(kids_of))

    objects[root - 1] = b"<< /Type /Outlines%s >>" % links(root)
    for i, (_, title, page) in zip(ids, items, strict=True):
        siblings = children[parent[i]]
        at = siblings.index(i)
        body = b"<< /Title (%s) /Parent %d 0 R /Dest [%d 0 R /XYZ null null null]" % (
            _escape(title).encode("latin-1"),
            parent[i],
            kids[page],
        )
        if at:
            body += b" /Prev %d 0 R" % siblings[at - 1]
        if at + 1 < len(siblings):
            body += b" /Next %d 0 R" % siblings[at + 1]
        objects[i - 1] = body + links(i) + b" >>"
    return root


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


def build_corpus(root: Path) -> Path:
    """A folder with one file per format, each with a fact found nowhere else."""
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
