"""The facade the GUI and CLI share: conversations, replies that persist, two models in turn."""

import json
from pathlib import Path

import pytest

from app.engine.backend import Done, Token
from app.errors import NoModelLoadedError, NotAGGUFError
from app.privacy.errors import RemoteFailedError
from app.privacy.gate import Consent
from app.privacy.policy import EndpointKind
from app.workbench import Workbench
from tests.support.consent import Answers
from tests.support.servers import REMOTE_API_KEY as API_KEY
from tests.support.servers import RecordingProxy

pytestmark = pytest.mark.slow


def test_reply_needs_a_model(workbench: Workbench) -> None:
    c = workbench.new_conversation()
    with pytest.raises(NoModelLoadedError):
        workbench.reply(c.id, "hello")


def test_reply_is_stored_and_survives_reopen(workbench: Workbench, carrel_home: Path) -> None:
    workbench.load_model("SmolLM2-135M-Instruct.Q4_1")
    c = workbench.new_conversation()
    events = list(workbench.reply(c.id, "Name a fruit.", {"max_tokens": 16, "seed": 2}))
    done = events[-1]
    assert isinstance(done, Done)
    workbench.close()

    again = Workbench.open()
    try:
        conv = again.store.conversation(c.id)
        assert conv.title == "Name a fruit."
        msgs = again.store.messages(c.id)
        assert [m.role for m in msgs] == ["user", "assistant"]
        assert msgs[1].text == done.text
        assert msgs[1].model == "SmolLM2-135M-Instruct.Q4_1"
        assert msgs[1].params["max_tokens"] == 16
        assert msgs[1].stats["completion_tokens"] == done.stats.completion_tokens
    finally:
        again.close()


def test_stopped_reply_is_kept_and_marked(workbench: Workbench) -> None:
    workbench.load_model("SmolLM2-135M-Instruct.Q4_1")
    c = workbench.new_conversation()
    reply = workbench.reply(c.id, "Tell me a long story.", {"max_tokens": 300})
    seen = 0
    for event in reply:
        if isinstance(event, Token):
            seen += 1
            if seen == 3:
                reply.cancel()
    assert reply.message is not None and reply.message.stopped
    stored = workbench.store.messages(c.id)[-1]
    assert stored.stopped and stored.text == reply.message.text and stored.text
    md = workbench.export_markdown(c.id)
    assert "*(stopped)*" in md and "## You" in md
    exported = workbench.export_json(c.id)
    assert exported["messages"][-1]["stopped"] is True
    json.dumps(exported)


def test_two_models_in_turn_closes_the_first(workbench: Workbench, gemma_path: Path) -> None:
    workbench.load_model("SmolLM2-135M-Instruct.Q4_1")
    first = workbench.backend
    assert first is not None
    workbench.load_model(str(gemma_path))
    assert not first._thread.is_alive()
    assert workbench.loaded_model is not None
    assert workbench.loaded_model.architecture == "gemma3"


def test_failed_load_keeps_previous_model(workbench: Workbench, tmp_path: Path) -> None:
    workbench.load_model("SmolLM2-135M-Instruct.Q4_1")
    bad = tmp_path / "bad.gguf"
    bad.write_text("not a model")
    with pytest.raises(NotAGGUFError):
        workbench.load_model(str(bad))
    assert workbench.loaded_model is not None
    c = workbench.new_conversation()
    assert isinstance(list(workbench.reply(c.id, "Hi", {"max_tokens": 4}))[-1], Done)


def test_a_new_key_is_used_by_the_next_reply(workbench: Workbench, proxy: RecordingProxy) -> None:
    """The Workbench hears of a key change from the privacy service and builds the remote
    again; no face has to tell it to forget anything."""
    privacy = workbench.privacy
    privacy.add_endpoint("team", proxy.base_url, "smollm2", EndpointKind.SELF_HOSTED)
    privacy.set_enabled("team", True)
    keys = privacy.unlock_vault("typed")
    privacy.set_key("team", "sk-wrong-key-0000", keys)
    privacy.ask_with(Answers(Consent.CONVERSATION))
    c = workbench.new_conversation()
    workbench.store.update_conversation(c.id, params={"route": "remote-first"})
    with pytest.raises(RemoteFailedError, match="HTTP 401"):
        list(workbench.reply(c.id, "Hello?", {"max_tokens": 4}, ask_remote=True))
    privacy.set_key("team", API_KEY, keys)
    done = list(workbench.reply(c.id, "Hello again?", {"max_tokens": 4}, ask_remote=True))[-1]
    assert isinstance(done, Done) and done.stats.badge == "self-hosted"
