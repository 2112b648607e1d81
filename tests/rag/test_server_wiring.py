"""A collection can live on a team's Qdrant server instead of this disk (and come back)."""

from pathlib import Path

import pytest

from app.cli import main
from app.errors import CarrelError
from app.rag.errors import IndexServerError
from app.rag.server_index import ServerIndex
from app.workbench import Workbench


def test_point_a_collection_at_a_server_and_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "notes.md"
    doc.write_text("# Notes\n\nThe harbour master is Ingrid Solberg.\n")
    wb = Workbench.open()
    try:
        wb.documents.add([doc], "team")
        assert len(wb.documents.files("team")) == 1
        # Nothing listens on port 1: a clear error, and the records stay consistent.
        wb.use_index_server("team", "http://127.0.0.1:1")
        record = wb.documents.records.collection("team")
        assert record is not None and record.server_url == "http://127.0.0.1:1"
        assert wb.documents.files("team") == []  # to be indexed again over there
        with pytest.raises(IndexServerError, match="Check that it is running"):
            wb.documents.add([doc], "team")
        wb.use_index_server("team", "")
        wb.documents.add([doc], "team")
        assert "Ingrid" in wb.documents.search("harbour master", "team", k=1)[0].text
        assert not isinstance(wb.documents.index("team"), ServerIndex)
    finally:
        wb.close()

    assert main(["docs", "server", "team", "http://127.0.0.1:1"]) == 0
    assert "now lives on http://127.0.0.1:1" in capsys.readouterr().out
    assert main(["docs", "server", "team", "--local"]) == 0


def test_on_device_only_collection_cannot_move_to_a_server() -> None:
    wb = Workbench.open()
    try:
        wb.privacy.policy.on_device_only.append("secret")
        with pytest.raises(CarrelError, match="on-device only"):
            wb.use_index_server("secret", "https://qdrant.example.org")
        assert wb.documents.records.collection("secret") is None
    finally:
        wb.close()
