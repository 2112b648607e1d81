"""One real server per module: a Workbench in its own folder with a small collection,
SmolLM2 as the model, uvicorn on a free loopback port, the official `openai` client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

from app.config import Paths
from app.server.options import ServerOptions
from app.server.runner import LocalServer
from app.workbench import Workbench

MODEL = "SmolLM2-135M-Instruct.Q4_1"
COLLECTION = "rivers"

DOCS = {
    "kettle.md": (
        "# The Kettle river\n\nThe Kettle river rises in the Ombra hills and is 212 kilometres "
        "long. Its water is famous for a green colour that comes from copper in the rocks.\n\n"
        "## Bridges\n\nThe oldest bridge over the Kettle was built in 1652 at Farrow.\n"
    ),
    "lantern.md": (
        "# Lantern fish of the Kettle\n\nLantern fish live only in the lower Kettle. They glow "
        "blue at night and feed on river shrimp. Fishing them has been forbidden since 1998.\n"
    ),
}


@dataclass
class Served:
    wb: Workbench
    server: LocalServer
    client: openai.OpenAI
    docs: Path


def write_docs(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in DOCS.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("served")
    wb = Workbench.open(Paths.under(home / "carrel"))
    docs = home / "docs"
    wb.documents.add(write_docs(docs), COLLECTION)
    server = LocalServer(wb, ServerOptions(port=0, model=MODEL)).start()
    client = openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=600)
    yield Served(wb, server, client, docs)
    client.close()
    server.stop()
    wb.close()
