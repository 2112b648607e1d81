"""Bundle fixtures: two Carrel homes (the exporting machine and the one it is carried to),
each a real Workbench sharing one loaded embedder, and a collection of real documents."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app import netguard
from app.config import Paths, load_settings
from app.library.registry import ModelRegistry
from app.privacy.service import Privacy
from app.rag.embedder import SentenceEmbedder
from app.rag.service import Documents
from app.store import Store
from app.workbench import Workbench
from tests.support.files import make_pdf

SMOL = "SmolLM2-135M-Instruct.Q4_1"
COLLECTION = "harbour"
QUERIES = [
    "When was the lamp rebuilt?",
    "storms in the logbook",
    "quince paste in winter",
    "how deep is the channel at neap tide",
    "ferry timetable",
]


@pytest.fixture(scope="session")
def embedder() -> SentenceEmbedder:
    e = SentenceEmbedder()
    e.load()
    return e


def open_workbench(home: Path, embedder: SentenceEmbedder) -> Workbench:
    paths = Paths.under(home).ensure()
    store = Store(paths.database)
    privacy = Privacy(paths, store, guard=netguard.install())
    documents = Documents(paths, store, embedder)
    registry = ModelRegistry(paths.models_dir)
    return Workbench(paths, load_settings(paths), store, registry, privacy, documents)


@pytest.fixture
def homes(tmp_path: Path, embedder: SentenceEmbedder) -> Iterator[Callable[[str], Workbench]]:
    opened: list[Workbench] = []

    def make(name: str) -> Workbench:
        wb = open_workbench(tmp_path / name, embedder)
        opened.append(wb)
        return wb

    yield make
    for wb in opened:
        wb.close()


TOPICS = [
    (
        "lamp",
        "The lamp of the north harbour was rebuilt in the spring of 2019; its new lens "
        "throws a white flash every six seconds and is seen eleven nautical miles out.",
    ),
    (
        "storms",
        "The keeper counted forty-one storms in the first year and wrote each one in "
        "a blue logbook kept beside the stairs, with the wind's direction and the hour.",
    ),
    (
        "tides",
        "At neap tides the channel by the breakwater is too shallow for the ferry at "
        "low water; spring tides reach four metres and flood the lower quay.",
    ),
    (
        "orchard",
        "Quince and medlar trees grow behind the cottage; the quinces ripen in late "
        "October and are cooked into a dark paste that keeps through the winter.",
    ),
    (
        "ferry",
        "The ferry leaves the harbour at seven and returns at noon, except on Sundays, "
        "when it sails once, at ten, and carries the post.",
    ),
    (
        "boats",
        "Six fishing boats are moored in the inner basin; two of them still use sails "
        "and are tarred each March before the mackerel season.",
    ),
    (
        "school",
        "The village school has eleven pupils and one teacher, who also keeps the "
        "weather station on the roof and sends its readings weekly.",
    ),
    (
        "church",
        "The chapel on the headland was built from ship timbers; its bell came from "
        "a wreck in 1871 and is rung for fog.",
    ),
]


def write_corpus(folder: Path) -> list[Path]:
    """A PDF of one topic a page and a Markdown file of one topic a section: enough
    passages for a ranking to mean something, quick to embed."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    for name, text in TOPICS:
        words = (text + " ") * 6
        lines = [words[i : i + 90] for i in range(0, len(words), 90)]
        pages.append([f"Chapter: {name}", *lines])
    pdf = folder / "harbour-report.pdf"
    pdf.write_bytes(make_pdf(pages))
    md = folder / "notes.md"
    md.write_text(
        "\n\n".join(f"# Notes on the {name}\n\n{text} " * 3 for name, text in TOPICS),
        encoding="utf-8",
    )
    return [pdf, md]


def results(wb: Workbench) -> list[list[tuple[str, int | None, str, float]]]:
    """Every query's hits: file, page, text and score, in order."""
    return [
        [(h.source, h.page, h.text, round(h.score, 6)) for h in wb.documents.search(q, COLLECTION)]
        for q in QUERIES
    ]


def members(archive: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(archive) as tar:
        return [(m, tar.extractfile(m).read()) for m in tar.getmembers() if m.isfile()]  # type: ignore[union-attr]


def rewrite(archive: Path, out: Path, edit: Callable[[str, bytes], bytes]) -> None:
    """Write a copy of `archive` whose members are passed through `edit(name, data)`."""
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members(archive):
            data = edit(info.name, data)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def manifest_of(archive: Path) -> dict[str, object]:
    for info, data in members(archive):
        if info.name.endswith("/manifest.json"):
            return dict(json.loads(data))
    raise AssertionError("no manifest")
