"""A whole session through the command line and the router: the key is used, yet it
appears in no log, config, database or export; and, under strace, a local session opens
no connection except to loopback and local sockets."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

import pytest

from app.config import Paths
from app.engine.backend import Done, GenerationParams
from app.engine.remote import RemoteBackend
from app.engine.router import Route, Router
from app.privacy.gate import Consent
from app.privacy.policy import load_policy
from app.privacy.service import Privacy
from app.prompt import ChatMessage, Prompt
from app.store import Store
from tests.support import runners
from tests.support.consent import Answers
from tests.support.servers import REMOTE_API_KEY as API_KEY
from tests.support.servers import RecordingProxy

PASSPHRASE = "a passphrase typed by the person"


def cli(argv: list[str], stdin: str = "") -> tuple[int, str]:
    """`carrel remote …` / `carrel ledger` in-process: (status, what it printed)."""
    code, out, err = runners.cli(*argv, stdin=stdin)
    return code, out + err


def test_cli_manages_endpoints_and_vault_keys() -> None:
    code, out = cli(["remote", "list"])
    assert code == 0 and "everything runs on this device" in out
    code, out = cli(
        [
            "remote",
            "add",
            "team",
            "--url",
            "http://127.0.0.1:9/v1",
            "--model",
            "m",
            "--kind",
            "self-hosted",
        ]
    )
    assert code == 0 and "switched off" in out
    code, out = cli(["remote", "add", "team", "--url", "http://x/v1", "--model", "m"])
    assert code == 1 and "already exists" in out
    # Listing never creates a vault; a new one is refused with an empty passphrase or two
    # that differ, the key store left as it was; then it asks twice.
    code, out = cli(["remote", "list", "--vault"])
    assert code == 0 and "(no key vault yet)" in out
    code, out = cli(["remote", "set-key", "team", "--vault"], "\n")
    assert code == 1 and "empty passphrase" in out
    code, out = cli(["remote", "set-key", "team", "--vault"], f"{PASSPHRASE}\nother\n")
    assert code == 1 and "differ" in out
    assert not (Paths.default().data_dir / "keys.vault").exists()
    assert load_policy(Paths.default()).key_store == "auto"
    code, out = cli(
        ["remote", "set-key", "team", "--vault"], f"{PASSPHRASE}\n{PASSPHRASE}\n{API_KEY}\n"
    )
    assert code == 0 and "…7c3d" in out and API_KEY not in out
    code, out = cli(["remote", "list", "--json", "--vault"], f"{PASSPHRASE}\n")
    [row] = json.loads(out)
    assert row["key"] == "…7c3d" and row["enabled"] is False
    code, out = cli(["remote", "list"])  # a vault is not opened without being asked
    assert "(key store locked)" in out
    code, out = cli(["remote", "list", "--vault"], "wrong\n")
    assert code == 1 and "passphrase is wrong" in out
    assert cli(["remote", "enable", "team"])[0] == 0
    assert "on   team" in cli(["remote", "list", "--vault"], f"{PASSPHRASE}\n")[1]
    assert cli(["remote", "disable", "nope"]) == (
        1,
        "carrel: There is no remote endpoint called 'nope'. Run 'carrel remote list' to see "
        "them, or 'carrel remote add' to add one.\n",
    )
    code, out = cli(["remote", "clear-key", "team"], f"{PASSPHRASE}\n")
    assert code == 0 and "Deleted" in out
    code, out = cli(["remote", "remove", "team"], f"{PASSPHRASE}\n")
    assert code == 0 and "Removed team" in out
    assert cli(["ledger"])[1] == "Nothing has left this device.\n"


@pytest.mark.slow
def test_the_key_appears_nowhere_after_a_full_session(
    carrel_home: Path, proxy: RecordingProxy
) -> None:
    assert (
        cli(
            [
                "remote",
                "add",
                "team",
                "--url",
                proxy.base_url,
                "--model",
                "smollm2",
                "--kind",
                "self-hosted",
            ]
        )[0]
        == 0
    )
    stdin = f"{PASSPHRASE}\n{PASSPHRASE}\n{API_KEY}\n"  # a new vault asks twice
    assert cli(["remote", "set-key", "team", "--vault"], stdin)[0] == 0
    assert cli(["remote", "enable", "team"])[0] == 0

    # Everything at DEBUG into the log folder, as `carrel -v` with a log file would.
    logs = carrel_home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(logs / "carrel.log")
    # The loggers that see requests and keys, at DEBUG; the HTTP stack at INFO (at DEBUG
    # it traces every chunk it reads, which is slow here and says nothing more).
    watched = [logging.getLogger(n) for n in ("app", "openai", "keyring", "httpx2")]
    old_levels = [w.level for w in watched]
    for w in watched:
        w.addHandler(handler)
        w.setLevel(logging.INFO if w.name == "httpx2" else logging.DEBUG)
    try:
        store = Store(carrel_home / "data" / "carrel.sqlite3")
        privacy = Privacy(Paths.default(), store, consent=Answers(Consent.CONVERSATION))
        endpoint = privacy.policy.endpoint("team")
        remote = RemoteBackend(endpoint, privacy.gate, privacy.keys(PASSPHRASE).get("team"))
        router = Router(None, remote, Route.REMOTE_FIRST)
        conv = store.create_conversation("keys")
        for question in ("Say hello to ada@example.org.", "And goodbye."):
            store.add_message(conv.id, "user", question)
            history = [ChatMessage("user", m.text) for m in store.messages(conv.id)]
            gen = router.stream(
                Prompt(history), GenerationParams(max_tokens=8, seed=1), conversation_id=conv.id
            )
            done = next(e for e in gen if isinstance(e, Done))
            assert gen.answered_by is not None and gen.answered_by.badge == "self-hosted"
            store.add_message(conv.id, "assistant", done.text, model=done.stats.model)
        remote.close()
        exports = carrel_home / "exports"
        exports.mkdir()
        (exports / "ledger.json").write_text(privacy.ledger.export_json())
        (exports / "ledger.csv").write_text(privacy.ledger.export_csv())
        (exports / "cli-ledger.txt").write_text(cli(["ledger", "--json"])[1])
        store.close()
    finally:
        for w, level in zip(watched, old_levels, strict=True):
            w.removeHandler(handler)
            w.setLevel(level)
        handler.close()

    # The server accepted the key: both requests went out, both are in the ledger.
    chats = [r for r in proxy.received if r.path.endswith("/chat/completions")]
    assert len(chats) == 2 and all(r.headers["authorization"].endswith(API_KEY) for r in chats)
    assert "HTTP Request: POST" in (logs / "carrel.log").read_text()
    needles = [API_KEY.encode(), API_KEY[:-4].encode(), API_KEY.encode("utf-16-le")]
    files = [p for p in carrel_home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite3" for p in files) and any(p.name == "keys.vault" for p in files)
    for p in files:
        data = p.read_bytes()
        for needle in needles:
            assert needle not in data, f"the key leaked into {p}"


def Paths_default():  # type: ignore[no-untyped-def]
    from app.config import Paths

    return Paths.default()


CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_\w+)(.*?)\}")
LOCAL_INET = re.compile(r'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"|"::ffff:127\.')


def off_device_connects(trace: str) -> list[str]:
    bad = []
    for m in CONNECT.finditer(trace):
        family, rest = m.group(1), m.group(2)
        if family in ("AF_UNIX", "AF_UNSPEC", "AF_NETLINK"):
            continue
        if family in ("AF_INET", "AF_INET6") and LOCAL_INET.search(rest):
            continue
        bad.append(m.group(0))
    return bad


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("strace") is None, reason="Debian's strace is not installed")
def test_a_local_session_connects_to_nothing_off_device(carrel_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "connect.trace"
    notes = tmp_path / "harbour.md"
    notes.write_text("# Harbour\n\nThe harbour master is Ingrid Solberg.\n", encoding="utf-8")
    env = {**os.environ, "CARREL_HOME": str(carrel_home), "HF_HUB_OFFLINE": "1"}
    script = (
        "import sys\n"
        "from app.cli import main\n"
        "from tests.privacy.test_session import cli\n"
        "assert main(['chat', '--prompt', 'Hello', '--max-tokens', '8', '--seed', '1']) == 0\n"
        "assert main(['models', 'list']) == 0\n"
        "assert cli(['remote', 'add', 'v', '--url', 'https://api.example.com/v1',"
        " '--model', 'x'])[0] == 0\n"
        "assert cli(['remote', 'list'])[0] == 0\n"
        "assert cli(['ledger', '--json'])[0] == 0\n"
        # Documents: ingest (the embedder loads from its PyPI package), search, ask.
        f"assert main(['docs', 'add', {str(notes)!r}, '--collection', 'notes']) == 0\n"
        "assert main(['search', 'harbour master', '--collection', 'notes', '--json']) == 0\n"
        "assert main(['ask', 'Who is the harbour master?', '--collection', 'notes']) == 0\n"
    )
    done = runners.traced_python(script, trace, env)
    if "ptrace" in done.stderr and done.returncode != 0:
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr[-2000:]
    text = trace.read_text()
    assert "execve" not in text  # only connect() was traced
    assert off_device_connects(text) == []


def test_the_strace_parser_sees_an_off_device_connect() -> None:
    sample = (
        '12 connect(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("1.2.3.4")}'
        ", 16) = 0\n"
        '12 connect(4, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}'
        ", 16) = 0\n"
        '12 connect(5, {sa_family=AF_UNIX, sun_path="/run/dbus"}, 110) = 0\n'
    )
    assert len(off_device_connects(sample)) == 1
