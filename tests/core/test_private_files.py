"""Carrel's folders and files are readable by the person only, whatever the umask: the
store (with its -wal and -shm), settings, privacy.toml, logs (rotated ones too), and the
folders that hold the index, the key vault and the models."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Paths, Settings, save_settings
from app.logs import LOG_NAME, LogFile, PrivateLogHandler
from app.privacy.errors import InvalidEndpointError
from app.privacy.policy import EndpointKind, policy_file
from app.store import Store
from app.workbench import Workbench


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most careless umask there is: everything would be world-writable."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
@pytest.mark.usefixtures("open_umask")
def test_everything_carrel_writes_is_private(carrel_home: Path) -> None:
    wb = Workbench.open()
    try:
        wb.store.create_conversation(title="Harbour accounts")
        wb.privacy.set_redaction(terms=["Solberg"])
        wb.change_settings("sampling", temperature=0.2)
        logs = LogFile(wb.paths.logs_dir)
        log_file = logs.path
        logging.getLogger("carrel.test").warning("a line for the log")
        p = wb.paths
        for folder in (p.config_dir, p.data_dir, p.models_dir, p.logs_dir, p.cache_dir):
            assert mode(folder) == 0o700, folder
        files = [
            p.database,
            p.database.with_name(p.database.name + "-wal"),
            p.database.with_name(p.database.name + "-shm"),
            p.settings_file,
            policy_file(p),
            log_file,
        ]
        for file in files:
            assert file.exists() and mode(file) == 0o600, (file, oct(mode(file)))
    finally:
        logs.close()
        wb.close()


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
@pytest.mark.usefixtures("open_umask")
def test_rotated_logs_and_old_loose_files_become_private(tmp_path: Path) -> None:
    paths = Paths.under(tmp_path / "home")
    paths.data_dir.mkdir(parents=True)
    paths.data_dir.chmod(0o755)
    paths.database.write_bytes(b"")
    paths.database.chmod(0o644)  # as an older Carrel left it
    paths.ensure()
    Store(paths.database).close()
    assert mode(paths.data_dir) == 0o700 and mode(paths.database) == 0o600
    save_settings(paths, Settings())
    assert mode(paths.settings_file) == 0o600

    logs = LogFile(paths.logs_dir)
    log_file = logs.path
    try:
        [handler] = [h for h in logging.getLogger().handlers if isinstance(h, PrivateLogHandler)]
        handler.maxBytes = 200
        for i in range(20):
            logging.getLogger("carrel.test").warning("line %d of a log that rotates", i)
    finally:
        logs.close()
    rotated = sorted(paths.logs_dir.glob(LOG_NAME + "*"))
    assert len(rotated) > 1 and log_file in rotated
    assert all(mode(f) == 0o600 for f in rotated), [(f.name, oct(mode(f))) for f in rotated]


def test_a_url_with_a_password_is_refused_and_never_written(carrel_home: Path) -> None:
    wb = Workbench.open()
    try:
        with pytest.raises(InvalidEndpointError, match="password in it"):
            wb.privacy.add_endpoint(
                "team", "http://alice:s3cret-pw@10.0.0.5:8080/v1", "m", EndpointKind.SELF_HOSTED
            )
        wb.privacy.add_endpoint(
            "team", "http://alice@10.0.0.5:8080/v1", "m", EndpointKind.SELF_HOSTED
        )
        assert "s3cret" not in policy_file(wb.paths).read_text(encoding="utf-8")
        assert wb.privacy.endpoints()[0].host == "10.0.0.5"
    finally:
        wb.close()
