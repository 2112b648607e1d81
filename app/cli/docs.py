"""`carrel docs add|list|remove`, `carrel search` and `carrel ask`: documents from scripts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app import netguard
from app.cli.output import print_json
from app.config import Paths
from app.errors import CarrelError
from app.rag.outcome import Progress
from app.rag.service import Documents
from app.store import Store


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


def _open() -> tuple[Store, Documents]:
    from app.privacy.service import Privacy
    from app.workbench import index_server_account

    paths = Paths.default().ensure()
    store = Store(paths.database)
    privacy = Privacy(paths, store)

    def server_key(name: str) -> str | None:
        try:
            return privacy.keys().get(index_server_account(name))
        except CarrelError:
            return None

    return store, Documents(paths, store, server_key=server_key)


def _progress(p: Progress) -> None:
    if p.event in ("file", "batch"):
        eta = f", ETA {p.eta_s:.0f} s" if p.eta_s is not None else ""
        sys.stderr.write(
            f"\r{p.files_done}/{p.files_total} files, {p.chunks} chunks, "
            f"{p.rate:.1f} chunks/s{eta}   "
        )
        sys.stderr.flush()


def run_add(args: argparse.Namespace) -> int:
    netguard.install()
    store, docs = _open()
    try:
        report = docs.add(args.paths, args.collection, None if args.json else _progress)
        if args.json:
            print_json(report.as_dict())
            return 0
        sys.stderr.write("\n")
        for f in report.files:
            line = f"{f.status:<9} {f.source}"
            if f.chunks:
                line += f"  ({f.pages} pages, {f.chunks} chunks)"
            if f.reason:
                line += f"  {f.reason}"
            print(line)
        d = report.as_dict()
        print(
            f"{d['indexed']} indexed, {d['unchanged']} unchanged, {d['failed']} failed, "
            f"{d['needs_ocr']} need OCR, {d['removed']} removed in {report.seconds:.1f} s."
        )
        return 0
    finally:
        docs.close()
        store.close()


def run_server(args: argparse.Namespace) -> int:
    from app.cli.remote import KeySession, read_secret, with_key_session
    from app.workbench import Workbench, index_server_account

    if not args.local and not args.url:
        raise CarrelError("Give the server's URL, or --local to keep the collection here.")
    if args.key:

        def store_key(s: KeySession, _a: argparse.Namespace) -> int:
            s.keys(False, create=True).set(
                index_server_account(args.collection), read_secret("API key: ")
            )
            return 0

        with_key_session(args, store_key)
    wb = Workbench.open()
    try:
        wb.use_index_server(args.collection, "" if args.local else args.url, args.prefix)
    finally:
        wb.close()
    where = "this machine" if args.local else args.url
    print(f"'{args.collection}' now lives on {where}; add its files again to index them there.")
    return 0


def run_list(args: argparse.Namespace) -> int:
    store, docs = _open()
    try:
        if args.collection is None:
            rows = [
                {
                    "name": c.name,
                    "embedder": c.embedder,
                    "files": len(docs.records.files(c.name)),
                    "chunks": sum(f.chunks for f in docs.records.files(c.name)),
                }
                for c in docs.collections()
            ]
            if args.json:
                print_json(rows)
            elif not rows:
                print("No collections. Add files with 'carrel docs add PATH --collection NAME'.")
            for r in [] if args.json else rows:
                print(f"{r['name']}  {r['files']} files, {r['chunks']} chunks  ({r['embedder']})")
            return 0
        files = docs.files(args.collection)
        if args.json:
            print_json([f.as_dict() for f in files])
            return 0
        for f in files:
            extra = f"  {f.reason}" if f.reason else ""
            print(f"{f.status:<9} {f.chunks:>6} chunks  {f.source}{extra}")
        return 0
    finally:
        docs.close()
        store.close()


def run_remove(args: argparse.Namespace) -> int:
    store, docs = _open()
    try:
        removed = docs.remove(args.path, args.collection)
        if args.json:
            print_json({"removed": removed, "path": str(args.path.expanduser().resolve())})
        else:
            print("Removed." if removed else f"{args.path} is not in '{args.collection}'.")
        return 0 if removed else 1
    finally:
        docs.close()
        store.close()


def run_search(args: argparse.Namespace) -> int:
    netguard.install()
    store, docs = _open()
    try:
        hits = docs.search(args.query, args.collection, args.k, mode=args.mode)
        if args.json:
            print_json([h.as_dict() for h in hits])
            return 0
        for n, h in enumerate(hits, start=1):
            snippet = " ".join(h.text.split())[:200]
            rerank = f", reranker {h.rerank:.3f}" if h.rerank is not None else ""
            print(f"[{n}] {h.where}  ({h.score:.3f}{rerank})\n    {snippet}")
        return 0
    finally:
        docs.close()
        store.close()


def run_ask(args: argparse.Namespace) -> int:
    netguard.install()
    from app.workbench import Workbench

    wb = Workbench.open()
    docs = Documents(wb.paths, wb.store)
    try:
        wb.load_model(args.model or wb.settings.model.default)
        result = docs.ask(args.question, args.collection, wb.complete, k=args.k)
        if args.json:
            print_json(result.as_dict())
            return 0
        print(result.answer)
        print()
        for n, c in enumerate(result.citations, start=1):
            print(f"[{n}] {c.where}")
        return 0
    finally:
        docs.close()
        wb.close()
