"""`carrel serve`: the OpenAI-compatible local server, headless, until Ctrl+C.

It listens on 127.0.0.1 unless told otherwise; another address needs the token made with
`--new-token` (kept in the key store; shown in full only then, afterwards by its last four
characters). Each request is printed as one line as it ends.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from app import netguard
from app.cli import session
from app.server import options as opts

if TYPE_CHECKING:  # Starlette and uvicorn load only when the server starts
    from app.server.requestlog import Entry
    from app.workbench import Workbench


def register(commands: Any) -> None:
    p = commands.add_parser("serve", help="serve models and collections over the OpenAI API")
    p.add_argument("--host", default=opts.DEFAULT_HOST, help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=opts.DEFAULT_PORT, help="port (8765; 0: any)")
    p.add_argument("--model", default="", help="model for requests that name none")
    p.add_argument(
        "--idle-minutes",
        type=float,
        default=None,
        help="unload the model after this long without a request (default: as set in "
        "the window's Server page, else 10)",
    )
    p.add_argument(
        "--cors", action="append", default=[], metavar="ORIGIN", help="allow a web origin"
    )
    p.add_argument("--max-tokens", type=int, default=opts.MAX_TOKENS_CAP, help="largest reply")
    token = p.add_mutually_exclusive_group()
    token.add_argument("--new-token", action="store_true", help="make a new token and exit")
    token.add_argument("--show-token", action="store_true", help="print the token and exit")
    token.add_argument("--forget-token", action="store_true", help="remove the token and exit")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    netguard.install()
    with session.workbench() as wb:
        return _serve(wb, args)


def _serve(wb: Workbench, args: argparse.Namespace) -> int:
    if args.new_token:
        print(opts.new_token(wb))
        return 0
    if args.show_token:
        print(opts.saved_token(wb) or "No token is set; make one with --new-token.")
        return 0
    if args.forget_token:
        print("Token removed." if opts.forget_token(wb) else "No token was set.")
        return 0
    from app.server.runner import LocalServer

    token = opts.saved_token(wb)
    idle_minutes = args.idle_minutes
    if idle_minutes is None:  # as set on the window's Server page
        idle_minutes = wb.settings.server.idle_unload_minutes
    options = opts.ServerOptions(
        host=args.host,
        port=args.port,
        model=args.model,
        token=token,
        cors_origins=tuple(args.cors),
        max_tokens_cap=args.max_tokens,
        idle_unload_s=idle_minutes * 60,
    )
    server = LocalServer(wb, options)
    server.requests.listeners.append(_print)
    idle = f"{options.idle_unload_s / 60:g} min"
    try:  # Ctrl+C stops it cleanly from the moment it listens, even mid-line
        server.start()
        print(
            f"Serving on {server.url} (token {opts.token_hint(token)}; a model it loaded is "
            f"unloaded after {idle} idle); Ctrl+C stops.",
            file=sys.stderr,
            flush=True,
        )
        server.wait()
    except KeyboardInterrupt:
        print("Stopping…", file=sys.stderr)
    finally:
        server.stop()
    return 0


def _print(entry: Entry) -> None:
    print(entry.describe(), file=sys.stderr, flush=True)
