"""The load controls beside the model picker, where the model runs, and the Models page's
device report, used the way a person would: offscreen, waiting on signals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.library.verdict import FitEstimate
from app.ui.main_window import MainWindow
from app.workbench import Workbench

pytestmark = pytest.mark.slow
TIMEOUT_MS = 120_000


@pytest.fixture
def loaded_window(qtbot: QtBot, carrel_home: Path) -> Iterator[MainWindow]:
    wb = Workbench.open()
    wb.settings.sampling.max_tokens = 4
    window = MainWindow(wb, owns_workbench=True)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignals(
        [window.models_listed, window.model_loaded, window.models_page.system_listed],
        timeout=TIMEOUT_MS,
    ):
        window.start(load_default=True)
    yield window
    window.close()


def test_the_window_says_where_the_model_runs_and_what_llama_cpp_sees(
    loaded_window: MainWindow,
) -> None:
    w = loaded_window
    # No GPU is visible to this process: llama.cpp's own report says CPU.
    assert w.status.runs_on.text() == "CPU"
    assert w.model_panel.runs_on.text().startswith("Runs on: CPU")
    assert "all 31 layers on the CPU" in w.status.runs_on.toolTip()
    page_text = w.models_page.system_label.text()
    assert "Devices:" in page_text and "CPU (cpu)" in page_text and "Threads:" in page_text


def test_the_fit_line_follows_the_controls(qtbot: QtBot, loaded_window: MainWindow) -> None:
    controls = loaded_window.model_panel.controls
    loaded_window.model_panel.toggle.click()
    assert controls.isVisible() and controls.isEnabled()
    assert controls.context_label.text() == "4,096"
    small = controls.fit_label.text()
    with qtbot.waitSignal(controls.estimated, timeout=TIMEOUT_MS) as moved:
        controls.context.setValue(controls.context.maximum())
    fit = moved.args[0]
    assert isinstance(fit, FitEstimate) and fit.n_ctx == 8192
    assert controls.context_label.text() == "8,192" and "8,192 context" in controls.fit_label.text()
    assert controls.fit_label.toolTip() == fit.describe()
    assert controls.fit_label.text() != small
    with qtbot.waitSignal(controls.estimated, timeout=TIMEOUT_MS) as cached:
        controls.kv_type.setCurrentText("q4_0")
    assert cached.args[0].kv_cache < fit.kv_cache and "q4_0 KV cache" in controls.fit_label.text()
    # llama.cpp needs flash attention for a quantized V cache: on, and not switchable off.
    assert controls.flash_attn.isChecked() and not controls.flash_attn.isEnabled()


def test_options_apply_to_the_conversation_and_then_to_the_model(
    qtbot: QtBot, loaded_window: MainWindow
) -> None:
    w = loaded_window
    w.new_conversation()
    chat = w.current_conversation
    controls = w.model_panel.controls
    controls.context.setValue(0)  # 512
    controls.batch.setCurrentText("256")
    with qtbot.waitSignal(w.model_loaded, timeout=TIMEOUT_MS):
        controls.apply_conversation.click()
    assert w.wb.store.conversation(chat).params["load"]["context_length"] == 512
    assert w.wb.backend.n_ctx == 512 and w.wb.backend.options.batch_size == 256
    assert w.status.runs_on.text() == "CPU"
    # The model's own options are untouched: another conversation loads with the defaults.
    assert w.wb.load_options(w.wb.loaded_model.name).context_length == 4096
    controls.kv_type.setCurrentText("q8_0")
    with qtbot.waitSignal(w.model_loaded, timeout=TIMEOUT_MS):
        controls.apply_model.click()
    kept = w.wb.library.records.load_options(w.wb.loaded_model.name)
    assert kept["kv_type"] == "q8_0" and w.wb.backend.options.kv_type == "q8_0"
    assert "load" not in w.wb.store.conversation(chat).params  # the model's options now apply
