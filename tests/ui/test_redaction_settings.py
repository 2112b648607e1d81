"""The Redaction tab sets the phone region and imports a names model from disk; the
consent dialog says what redaction does not look for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.privacy.policy import EndpointKind, RemoteEndpoint
from app.prompt import ChatMessage, Prompt
from app.ui.consent import ConsentDialog
from app.ui.pages.settings import SettingsPage
from app.workbench import Workbench
from tests.support import names_pipeline

TIMEOUT_MS = 60_000
TEXT = "Ingrid Solberg (+47 55 12 34 56) sails from Bergen."
ENDPOINT = RemoteEndpoint("v", "https://api.example.com/v1", "m", EndpointKind.THIRD_PARTY, True)


@pytest.fixture
def page(qtbot: QtBot, carrel_home: Path) -> Iterator[SettingsPage]:
    wb = Workbench.open()
    p = SettingsPage(wb)
    qtbot.addWidget(p)
    yield p
    p.shutdown()
    wb.close()


def test_the_phone_region_is_chosen_and_saved(page: SettingsPage) -> None:
    box = page.redaction.recognizers
    assert box.region.currentData() == ""  # from the locale until chosen
    box.region.setCurrentIndex(box.region.findData("DE"))
    box.region.activated.emit(box.region.currentIndex())
    assert page.wb.privacy.policy.phone_region == "DE"
    assert page.wb.privacy.redactor().region == "DE"


def test_a_names_model_is_imported_and_the_consent_dialog_stops_warning(
    qtbot: QtBot, page: SettingsPage, tmp_path: Path
) -> None:
    gate = page.wb.privacy.gate
    before = ConsentDialog(gate.preview(ENDPOINT, Prompt([ChatMessage("user", TEXT)])))
    qtbot.addWidget(before)
    assert "Note: Names of people, places and organisations are not detected" in before.text()
    assert "Ingrid Solberg" in before.text()

    box = page.redaction.recognizers
    with qtbot.waitSignal(box.names_changed, timeout=TIMEOUT_MS) as changed:
        box.import_names(names_pipeline.build(tmp_path / "pipeline"))
    assert "carrel_test" in changed.args[0] and "carrel_test" in box.names.text()
    assert box.forget_button.isEnabled()

    after = ConsentDialog(gate.preview(ENDPOINT, Prompt([ChatMessage("user", TEXT)])))
    qtbot.addWidget(after)
    sent = after.preview.parts[0].text
    assert sent == "[NAME_1] ([PHONE_1]) sails from [PLACE_1]."
    assert "not detected" not in after.text()


def test_a_folder_that_is_no_pipeline_is_said_plainly(
    qtbot: QtBot, page: SettingsPage, tmp_path: Path
) -> None:
    box = page.redaction.recognizers
    with qtbot.waitSignal(box.failed, timeout=TIMEOUT_MS) as failed:
        box.import_names(tmp_path)
    assert "not a spaCy pipeline" in failed.args[0]
    assert page.wb.privacy.policy.names_model == "" and box.import_button.isEnabled()
