"""A small named-entity pipeline built and saved by the tests themselves: spaCy's blank
English with an entity ruler. No pipeline ships on PyPI that the suite may rely on, and
Carrel never fetches one, so this is what stands in for the person's own model."""

from __future__ import annotations

from pathlib import Path

PATTERNS = [
    {"label": "PERSON", "pattern": [{"LOWER": "ingrid"}, {"LOWER": "solberg"}]},
    {"label": "PERSON", "pattern": [{"LOWER": "ada"}, {"LOWER": "lovelace"}]},
    {"label": "ORG", "pattern": "Nordhavn Shipping"},
    {"label": "GPE", "pattern": "Bergen"},
    {"label": "LOC", "pattern": "Hardangerfjord"},
]


def build(folder: Path, *, package: bool = False, ner: bool = True) -> Path:
    """Save the pipeline at `folder` (or, with `package`, inside it as a pipeline package
    lays one out: `folder/en_carrel_test/en_carrel_test-0.1.0/`); returns what to import."""
    import spacy

    nlp = spacy.blank("en")
    if ner:
        nlp.add_pipe("entity_ruler").add_patterns(PATTERNS)
    else:
        nlp.add_pipe("sentencizer")
    nlp.meta["name"] = "carrel_test"
    nlp.meta["version"] = "0.1.0"
    target = folder / "en_carrel_test" / "en_carrel_test-0.1.0" if package else folder
    target.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    if package:
        (folder / "en_carrel_test" / "__init__.py").write_text("", encoding="utf-8")
        return folder / "en_carrel_test"
    return folder
