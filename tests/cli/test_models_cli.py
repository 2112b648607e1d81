"""`carrel models …` library actions, as a script would call them (`--json`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.hub import SMOL_FILE, SMOL_REPO, FakeHub
from tests.support.runners import cli


def run(argv: list[str]) -> object:
    """The printed JSON of `carrel models ARGV`, which must succeed."""
    code, out, err = cli("models", *argv)
    assert code == 0, err
    return json.loads(out)


def test_cli_actions(
    hub: FakeHub, capsys: pytest.CaptureFixture[str], smollm_path: Path, tmp_path: Path
) -> None:
    found = run(["search", "smol", "--json"])
    assert [r["id"] for r in found] == [SMOL_REPO]  # type: ignore[index]
    files = run(["files", SMOL_REPO, "--json", "--ctx", "2048"])
    [f] = files  # type: ignore[misc]
    assert f["name"] == SMOL_FILE and f["quant"] == "Q4_1"
    assert f["size"] == smollm_path.stat().st_size and len(f["sha256"]) == 64
    assert f["fit"] in ("cpu", "full-gpu", "partial") and f["estimated_bytes"] > 0
    record = run(["download", SMOL_REPO, SMOL_FILE, "--json"])
    assert record["sha256"] == f["sha256"]  # type: ignore[index]
    name = Path(SMOL_FILE).stem
    assert run(["verify", name, "--json"]) == {
        "name": name,
        "ok": True,
        "sha256": f["sha256"],
        "compared": True,  # against the hash recorded at download
    }
    info = run(["info", name, "--json"])
    assert info["source"].startswith(SMOL_REPO)  # type: ignore[index]
    assert info["card_license"] == "apache-2.0"  # type: ignore[index]
    copy = tmp_path / "other.gguf"
    shutil.copyfile(smollm_path, copy)
    [imported] = run(["import", str(copy), "--link", "--json"])  # type: ignore[misc]
    assert imported["linked"] is True
    assert run(["remove", "other", "--json"]) == {"removed": "other"}
    catalog = run(["catalog", "--json"])
    assert {e["category"] for e in catalog} >= {"fully-open", "source-available"}  # type: ignore[union-attr,index]
