"""The Models page acts, over a real Workbench: a catalog row's Download (and a
double-click) fetches its file from the hub stand-in with its size and fit filled in;
"Use in chat" asks for the model; the library's true size; Info grouped and Verify
consistent with the hash; the Quantize dialog offers only smaller levels with sizes and
shows its whole result; a duplicate import warns; the Hugging Face tab says it goes
online, and a failed search says why in an error bar that stays."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.library.catalog_fit import CatalogChoice
from app.library.download import DONE
from app.ui.page_errors import attach_error_bar
from app.ui.pages.models import ModelsPage
from app.workbench import Workbench
from tests.support.hub import FakeHub

TIMEOUT_MS = 120_000
CATALOG_REPO = "bartowski/SmolLM2-1.7B-Instruct-GGUF"  # the catalog's first row
CATALOG_FILE = "SmolLM2-1.7B-Instruct-Q4_K_M.gguf"
SMOL = "SmolLM2-135M-Instruct.Q4_1"
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def hub(smollm_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    server = FakeHub()
    # The catalog names real repositories; the stand-in serves one under that name (with
    # SmolLM2 135M's bytes, a real GGUF).
    server.add_repo(CATALOG_REPO, {CATALOG_FILE: smollm_path})
    server.start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # browsing the stand-in on purpose
    yield server
    server.stop()


def open_page(qtbot: QtBot) -> tuple[Workbench, ModelsPage]:
    wb = Workbench.open()
    page = ModelsPage(wb)
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    with qtbot.waitSignals([page.installed_listed, page.catalog_listed], timeout=TIMEOUT_MS):
        pass
    return wb, page


@pytest.fixture
def page(qtbot: QtBot, hub: FakeHub, carrel_home: Path) -> Iterator[ModelsPage]:
    wb, p = open_page(qtbot)
    yield p
    p.shutdown()
    wb.close()


def catalog_row(page: ModelsPage, repo: str) -> int:
    for row in range(page.catalog_table.rowCount()):
        entry = page.catalog_table.entry(row)
        if entry is not None and entry.repo == repo:
            return row
    raise AssertionError(f"{repo} is not in the catalog")


def test_a_catalog_row_downloads_with_its_size_and_fit(qtbot: QtBot, page: ModelsPage) -> None:
    row = catalog_row(page, CATALOG_REPO)
    table = page.catalog_table
    assert table.item(row, 2).text() == "—"  # nothing asked before the person asks
    assert "ask Hugging Face (online)" in page.catalog_hint.text()
    looked: list[CatalogChoice] = []
    jobs: list[object] = []
    page.catalog_looked_up.connect(looked.append)
    page.download_finished.connect(jobs.append)
    with qtbot.waitSignals(
        [page.catalog_looked_up, page.download_finished, page.installed_listed],
        timeout=TIMEOUT_MS,
    ):
        table.download_button(row).click()
    assert [f.filename for f in looked] == [CATALOG_FILE]
    assert table.item(row, 2).text().endswith("MB")
    assert table.item(row, 3).text().startswith(("CPU only", "Full GPU", "Partial", "Won't"))
    [job] = jobs
    assert job.state == DONE and page.tabs.currentIndex() == 2  # type: ignore[attr-defined]
    assert page.select_installed(Path(CATALOG_FILE).stem)

    # A double-click on a row does the same (here: looks it up again, then downloads).
    page.tabs.setCurrentIndex(1)
    cell = table.visualItemRect(table.item(row, 0)).center()
    with qtbot.waitSignal(page.catalog_looked_up, timeout=TIMEOUT_MS):
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell)


def test_use_in_chat_size_info_and_verify(qtbot: QtBot, page: ModelsPage) -> None:
    # The true size: the two packaged models are on disk, not "0 B".
    assert page.disk_label.text().startswith("Library: 2 models, ")
    assert "0 B" not in page.disk_label.text()
    assert page.select_installed(SMOL)
    with qtbot.waitSignal(page.use_in_chat, timeout=TIMEOUT_MS) as used:
        page.use_button.click()
    assert used.args[0] == SMOL

    with qtbot.waitSignal(page.info_shown, timeout=TIMEOUT_MS):
        page.info_button.click()
    text = page.details.toPlainText()
    for title in ("Model", "File", "Licence", "Fit on this machine"):
        assert title in text
    assert "SHA-256" in text and "not computed yet" in text
    assert "library_disk_usage" not in text and "has_chat_template" not in text  # no raw keys

    with qtbot.waitSignal(page.verified, timeout=TIMEOUT_MS) as first:
        page.verify_button.click()
    assert not first.args[0].compared and "matches" not in page.details.toPlainText()
    with qtbot.waitSignal(page.info_shown, timeout=TIMEOUT_MS):
        page.info_button.click()
    assert first.args[0].record.sha256 in page.details.toPlainText()
    with qtbot.waitSignal(page.verified, timeout=TIMEOUT_MS) as second:
        page.verify_button.click()
    assert second.args[0].compared and "matches what was recorded" in page.details.toPlainText()


def test_the_fit_follows_the_chosen_context(qtbot: QtBot, page: ModelsPage) -> None:
    def gemma_fit() -> str:
        names = page.installed_table.column_texts(0)
        return page.installed_table.column_texts(6)[names.index("gemma-3-270m-q4_k_m")]

    at_4k = gemma_fit()
    with qtbot.waitSignal(page.installed_listed, timeout=TIMEOUT_MS):
        page.context_box.setCurrentIndex(page.context_box.findData(32768))
    assert page.n_ctx == 32768
    size = float(gemma_fit().split("· ")[1].split()[0])
    assert size > float(at_4k.split("· ")[1].split()[0])  # a longer context needs more


def test_a_duplicate_import_warns(qtbot: QtBot, page: ModelsPage, smollm_path: Path) -> None:
    bar = attach_error_bar(page, page.error, [page.searched])
    with qtbot.waitSignal(page.duplicate_import, timeout=TIMEOUT_MS) as warned:
        page.import_path(smollm_path, link=True)
    assert f"already had it as '{SMOL}'" in warned.args[0]
    assert "duplicate" in bar.message and "duplicate" in page.details.toPlainText()


@pytest.mark.slow
def test_quantize_offers_smaller_levels_and_shows_the_whole_result(
    qtbot: QtBot, page: ModelsPage
) -> None:
    assert page.select_installed(SMOL)
    dialog = page.open_quantize_dialog(show=True)
    assert dialog is not None
    qtbot.addWidget(dialog)
    levels = dialog.levels()
    assert "F32" not in levels and "Q4_1" not in levels and "Q8_0" not in levels
    assert {"Q4_K_M", "Q4_0", "Q2_K"} <= set(levels)
    texts = [dialog.level_box.itemText(i) for i in range(dialog.level_box.count())]
    assert all("≈" in t and t.endswith("MB") for t in texts)
    assert dialog.output_label.text() == "SmolLM2-135M-Instruct.Q4_K_M.gguf"
    dialog.level_box.setCurrentIndex(dialog.level_box.findData("Q4_0"))
    assert dialog.output_label.text() == "SmolLM2-135M-Instruct.Q4_0.gguf"
    with qtbot.waitSignals([page.quantized, page.installed_listed], timeout=TIMEOUT_MS):
        dialog.start_button.click()
    label = dialog.result_label
    assert "result" in label.text() and label.text().count("tok/s") == 2
    # The whole comparison is on screen: the label is as big as its text needs.
    assert label.width() >= label.sizeHint().width()
    assert label.height() >= label.sizeHint().height()
    assert dialog.width() >= dialog.sizeHint().width()
    dialog.close()


def test_the_hub_tab_says_it_goes_online(page: ModelsPage) -> None:
    assert not page.hub_online_label.isHidden()
    assert "goes online" in page.hub_online_label.text()
    assert page.hub_offline_label.isHidden()


def test_a_failed_search_says_why_and_stays(
    qtbot: QtBot, carrel_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on: the hub is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    wb, page = open_page(qtbot)
    try:
        bar = attach_error_bar(page, page.error, [page.searched])
        page.search_box.setText("llama")
        with qtbot.waitSignal(page.error, timeout=TIMEOUT_MS) as failed:
            page.search()
        assert "refused the connection" in failed.args[0] and "Errno" not in failed.args[0][:80]
        assert bar.message == failed.args[0]
        assert "failed" in page.repo_label.text() and page.repo_table.rowCount() == 0
        # Other work on the page does not take it away; only dismissing does.
        with qtbot.waitSignal(page.installed_listed, timeout=TIMEOUT_MS):
            page.refresh_installed()
        assert bar.message == failed.args[0]
        bar.dismiss()
        assert bar.message == ""
    finally:
        page.shutdown()
        page.close()
        wb.close()
