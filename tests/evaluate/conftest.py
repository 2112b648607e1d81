"""A small real collection with facts placed in known passages, and a test set over it
whose gold passages are those facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.evaluate.service import Evaluation
from app.evaluate.sets import Gold, Item
from app.workbench import Workbench

SMOL = "SmolLM2-135M-Instruct.Q4_1"
GEMMA = "gemma-3-270m-q4_k_m"

FILES = {
    "harbour.md": "# Harbour rules\n\nThe harbour master is Ingrid Solberg. Boats register at "
    "the blue office before nine in the morning.\n",
    "fuel.md": "# Fuel\n\nDiesel is sold on the north pier only, from six until noon. Petrol "
    "is not sold in the harbour at all.\n",
    "birds.md": "# Birds\n\nThe lighthouse keeper counts puffins every June. Last year she "
    "counted 412 puffins on the outer skerry.\n",
}
QUESTIONS = [
    ("Who is the harbour master?", "Ingrid Solberg", "harbour.md", "Ingrid Solberg"),
    ("Where is diesel sold?", "north pier", "fuel.md", "north pier"),
    ("How many puffins were counted last year?", "412", "birds.md", "412 puffins"),
]


def make_collection(workbench: Workbench, folder: Path, name: str = "harbour") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in FILES.items():
        (folder / file).write_text(text)
    report = workbench.documents.add([folder], name)
    assert report.count("indexed") == len(FILES)
    return folder


def make_set(ev: Evaluation, folder: Path, n: int = 3, name: str = "harbour") -> None:
    s = ev.sets.create(name, "harbour")
    ev.sets.add(
        s,
        [
            Item(0, q, expected, [Gold(str((folder / file).resolve()), "harbour", text=gold)], task)
            for (q, expected, file, gold), task in zip(
                QUESTIONS[:n], ["facts", "facts", "numbers"], strict=False
            )
        ],
    )


@pytest.fixture
def evaluation(workbench: Workbench, tmp_path: Path) -> Evaluation:
    ev = Evaluation(workbench)
    folder = make_collection(workbench, tmp_path / "docs")
    make_set(ev, folder)
    return ev
