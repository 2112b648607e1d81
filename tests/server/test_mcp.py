"""`carrel mcp` as a real process, driven by the `mcp` package's own client over stdio:
it lists its three tools, lists the collections, searches one and answers from it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

from app.config import Paths
from app.workbench import Workbench
from tests.server.conftest import COLLECTION, write_docs

ROOT = Path(__file__).resolve().parents[2]


def _result(call: Any) -> dict[str, Any]:
    assert not call.is_error, call.content
    if call.structured_content is not None:
        return dict(call.structured_content)
    return dict(json.loads(call.content[0].text))


def test_mcp_lists_tools_searches_and_answers(tmp_path: Path) -> None:
    home = tmp_path / "carrel"
    wb = Workbench.open(Paths.under(home))
    wb.documents.add(write_docs(tmp_path / "docs"), COLLECTION)
    wb.close()  # the shard is one process's at a time: the MCP process opens it next
    env = {
        name: os.environ[name]
        for name in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")
        if name in os.environ
    }
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "app", "mcp"],
        env={**env, "CARREL_HOME": str(home)},
        cwd=ROOT,
    )

    async def session() -> None:
        async with Client(params, read_timeout_seconds=600) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert tools == {"list_collections", "search", "ask"}
            listed = _result(await client.call_tool("list_collections", {}))
            assert [c["id"] for c in listed["collections"]] == [COLLECTION]
            found = _result(
                await client.call_tool(
                    "search", {"collection": COLLECTION, "query": "oldest bridge", "k": 2}
                )
            )
            assert found["data"][0]["file"].endswith("kettle.md")
            assert "1652" in found["data"][0]["text"]
            answer = _result(
                await client.call_tool(
                    "ask", {"collection": COLLECTION, "question": "What glows blue at night?"}
                )
            )
            assert answer["answer"] and answer["citations"]
            assert any("glow" in c["text"] for c in answer["citations"])

    anyio.run(session)
