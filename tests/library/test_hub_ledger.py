"""Hub requests are in the egress ledger with what they carried and what became of them;
with HF_HUB_OFFLINE set the hub is never asked and the command line says so at once,
without opening a socket (strace)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Paths
from app.library.download import fetch_file
from app.library.errors import HubNotFoundError, HubOfflineError, HubUnreachableError
from app.library.hub import HubClient
from app.privacy.ledger import Ledger
from app.store import Store
from tests.conftest import GUARD
from tests.support.hub import SMOL_FILE, SMOL_REPO, FakeHub


@pytest.fixture
def ledger(carrel_home: Path) -> Iterator[Ledger]:
    store = Store(Paths.default().ensure().database)
    yield Ledger(store)
    store.close()


def test_a_search_is_in_the_ledger_with_its_words(hub: FakeHub, ledger: Ledger) -> None:
    client = HubClient(hub.url, allow=GUARD.allow, log=ledger)
    assert [r.id for r in client.search("carrel-test/smollm2")] == [SMOL_REPO]
    # The stand-in recorded the request; the ledger says what it carried.
    assert any("search=carrel-test%2Fsmollm2" in target for target in hub.targets)
    [entry] = ledger.entries()
    assert entry.kind == "hub" and entry.host == "127.0.0.1" and entry.outcome == "sent"
    assert "search words: 'carrel-test/smollm2'" in entry.carried
    assert entry.left_device and entry.consent == "browsing"


def test_file_lists_header_reads_and_downloads_are_entries(
    hub: FakeHub, ledger: Ledger, tmp_path: Path
) -> None:
    client = HubClient(hub.url, allow=GUARD.allow, log=ledger)
    details = client.repo(SMOL_REPO)
    quant = details.file(SMOL_FILE)
    client.remote_header(SMOL_REPO, details.revision, quant.first.path)
    fetch_file(
        client,
        SMOL_REPO,
        details.revision,
        quant.first,
        tmp_path / SMOL_FILE,
        free_space=lambda: 1 << 40,
    )
    entries = ledger.entries()
    assert [e.carried for e in entries] == [
        f"file list of {SMOL_REPO}",
        f"header of {SMOL_FILE} in {SMOL_REPO} (byte ranges)",
        f"download of {SMOL_FILE} in {SMOL_REPO}",
    ]
    assert {(e.model, e.outcome) for e in entries} == {(SMOL_REPO, "sent")}


def test_a_missing_repository_failed_after_sending(hub: FakeHub, ledger: Ledger) -> None:
    client = HubClient(hub.url, allow=GUARD.allow, log=ledger)
    with pytest.raises(HubNotFoundError):
        client.repo("nobody/nothing")
    [entry] = ledger.entries()
    assert entry.describe_outcome() == "failed after sending (HTTP 404)"


def test_a_dead_hub_failed_with_nothing_sent(ledger: Ledger) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    client = HubClient(f"http://127.0.0.1:{port}", allow=GUARD.allow, log=ledger, offline=False)
    with pytest.raises(HubUnreachableError):
        client.search("anything")
    with pytest.raises(HubUnreachableError):
        client.remote_header("org/repo", "main", "x.gguf")
    entries = ledger.entries()
    assert [e.outcome for e in entries] == ["failed-unsent", "failed-unsent"]
    assert all(e.describe_outcome().startswith("failed, nothing sent") for e in entries)
    assert not any(e.left_device for e in entries)


def test_hf_hub_offline_refuses_before_any_connection(
    hub: FakeHub, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    client = HubClient(hub.url, allow=GUARD.allow, log=ledger)
    assert client.offline
    with pytest.raises(HubOfflineError, match="HF_HUB_OFFLINE is set"):
        client.search("carrel-test")
    with pytest.raises(HubOfflineError):
        client.repo(SMOL_REPO)
    assert hub.requests == [] and ledger.entries() == []


@pytest.mark.skipif(shutil.which("strace") is None, reason="Debian's strace is not installed")
def test_models_search_says_offline_without_a_socket(carrel_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "socket.trace"
    env = {**os.environ, "CARREL_HOME": str(carrel_home), "HF_HUB_OFFLINE": "1"}
    strace = ["strace", "-f", "-qq", "-e", "trace=socket,connect", "-o", str(trace)]
    done = subprocess.run(
        [*strace, sys.executable, "-m", "app", "models", "search", "llama"],
        env=env,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=240,
    )
    if "ptrace" in done.stderr and done.returncode != 0:
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 1
    assert "HF_HUB_OFFLINE is set" in done.stderr and done.stdout == ""
    calls = trace.read_text()
    assert "AF_INET" not in calls, calls  # no IPv4 or IPv6 socket was even created
