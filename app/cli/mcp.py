"""`carrel mcp`: Carrel's collections as MCP tools on stdin/stdout, for local agent apps
(list_collections, search, ask). Logs go to stderr; stdout carries the protocol only."""

from __future__ import annotations

import argparse
from typing import Any

from app import netguard
from app.cli import session


def register(commands: Any) -> None:
    p = commands.add_parser("mcp", help="serve collections as MCP tools over stdio")
    p.add_argument("--model", default="", help="model that answers 'ask' (default: settings)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from app.server import mcp

    netguard.install()
    with session.workbench() as wb:
        mcp.run(wb, args.model)
    return 0
