"""The `carrel` command: the GUI with no arguments, subcommands for scripts.

Every subcommand uses the same `Workbench` as the GUI. A `CarrelError` ends the command
with its one-line message and exit status 1; usage errors exit with 2. Anything else is a
bug: its traceback goes to `carrel.log` in the logs folder and the person is shown one
line saying where (status 1). Output cut short by its reader (`| head`) ends quietly.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from app import __version__
from app.cli import (
    bundle,
    chat,
    conversation,
    docs,
    eval_sets,
    mcp,
    models,
    redact,
    remote,
    retrieval,
    selfcheck,
    serve,
    system,
)
from app.config import Paths
from app.errors import CarrelError
from app.logs import LogFile, unexpected_message

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
    conversation.register(commands)
    models.register(commands)
    docs.register(commands)
    remote.register(commands)
    redact.register(commands)
    retrieval.register(commands)
    system.register(commands)
    bundle.register(commands)
    selfcheck.register(commands)
    serve.register(commands)
    mcp.register(commands)
    eval_sets.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        from app.cli import gui

        return gui.run()
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(logging.INFO if args.verbose else logging.WARNING)
    terminal.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(terminal)
    logs = LogFile(Paths.default().logs_dir)
    try:
        status = handler(args)
        sys.stdout.flush()  # here, so a reader that went away is caught below
        return status
    except CarrelError as exc:
        print(f"carrel: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 141  # as a process ended by SIGPIPE
    except Exception as exc:
        logs.record_unexpected(exc)
        print(f"carrel: {unexpected_message(logs.path, exc)}", file=sys.stderr)
        return 1
    finally:
        logging.getLogger().removeHandler(terminal)
        logs.close()


def _quiet_stdout() -> None:
    """Point standard output at the null device: the reader is gone, and the flush at
    exit must not print a second error."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):  # no real file descriptor (in-process tests)
        pass
