"""A conversation tied to a collection answers from its passages and keeps the citations."""

import json
from pathlib import Path

import pytest

from app.engine.backend import Done
from app.privacy.gate import Consent
from app.privacy.keys import Keys
from app.privacy.policy import EndpointKind
from app.workbench import Workbench
from tests.support.consent import Answers
from tests.support.servers import REMOTE_API_KEY as API_KEY
from tests.support.servers import RecordingProxy

pytestmark = pytest.mark.slow


def test_reply_cites_file_and_page(workbench: Workbench, tmp_path: Path) -> None:
    notes = tmp_path / "harbour.md"
    notes.write_text(
        "# Harbour rules\n\nThe harbour master is Ingrid Solberg. Boats must register at "
        "the blue office before 9 am.\n\n# Fuel\n\nDiesel is sold on the north pier only.\n"
    )
    report = workbench.documents.add([notes], "harbour")
    assert report.count("indexed") == 1
    workbench.load_model("SmolLM2-135M-Instruct.Q4_1")
    c = workbench.new_conversation()
    workbench.store.update_conversation(c.id, params={"collections": ["harbour"]})

    reply = workbench.reply(c.id, "Who is the harbour master?", {"max_tokens": 24, "seed": 1})
    events = list(reply)
    assert isinstance(events[-1], Done)
    # The prompt carried the passage: the model saw the numbered source.
    assert events[-1].stats.prompt_tokens > 60
    stored = workbench.store.messages(c.id)
    assert stored[0].text == "Who is the harbour master?"  # the person's words, not the prompt
    citations = stored[-1].stats["citations"]
    assert citations[0]["n"] == 1
    assert citations[0]["source"] == str(notes.resolve())
    assert citations[0]["collection"] == "harbour"
    assert "Ingrid Solberg" in " ".join(c["text"] for c in citations)


def test_plain_conversation_has_no_citations(workbench: Workbench) -> None:
    workbench.load_model("SmolLM2-135M-Instruct.Q4_1")
    c = workbench.new_conversation()
    list(workbench.reply(c.id, "Hi", {"max_tokens": 4}))
    assert "citations" not in workbench.store.messages(c.id)[-1].stats


def test_a_routed_request_carries_each_passage_once(
    workbench: Workbench, tmp_path: Path, proxy: RecordingProxy
) -> None:
    """Remote first, tied to a collection: the request the endpoint receives holds each
    retrieved passage exactly once (it held them twice: numbered in the question and
    again in the system message)."""
    notes = tmp_path / "harbour.md"
    notes.write_text(
        "# Harbour rules\n\nThe harbour master is Ingrid Solberg.\n\n"
        "# Fuel\n\nDiesel is sold on the north pier only, from six until noon.\n"
    )
    workbench.documents.add([notes], "harbour")
    privacy = workbench.privacy
    privacy.add_endpoint("team", proxy.base_url, "smollm2", EndpointKind.SELF_HOSTED)
    privacy.use_vault(True)
    Keys.vault(Path(privacy.vault_path), "typed").set("team", API_KEY)
    workbench.vault_passphrase = "typed"
    privacy.set_enabled("team", True)
    answers = Answers(Consent.ONCE)
    privacy.ask_with(answers)
    c = workbench.new_conversation()
    params = {"collections": ["harbour"], "route": "remote-first", "remote": "team"}
    workbench.store.update_conversation(c.id, params=params)

    reply = workbench.reply(c.id, "Who is the harbour master?", {"max_tokens": 8, "seed": 1})
    done = list(reply)[-1]
    assert isinstance(done, Done) and done.stats.badge == "self-hosted"
    [request] = [r for r in proxy.received if r.path.endswith("/chat/completions")]
    sent = "\n".join(m["content"] for m in json.loads(request.body)["messages"])
    assert reply.citations
    for passage in reply.citations:
        assert sent.count(passage.text) == 1, passage.text
    # The person saw the same parts that left.
    [preview] = answers.previews
    labels = [p.label for p in preview.parts if p.label.startswith("passage")]
    assert labels == [f"passage {c.n} · harbour" for c in reply.citations]
