from pathlib import Path

import pytest

from app.config import Paths, Settings, load_settings, save_settings
from app.errors import SettingsError


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
