"""`bench_rag_eval --questions FILE`: a question set of one's own (a reviewer's independent
one, say) is read like the project's sets, its documents beside it or by absolute path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.bench_rag_eval import QUESTION_SETS, load_questions, same_file

SET = """documents = ["{doc}"]

[[question]]
text = "What switches the kettle off?"
file = "notes.md"
anchors = ["thermostat clicks it off"]
"""


def test_a_sets_relative_documents_are_read_beside_it(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "questions.toml").write_text(SET.format(doc="notes.md"))
    documents, questions = load_questions(folder / "questions.toml")
    assert documents == [folder / "notes.md"]
    assert questions[0]["anchors"] == ["thermostat clicks it off"]


def test_absolute_documents_are_kept_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "questions.toml").write_text(SET.format(doc="/srv/docs/notes.md"))
    assert load_questions(tmp_path / "questions.toml")[0] == [Path("/srv/docs/notes.md")]


def test_a_folder_named_like_a_project_set_is_not_built(tmp_path: Path) -> None:
    folder = tmp_path / "dev2"  # the name of a built set, but not the project's file
    folder.mkdir()
    (folder / "questions.toml").write_text(SET.format(doc="notes.md"))
    assert load_questions(folder / "questions.toml")[0] == [folder / "notes.md"]
    assert QUESTION_SETS["dev2"] != folder / "questions.toml"


@pytest.mark.parametrize(
    ("file", "found"),
    [
        ("ch-binary.html", True),
        ("policy/ch-binary.html", True),
        ("/srv/docs/policy/ch-binary.html", True),
        ("other/ch-binary.html", False),
        ("binary.html", False),
    ],
)
def test_a_questions_file_may_name_folders_when_names_repeat(file: str, found: bool) -> None:
    assert same_file("/srv/docs/policy/ch-binary.html", file) is found
