"""Collection names as a person types them, and the key each is kept under.

A name is stored as given (spaces, accents, punctuation, any script): it is what every
list and message shows. On disk (the shard's folder, its lease file, a bundle's members)
and on a Qdrant server the collection goes by its key: the name itself when it is the
kind of name Carrel accepted before (letters, digits, '-', '_', '.'; so collections made
then keep their folders), else an ASCII slug of the name and 8 hex digits of its SHA-256,
which keeps two names that slug alike ("Notes 1" and "notes-1!") apart.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from app.rag.errors import BadCollectionNameError

# The names accepted before any name was: they are their own key.
PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_NAME = 120
SLUG_MAX = 40


def check_name(name: str) -> str:
    """`name` if it can name a collection (not blank, no control characters, at most
    `MAX_NAME` characters, no space at either end); else `BadCollectionNameError`."""
    if not name.strip():
        raise BadCollectionNameError(name, "it is empty")
    if name != name.strip():
        raise BadCollectionNameError(name, "it starts or ends with a space")
    if len(name) > MAX_NAME:
        raise BadCollectionNameError(name, f"it is longer than {MAX_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise BadCollectionNameError(name, "it holds a control character")
    return name


def collection_key(name: str) -> str:
    """The key collection `name` is kept under on disk and on a server (see the module)."""
    if PLAIN.match(name):
        return name
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:SLUG_MAX].strip("-")
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{slug or 'collection'}-{digest}"
