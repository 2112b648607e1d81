from pathlib import Path

import pytest

from app.config import Paths, Settings, load_settings, save_settings
from app.errors import SettingsError
from app.tomlfile import VersionedToml


def test_carrel_home_moves_everything(carrel_home: Path) -> None:
    paths = Paths.default().ensure()
    for folder in (paths.config_dir, paths.data_dir, paths.models_dir, paths.logs_dir):
        assert folder.is_relative_to(carrel_home)
        assert folder.is_dir()


def test_defaults_when_no_file() -> None:
    assert load_settings(Paths.default()) == Settings()


def test_round_trip() -> None:
    paths = Paths.default()
    s = Settings()
    s.model.context_length = 2048
    s.sampling.temperature = 0.2
    save_settings(paths, s)
    assert load_settings(paths) == s


def test_migrates_unversioned_file_and_rewrites_it() -> None:
    paths = Paths.default().ensure()
    paths.settings_file.write_text("temperature = 0.3\nmax_tokens = 99\n")
    s = load_settings(paths)
    assert s.sampling.temperature == 0.3
    assert s.sampling.max_tokens == 99
    assert "schema_version = 1" in paths.settings_file.read_text()


def test_wrong_type_names_the_key() -> None:
    paths = Paths.default().ensure()
    paths.settings_file.write_text('schema_version = 1\n[model]\ncontext_length = "big"\n')
    with pytest.raises(SettingsError, match=r"model\.context_length"):
        load_settings(paths)


def test_broken_toml_says_how_to_recover() -> None:
    paths = Paths.default().ensure()
    paths.settings_file.write_text("this is = = not toml")
    with pytest.raises(SettingsError, match="delete it"):
        load_settings(paths)


def test_newer_schema_is_refused() -> None:
    paths = Paths.default().ensure()
    paths.settings_file.write_text("schema_version = 99\n")
    with pytest.raises(SettingsError, match="newer Carrel"):
        load_settings(paths)


def test_a_change_is_checked_saved_and_told(tmp_path: Path) -> None:
    from app.workbench import Workbench

    wb = Workbench.open()
    try:
        seen: list[str] = []
        wb.settings_listeners.append(seen.append)
        wb.change_settings("model", context_length=2048)
        assert load_settings(wb.paths).model.context_length == 2048 and seen == ["model"]
        with pytest.raises(SettingsError, match=r"model\.context_length"):
            wb.change_settings("model", context_length="big")
        with pytest.raises(SettingsError, match="no colour"):
            wb.change_settings("model", colour="red")
        with pytest.raises(SettingsError, match="no settings section 'look'"):
            wb.change_settings("look", theme="dark")
        assert wb.settings.model.context_length == 2048 and seen == ["model"]
    finally:
        wb.close()


def test_a_versioned_file_migrates_one_step_at_a_time(tmp_path: Path) -> None:
    file = tmp_path / "x.toml"
    steps = {1: lambda r: {**r, "b": 2}, 2: lambda r: {**r, "c": r["b"] + 1}}
    versioned = VersionedToml(file, 3, "x file", "start over", steps, unversioned=1)
    assert versioned.read() is None
    file.write_text("a = 1\n")
    assert versioned.read() == {"a": 1, "b": 2, "c": 3, "schema_version": 3}
    assert "schema_version = 3" in file.read_text()  # written back at the new version
    file.write_text("schema_version = 4\n")
    with pytest.raises(SettingsError, match="newer Carrel"):
        versioned.read()
    without_step = VersionedToml(file, 3, "x file", "start over", {2: steps[2]}, unversioned=1)
    file.write_text("a = 1\n")
    with pytest.raises(SettingsError, match="schema 1, which this Carrel cannot read"):
        without_step.read()
