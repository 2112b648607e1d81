"""Names of people, places and organisations, found by a named-entity model the person
imported from disk: a spaCy pipeline folder (`config.cfg` + `meta.json`, as `nlp.to_disk`
writes it) or a pipeline package folder (`en_core_web_sm/`, which holds one). Nothing is
ever fetched: without an imported model names are not detected, and the consent preview
says so.

spaCy is optional (`pip install 'carrel[names]'`): it is large, and no pipeline ships on
PyPI that Carrel could rely on, so most people never need it.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.privacy.errors import NamesModelError
from app.privacy.recognize.scan import Scan
from app.privacy.recognize.spans import Span

# spaCy's labels (OntoNotes and WikiNER schemes) → Carrel's kinds.
LABELS = {
    "PERSON": "NAME",
    "PER": "NAME",
    "GPE": "PLACE",
    "LOC": "PLACE",
    "FAC": "PLACE",
    "ORG": "ORG",
}
NAME_KINDS = frozenset(LABELS.values())
# spaCy's own limit per document is 1,000,000 characters; paragraphs are sent in chunks.
CHUNK = 100_000

_loaded: dict[Path, Any] = {}
_lock = threading.Lock()


def _spacy() -> Any:
    try:
        import spacy
    except ImportError as exc:
        raise NamesModelError(
            "Finding names needs spaCy, which is not installed: install Carrel with "
            "pip install 'carrel[names]', or add the names that matter as your own terms."
        ) from exc
    return spacy


def pipeline_folder(source: Path) -> Path:
    """The pipeline inside `source`: the folder itself, or the one folder below it that
    holds a `config.cfg` and a `meta.json` (a pipeline package)."""
    if (source / "config.cfg").is_file() and (source / "meta.json").is_file():
        return source
    found = sorted(
        p.parent for p in source.glob("*/config.cfg") if (p.parent / "meta.json").is_file()
    )
    if len(found) == 1:
        return found[0]
    raise NamesModelError(
        f"{source} is not a spaCy pipeline: pick the folder that holds config.cfg and "
        "meta.json (or the pipeline package that contains one)."
    )


def load(folder: Path) -> Any:
    """The pipeline at `folder`, loaded once per process; never downloads anything."""
    folder = folder.resolve()
    with _lock:
        nlp = _loaded.get(folder)
        if nlp is None:
            spacy = _spacy()
            try:
                nlp = spacy.load(folder)
            except (OSError, ValueError, KeyError) as exc:
                raise NamesModelError(
                    f"The names model in {folder} cannot be loaded ({exc}); import it again."
                ) from exc
            if not any(name in ("ner", "entity_ruler") for name in nlp.pipe_names):
                raise NamesModelError(
                    f"The pipeline in {folder} has no named-entity step (ner or "
                    "entity_ruler), so it cannot find names; pick another."
                )
            _loaded[folder] = nlp
    return nlp


def import_model(source: Path, models_root: Path) -> Path:
    """Copy the pipeline under `source` into Carrel's folder and check that it loads and
    has a named-entity step; returns where it now lives."""
    folder = pipeline_folder(source.expanduser())
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    name = f"{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}-{meta.get('version', '0')}"
    target = models_root / name
    if target.exists():
        shutil.rmtree(target)
    models_root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(folder, target)
    try:
        load(target)
    except NamesModelError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def describe(folder: Path) -> str:
    """One line for the settings: the pipeline's language, name, version and entities."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{folder.name} (its meta.json cannot be read)"
    return f"{meta.get('lang', '?')}_{meta.get('name', '?')} {meta.get('version', '')}".strip()


class NamesRecognizer:
    """Finds names (NAME), places (PLACE) and organisations (ORG) with an imported
    named-entity pipeline."""

    kinds = NAME_KINDS

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def find(self, scan: Scan) -> Iterator[Span]:
        text = scan.text
        nlp = load(self.folder)
        offset = 0
        while offset < len(text):
            end = min(len(text), offset + CHUNK)
            if end < len(text):
                cut = text.rfind("\n", offset, end)
                end = cut + 1 if cut > offset else end
            doc = nlp(text[offset:end])
            for ent in doc.ents:
                kind = LABELS.get(ent.label_)
                if kind is not None:
                    yield Span(offset + ent.start_char, offset + ent.end_char, kind)
            offset = end
