"""A conversation tied to a collection answers from its passages and keeps the citations."""

from pathlib import Path

import pytest

from app.engine.backend import Done
from app.workbench import Workbench

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
