"""`carrel` as a script uses it: real processes, real models."""

import json
from pathlib import Path

import pytest

from tests.support.runners import carrel, cli, start_carrel


def test_models_list_json() -> None:
    r = carrel("models", "list", "--json")
    assert r.returncode == 0, r.stderr
    names = {m["name"]: m for m in json.loads(r.stdout)}
    smol = names["SmolLM2-135M-Instruct.Q4_1"]
    assert smol["license"] == "apache-2.0" and smol["has_chat_template"]
    assert smol["quant"] == "Q4_1" and smol["context_length"] == 8192
    assert names["gemma-3-270m-q4_k_m"]["license"] == "gemma"


@pytest.mark.slow
def test_chat_json() -> None:
    r = carrel("chat", "--prompt", "Say hello.", "--max-tokens", "12", "--seed", "4", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) >= {
        "text",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "ttft_ms",
        "tokens_per_s",
        "stopped",
    }
    assert out["model"] == "SmolLM2-135M-Instruct.Q4_1"
    assert 0 < out["completion_tokens"] <= 13 and out["stopped"] is False


@pytest.mark.slow
def test_chat_streams_plain_text() -> None:
    r = carrel("chat", "--prompt", "Say hello.", "--max-tokens", "8", "--system", "")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"plain text, renamed\n" * 50, "not a GGUF model"),
    ],
)
def test_bad_model_file_is_one_line_and_nonzero(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    f = tmp_path / "bad.gguf"
    f.write_bytes(content)
    r = carrel("chat", "--model", str(f), "--prompt", "hi")
    assert r.returncode == 1
    assert expected in r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("carrel: ")


def test_missing_model() -> None:
    r = carrel("chat", "--model", "does-not-exist", "--prompt", "hi")
    assert r.returncode == 1 and "No model called 'does-not-exist'" in r.stderr


def test_no_display_says_so_in_one_line() -> None:
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""}
    r = carrel(env=env)
    assert r.returncode == 2
    assert "no display" in r.stderr and "carrel chat" in r.stderr
    assert r.stderr.count("\n") == 1


def test_an_unexpected_error_is_one_line_and_its_traceback_is_logged(
    monkeypatch: pytest.MonkeyPatch, carrel_home: Path
) -> None:
    def broken(_args: object) -> int:
        raise KeyError("catalog")  # a bug: no CarrelError says what to do about it

    monkeypatch.setattr("app.cli.models.catalog", broken)
    code, out, err = cli("models", "catalog")
    log = carrel_home / "logs" / "carrel.log"
    assert code == 1 and out == ""
    assert err == f"carrel: Unexpected error (KeyError: 'catalog') — details in {log}\n"
    logged = log.read_text(encoding="utf-8")
    assert "Traceback" in logged and "KeyError: 'catalog'" in logged


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    """`carrel models catalog --json | head`: the pipe closes before the output is written."""
    child = start_carrel("models", "catalog", "--json")
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read()
    child.stderr.close()
    assert child.wait(timeout=120) == 141
    assert err == ""
