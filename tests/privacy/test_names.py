"""Names, places and organisations with a pipeline imported from disk; without one the
consent preview says that names are not detected and suggests own terms."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.citation import Citation
from app.config import Paths
from app.privacy.errors import NamesModelError
from app.privacy.policy import EndpointKind, RemoteEndpoint
from app.privacy.redact import NO_NAMES, RedactionMap
from app.privacy.service import Privacy
from app.prompt import ChatMessage, Prompt
from app.store import Store
from tests.support import names_pipeline

TEXT = (
    "Ingrid Solberg of Nordhavn Shipping sails from Bergen up the Hardangerfjord; "
    "write to ingrid@nordhavn.example.no."
)
ENDPOINT = RemoteEndpoint("v", "https://api.example.com/v1", "m", EndpointKind.THIRD_PARTY, True)


@pytest.fixture
def privacy(carrel_home: Path) -> Privacy:
    paths = Paths.default().ensure()
    store = Store(paths.database)
    return Privacy(paths, store)


def test_without_a_model_the_preview_says_names_are_not_detected(privacy: Privacy) -> None:
    passage = Citation("notes.txt", text=TEXT, collection="c")
    preview = privacy.gate.preview(ENDPOINT, Prompt.asking([ChatMessage("user", TEXT)], [passage]))
    assert NO_NAMES in preview.notices and "Note: Names of people" in preview.render()
    assert all("Ingrid Solberg" in p.text for p in preview.parts[1:])  # said, not hidden


def test_an_imported_pipeline_finds_names_places_and_organisations(
    privacy: Privacy, tmp_path: Path
) -> None:
    source = names_pipeline.build(tmp_path / "pipeline")
    target = privacy.import_names_model(source)
    assert target.parent == privacy.paths.data_dir / "names" and (target / "meta.json").exists()
    out = privacy.redactor().redact(TEXT, RedactionMap())
    assert out == ("[NAME_1] of [ORG_1] sails from [PLACE_1] up the [PLACE_2]; write to [EMAIL_1].")
    preview = privacy.gate.preview(ENDPOINT, Prompt([ChatMessage("user", TEXT)]))
    assert NO_NAMES not in preview.notices
    assert "Ingrid" not in preview.parts[0].text
    privacy.forget_names_model()
    assert "Ingrid Solberg" in privacy.redactor().redact(TEXT, RedactionMap())


def test_a_pipeline_package_folder_is_found_inside(privacy: Privacy, tmp_path: Path) -> None:
    source = names_pipeline.build(tmp_path / "pkg", package=True)
    privacy.import_names_model(source)
    assert "[NAME_1]" in privacy.redactor().redact("Ask Ada Lovelace.", RedactionMap())


def test_what_cannot_find_names_is_refused_and_nothing_changes(
    privacy: Privacy, tmp_path: Path
) -> None:
    with pytest.raises(NamesModelError, match="not a spaCy pipeline"):
        privacy.import_names_model(tmp_path)
    no_ner = names_pipeline.build(tmp_path / "sentences", ner=False)
    with pytest.raises(NamesModelError, match="no named-entity step"):
        privacy.import_names_model(no_ner)
    assert privacy.policy.names_model == ""
    assert not any((privacy.paths.data_dir / "names").glob("*"))
