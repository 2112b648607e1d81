"""Build the second Sphinx HTML set's documents from installed Debian packages.

python -m tests.rag.html2.build FOLDER   (prints the files it made)

More long one-page chapters made by Sphinx, in two more of its themes, from projects other
than the first set's (`tests/rag/html`): Python's own documentation (python3.11-doc, the
python-docs theme: library reference pages and a HOWTO) and Django's (python-django-doc,
its own theme: topic guides). Nobody on the project wrote them; nothing is committed: the
pages are copied under names of their own, as they are, navigation, sidebars and
permalinks included.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.rag.html.build import copy_pages

PYTHON = Path("/usr/share/doc/python3.11/html")
DJANGO = Path("/usr/share/doc/python-django-doc/html")

# Debian package -> {file made: installed page}
PAGES: dict[str, dict[str, Path]] = {
    "python3.11-doc": {
        "python-argparse.html": PYTHON / "library" / "argparse.html",
        "python-sqlite3.html": PYTHON / "library" / "sqlite3.html",
        "python-logging-howto.html": PYTHON / "howto" / "logging.html",
        "python-venv.html": PYTHON / "library" / "venv.html",
    },
    "python-django-doc": {
        "django-cache.html": DJANGO / "topics" / "cache.html",
        "django-sessions.html": DJANGO / "topics" / "http" / "sessions.html",
        "django-queries.html": DJANGO / "topics" / "db" / "queries.html",
        "django-translation.html": DJANGO / "topics" / "i18n" / "translation.html",
    },
}


def build(folder: Path) -> list[Path]:
    """Copy every page of the set into `folder` (kept if already there); return them."""
    return copy_pages(PAGES, folder)


if __name__ == "__main__":
    for path in build(Path(sys.argv[1])):
        print(path)
