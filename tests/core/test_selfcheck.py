"""`carrel self-check` with real parts: every check passes on this machine, in a throw-away
home that is gone afterwards, and the person's own collections are not touched; a check
that fails (a default model that is not there) fails the command."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.config import Paths, load_settings, save_settings
from app.engine.devices import system_report
from app.errors import CarrelError
from app.rag.embedder import auto_engines
from app.selfcheck import RUNTIME_NAMES, SelfCheck, check_guard, gpu_backend
from app.workbench import Workbench


def test_the_guard_check_sends_nothing_and_leaves_no_trace() -> None:
    from tests.conftest import GUARD

    before = list(GUARD.refused)
    assert check_guard() == "refused 192.0.2.1:443 before any packet was sent"
    assert GUARD.refused == before  # the refusal it provoked is not left as a leak


def test_the_gpu_line_is_what_llama_cpp_itself_sees() -> None:
    report = system_report()
    line = gpu_backend()
    assert line.startswith(f"{report.build} build of llama.cpp")
    for gpu in report.gpus:  # none in this process unless GGML_VK_VISIBLE_DEVICES names one
        assert gpu.name in line
    assert ("run on the CPU" in line) == (not report.gpus)


@pytest.mark.slow
def test_every_check_passes_and_nothing_of_the_person_changes(
    carrel_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "mine.md"
    notes.write_text("# Mine\n\nThe person's own notes about quinces.\n", encoding="utf-8")
    wb = Workbench.open()
    wb.documents.add([notes], "mine")
    before = [f.as_dict() for f in wb.documents.files("mine")]
    wb.close()

    assert main(["self-check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = ["network guard", "GPU backend", "key store", "model", "documents", "search"]
    assert [line.split()[0] for line in lines[:-1]] == ["ok"] * len(names)
    assert [line[6:19].strip() for line in lines[:-1]] == names
    runtime = RUNTIME_NAMES[auto_engines()[0]]  # the embedder's runtime, as "auto" picks it
    assert f"({runtime})" in lines[names.index("documents")]
    assert lines[-1].startswith("self-check: all checks passed")

    wb = Workbench.open()
    try:
        assert [c.name for c in wb.documents.collections()] == ["mine"]
        assert [f.as_dict() for f in wb.documents.files("mine")] == before
    finally:
        wb.close()
    assert list(Paths.default().cache_dir.glob("self-check-*")) == []


@pytest.mark.slow
def test_a_failed_check_fails_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    paths = Paths.default().ensure()
    settings = load_settings(paths)
    settings.model.default = "no-such-model"
    save_settings(paths, settings)
    results = {r.name: r for r in SelfCheck().run()}
    assert not results["model"].ok and "No model called 'no-such-model'" in results["model"].detail
    assert results["search"].ok and results["network guard"].ok
    assert main(["self-check"]) == 1
    assert "1 of 6 checks failed" in capsys.readouterr().out


def test_with_no_model_at_all_the_model_check_says_how_to_add_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A package built --without-model has no model packages: the check names the two ways
    to add one instead of a missing name."""
    monkeypatch.setattr("app.library.registry._package_dir", lambda name: None)
    with pytest.raises(CarrelError, match=r"no model installed .*carrel models import FILE"):
        SelfCheck().default_model()
