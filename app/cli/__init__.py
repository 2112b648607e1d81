"""The `carrel` command: the GUI with no arguments, subcommands for scripts.

Every subcommand uses the same `Workbench` as the GUI. A `CarrelError` ends the command
with its one-line message and exit status 1; usage errors exit with 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from app import __version__
from app.cli import chat, docs, mcp, models, redact, remote, retrieval, serve, system
from app.errors import CarrelError

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carrel",
        description="Carrel, a local-first AI workbench. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"carrel {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    chat.register(commands)
    models.register(commands)
    docs.register(commands)
    remote.register(commands)
    redact.register(commands)
    retrieval.register(commands)
    system.register(commands)
    serve.register(commands)
    mcp.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler: Handler | None = getattr(args, "handler", None)
    try:
        if handler is None:
            from app.cli import gui

            return gui.run()
        return handler(args)
    except CarrelError as exc:
        print(f"carrel: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
