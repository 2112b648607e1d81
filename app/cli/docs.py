"""`carrel docs add|list|remove`, `carrel search` and `carrel ask`: documents from scripts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.answer_steps import Step, reporting, small_model_note
from app.cli.output import ProgressLine, print_json
from app.cli.session import open_keys, read_secret, workbench
from app.errors import CarrelError
from app.rag.outcome import IngestProgress, state_label
from app.workbench import index_server_account


def register(commands: Any) -> None:
    docs = commands.add_parser("docs", help="document collections")
    sub = docs.add_subparsers(dest="docs_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="index files and folders into a collection")
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    add.add_argument("--collection", required=True)
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=run_add)

    server = sub.add_parser(
        "server", help="keep a collection on a Qdrant server or cluster (a team's), or back here"
    )
    server.add_argument("collection")
    server.add_argument("url", nargs="?", default="", help="e.g. https://qdrant.team:6333")
    server.add_argument("--prefix", default="carrel_", help="server collection name prefix")
    server.add_argument("--key", action="store_true", help="read its API key from stdin")
    server.add_argument("--local", action="store_true", help="back to this machine's disk")
    server.set_defaults(handler=run_server)

    ls = sub.add_parser("list", help="collections, or the files of one")
    ls.add_argument("--collection")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)

    rm = sub.add_parser("remove", help="take a file or folder out of a collection")
    rm.add_argument("path", type=Path, metavar="PATH")
    rm.add_argument("--collection", required=True)
    rm.add_argument("--json", action="store_true")
    rm.set_defaults(handler=run_remove)

    search = commands.add_parser("search", help="search a document collection")
    search.add_argument("query")
    search.add_argument("--collection", required=True)
    search.add_argument("--k", type=int, default=10)
    search.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=run_search)

    ask = commands.add_parser("ask", help="answer a question from a collection, with citations")
    ask.add_argument("question")
    ask.add_argument("--collection", required=True)
    ask.add_argument("--model", help="model name or .gguf path (default: settings)")
    ask.add_argument("--k", type=int, default=5)
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(handler=run_ask)


def run_add(args: argparse.Namespace) -> int:
    line = ProgressLine()

    def progress(p: IngestProgress) -> None:
        if p.event in ("file", "batch", "indexing", "waiting"):
            line(p.describe())

    try:
        with workbench() as wb:
            report = wb.documents.add(args.paths, args.collection, progress)
    finally:
        line.end()
    if args.json:
        print_json(report.as_dict())
    else:
        for f in report.files:
            print(f.describe())
        print(report.describe())
    return 1 if report.failed else 0


def run_server(args: argparse.Namespace) -> int:
    if not args.local and not args.url:
        raise CarrelError("Give the server's URL, or --local to keep the collection here.")
    with workbench() as wb:
        if args.key:
            account = index_server_account(args.collection)
            wb.privacy.set_key(account, read_secret("API key: "), open_keys(wb, False, create=True))
        wb.use_index_server(args.collection, "" if args.local else args.url, args.prefix)
    where = "this machine" if args.local else args.url
    print(f"'{args.collection}' now lives on {where}; add its files again to index them there.")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with workbench() as wb:
        if args.collection is None:
            summaries = wb.documents.summaries()
            if args.json:
                print_json([c.as_dict() for c in summaries])
            elif not summaries:
                print("No collections. Add files with 'carrel docs add PATH --collection NAME'.")
            for c in [] if args.json else summaries:
                print(c.describe())
            return 0
        files = wb.documents.files(args.collection)
    if args.json:
        print_json([f.as_dict() for f in files])
        return 0
    for f in files:
        extra = f"  {f.reason}" if f.reason else ""
        print(f"{state_label(f.status):<9} {f.chunks:>6} chunks  {f.source}{extra}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    with workbench() as wb:
        removed = wb.documents.remove(args.path, args.collection)
    if args.json:
        print_json({"removed": removed, "path": str(args.path.expanduser().resolve())})
    else:
        print("Removed." if removed else f"{args.path} is not in '{args.collection}'.")
    return 0 if removed else 1


def run_search(args: argparse.Namespace) -> int:
    line = ProgressLine()
    try:
        with workbench() as wb:
            hits = wb.documents.search(
                args.query, args.collection, args.k, mode=args.mode, waiting=line
            )
    finally:
        line.end()
    if args.json:
        print_json([h.as_dict() for h in hits])
        return 0
    for n, h in enumerate(hits, start=1):
        snippet = " ".join(h.text.split())[:200]
        rerank = f", reranker {h.rerank:.3f}" if h.rerank is not None else ""
        print(f"[{n}] {h.where}  ({h.score:.3f}{rerank})\n    {snippet}")
    return 0


def run_ask(args: argparse.Namespace) -> int:
    line = ProgressLine()
    with workbench() as wb:
        wb.load_model(args.model or wb.settings.model.default)
        note = "" if args.json else small_model_note(wb.loaded_model)
        if note:
            print(f"carrel: {note}", file=sys.stderr)

        def show(step: Step) -> None:
            if not args.json:
                line(step.describe())

        with reporting(show):
            result = wb.ask(args.question, args.collection, k=args.k)
        line.end()
    if args.json:
        print_json(result.as_dict())
        return 0
    print(result.checked().text)
    print()
    for c in result.citations:
        print(f"[{c.n}] {c.where}\n    {c.excerpt()}")
    return 0
