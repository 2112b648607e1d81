"""`carrel mcp`: Carrel's collections as MCP tools for local agent apps, over stdio.

Three tools — `list_collections`, `search` (passages with file, page and scores) and `ask`
(an answer from the on-device model citing its numbered sources) — run through the same
`ServerCore` as the HTTP server, so nothing here reaches past the Workbench and nothing
leaves the machine: an MCP client is a program, not a person who could consent.
"""

from __future__ import annotations

from typing import Any

import anyio

from app.server.options import ServerOptions
from app.server.service import ServerCore
from app.workbench import Workbench

INSTRUCTIONS = (
    "Carrel holds the person's documents in collections on this machine. Call "
    "list_collections first, then search a collection for passages, or ask it a question "
    "to get an answer that cites its sources as [n]."
)
ASK_MAX_TOKENS = 512


def build(wb: Workbench, model: str = "") -> tuple[Any, ServerCore]:
    """The MCP server (run it with `run_stdio_async`) and the core it uses (close it)."""
    from mcp.server.mcpserver import MCPServer

    core = ServerCore(wb, ServerOptions(model=model))
    server = MCPServer("carrel", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(description="The document collections on this machine, with their sizes.")
    async def list_collections() -> dict[str, Any]:
        return {"collections": await anyio.to_thread.run_sync(core.collections)}

    @server.tool(
        description="The passages of a collection that best match a query: file, page, "
        "character offsets, score and text."
    )
    async def search(collection: str, query: str, k: int = 5) -> dict[str, Any]:
        body = {"query": query, "k": k}
        return await anyio.to_thread.run_sync(core.search, collection, body)

    @server.tool(
        description="Answer a question from a collection with the on-device model; the "
        "answer cites its numbered sources as [n], listed in 'citations'."
    )
    async def ask(collection: str, question: str) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(core.answer, collection, question, ASK_MAX_TOKENS)

    return server, core


def run(wb: Workbench, model: str = "") -> None:
    """Serve MCP on stdin/stdout until the client closes them."""
    server, core = build(wb, model)
    try:
        anyio.run(server.run_stdio_async)
    finally:
        core.close()
