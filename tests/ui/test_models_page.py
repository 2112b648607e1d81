"""The Models page over a real Workbench and the loopback fake hub serving a real GGUF:
installed list with licences, search and the quant table with fit badges, a download that
lands in Installed, a bad import shown as an error, and verify."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.library.download import DONE
from app.ui.pages.models import ModelsPage
from app.workbench import Workbench
from tests.support.hub import FakeHub

TIMEOUT_MS = 60_000
REPO = "carrel-gui/Tiny-Smol-GGUF"
FILE = "tiny-smol.Q4_1.gguf"


@pytest.fixture
def hub(smollm_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    server = FakeHub()
    server.add_repo(REPO, {FILE: smollm_path}, license="apache-2.0", downloads=7, likes=2)
    server.start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    # The suite runs with HF_HUB_OFFLINE=1, which Carrel honours by never asking the hub;
    # these tests browse the stand-in on purpose.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield server
    server.stop()


@pytest.fixture
def page(qtbot: QtBot, hub: FakeHub, carrel_home: Path) -> Iterator[ModelsPage]:
    wb = Workbench.open()
    assert wb.library.hub.endpoint == hub.url
    p = ModelsPage(wb)
    qtbot.addWidget(p)
    with qtbot.waitSignals([p.installed_listed, p.catalog_listed], timeout=TIMEOUT_MS):
        pass
    yield p
    p.shutdown()
    wb.close()


def _rows(p: ModelsPage) -> dict[str, list[str]]:
    t = p.installed_table
    cols = [t.column_texts(c) for c in range(t.columnCount())]
    return {name: [col[r] for col in cols] for r, name in enumerate(cols[0])}


def test_installed_lists_defaults_with_licences(page: ModelsPage) -> None:
    rows = _rows(page)
    smol = rows["SmolLM2-135M-Instruct.Q4_1"]
    assert smol[1:3] == ["llama", "Q4_1"] and smol[4] == "apache-2.0"
    assert smol[5] == "8,192" and smol[6].startswith(("CPU only", "Full GPU", "Partial"))
    gemma = rows["gemma-3-270m-q4_k_m"]
    assert gemma[1] == "gemma3" and gemma[4] == "gemma"
    categories = page.catalog_table.column_texts(5)
    assert {"fully-open", "source-available"} <= set(categories)


def test_search_files_and_download_into_installed(qtbot: QtBot, page: ModelsPage) -> None:
    states: list[bool] = []
    page.online.connect(states.append)
    page.search_box.setText("tiny")
    with qtbot.waitSignal(page.searched, timeout=TIMEOUT_MS) as found:
        page.search_button.click()
    assert [r.id for r in found.args[0]] == [REPO]
    assert states[:2] == [True, False]
    assert page.online_label.text() == "Offline"
    with qtbot.waitSignal(page.files_listed, timeout=TIMEOUT_MS):
        page.repo_table.selectRow(0)
    assert "apache-2.0" in page.repo_label.text() and "open access" in page.repo_label.text()
    assert page.quant_table.column_texts(0) == ["Q4_1"]
    badge = page.quant_table.column_texts(3)[0]
    assert badge.startswith(("CPU only", "Full GPU", "Partial", "Won't fit")) and "GiB" in badge
    finished: list[object] = []
    page.download_finished.connect(finished.append)
    with qtbot.waitSignals([page.download_finished, page.installed_listed], timeout=TIMEOUT_MS):
        page.quant_table.download_button(0).click()
    [job] = finished
    assert job.state == DONE, job.error  # type: ignore[attr-defined]
    row = page.download_list.row(job)
    assert row is not None and row.bar.value() == 1000
    assert "done" in row.text.text()
    assert "tiny-smol.Q4_1" in _rows(page)
    assert _rows(page)["tiny-smol.Q4_1"][4] == "apache-2.0"


def test_bad_import_shows_error_then_verify(qtbot: QtBot, page: ModelsPage, tmp_path: Path) -> None:
    bad = tmp_path / "notes.gguf"
    bad.write_bytes(b"this is not a model at all" * 100)
    with qtbot.waitSignal(page.error, timeout=TIMEOUT_MS) as failed:
        page.import_path(bad)
    assert "notes.gguf" in failed.args[0] and "GGUF" in failed.args[0]
    assert not (page.library.models_dir / "notes.gguf").exists()
    assert page.select_installed("SmolLM2-135M-Instruct.Q4_1")
    with qtbot.waitSignal(page.verified, timeout=TIMEOUT_MS) as ok:
        page.verify_button.click()
    assert ok.args[0].record.name == "SmolLM2-135M-Instruct.Q4_1"
    # The packaged model had no hash recorded: it is computed now, never said to "match".
    assert "computed and recorded now" in page.details.toPlainText()
    with qtbot.waitSignal(page.verified, timeout=TIMEOUT_MS) as ok:
        page.verify_button.click()
    assert ok.args[0].compared and "matches" in page.details.toPlainText()
    with qtbot.waitSignal(page.info_shown, timeout=TIMEOUT_MS) as info:
        page.info_button.click()
    assert info.args[0]["license"] == "apache-2.0"
    assert "Fit on this machine" in page.details.toPlainText()


@pytest.mark.slow
def test_quantize_dialog_shows_sizes_and_speeds(qtbot: QtBot, page: ModelsPage) -> None:
    assert page.select_installed("SmolLM2-135M-Instruct.Q4_1")
    dialog = page.open_quantize_dialog(show=False)
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert "already quantized" in dialog.warning.text()
    dialog.level_box.setCurrentIndex(dialog.level_box.findData("Q4_0"))
    # Quantizing, then timing both models (loaded machine: minutes, not seconds).
    with qtbot.waitSignals([page.quantized, page.installed_listed], timeout=4 * TIMEOUT_MS):
        dialog.start_button.click()
    text = dialog.result_label.text()
    assert "source" in text and "result" in text and text.count("tok/s") == 2
    assert dialog.bar.value() == dialog.bar.maximum() > 1
    assert "SmolLM2-135M-Instruct.Q4_0" in _rows(page)
