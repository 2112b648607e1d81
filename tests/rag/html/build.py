"""Build the Sphinx HTML development set's documents from installed Debian packages.

python -m tests.rag.html.build FOLDER   (prints the files it made)

Long one-page-per-chapter HTML made by Sphinx, the generator behind most project manuals
on the web and in distributions, in three of its themes: the BIND 9 Administrator
Reference Manual (bind9-doc, the Read the Docs theme), Jinja's documentation
(python-jinja2-doc, the Pallets theme on Sphinx's basic one) and Borg Backup's
(borgbackup-doc, the Guzzle theme). Nobody on the project wrote them; nothing is
committed: the pages are copied under names of their own (two packages have a `faq.html`),
as they are, navigation, sidebars and permalinks included, because that is how a person's
folder holds them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.rag.pdf.build import copy_manual

ARM = Path("/usr/share/doc/bind9-doc/arm")
JINJA = Path("/usr/share/doc/python-jinja2-doc/html")
BORG = Path("/usr/share/doc/borgbackup/html")

# Debian package -> {file made: installed page}
PAGES: dict[str, dict[str, Path]] = {
    "bind9-doc": {
        "bind9-configurations.html": ARM / "chapter3.html",
        "bind9-dnssec.html": ARM / "chapter5.html",
        "bind9-security.html": ARM / "chapter6.html",
    },
    "python-jinja2-doc": {
        "jinja-templates.html": JINJA / "templates.html",
        "jinja-api.html": JINJA / "api.html",
    },
    "borgbackup-doc": {
        "borg-faq.html": BORG / "faq.html",
        "borg-quickstart.html": BORG / "quickstart.html",
        "borg-data-structures.html": BORG / "internals" / "data-structures.html",
        "borg-security.html": BORG / "internals" / "security.html",
    },
}


def build(folder: Path) -> list[Path]:
    """Copy every page of the set into `folder` (kept if already there); return them."""
    return copy_pages(PAGES, folder)


def copy_pages(pages: dict[str, dict[str, Path]], folder: Path) -> list[Path]:
    """Each package's pages copied into `folder` under their names, as the PDF sets copy
    their manuals (`copy_manual`: kept if there, written whole or not at all)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        copy_manual(source, folder / name, package)
        for package, named in pages.items()
        for name, source in named.items()
    ]


if __name__ == "__main__":
    for path in build(Path(sys.argv[1])):
        print(path)
