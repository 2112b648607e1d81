"""`carrel retrieval list|download|embedder|reranker`: the embedding and reranking models
a collection may use, through the same Workbench as the GUI."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.output import print_json
from app.cli.session import workbench


def register(commands: Any) -> None:
    group = commands.add_parser("retrieval", help="embedding and reranking models")
    sub = group.add_subparsers(dest="retrieval_command", metavar="ACTION", required=True)

    ls = sub.add_parser("list", help="the retrieval models installed")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)

    get = sub.add_parser(
        "download", help="a sentence-transformers embedder or reranker from the hub, verified"
    )
    get.add_argument("repo")
    get.add_argument("--revision")
    get.add_argument("--json", action="store_true")
    get.set_defaults(handler=run_download)

    emb = sub.add_parser(
        "embedder", help="re-embed a collection with another embedder (searches go on)"
    )
    emb.add_argument("collection")
    emb.add_argument("model", help="a name from 'carrel retrieval list'")
    emb.add_argument("--json", action="store_true")
    emb.set_defaults(handler=run_embedder)

    rr = sub.add_parser("reranker", help="re-score a collection's searches with a reranker")
    rr.add_argument("collection")
    rr.add_argument("model", help="a name from 'carrel retrieval list', or 'none'")
    rr.set_defaults(handler=run_reranker)


def run_list(args: argparse.Namespace) -> int:
    with workbench() as wb:
        found = wb.documents.models.available()
        if args.json:
            print_json([m.as_dict() for m in found])
        for m in [] if args.json else found:
            print(m.describe())
        return 0


def run_download(args: argparse.Namespace) -> int:
    def progress(n: int, total: int, done: int) -> None:
        if not args.json:
            sys.stderr.write(f"\rfile {n + 1}/{total}, {done:,} bytes   ")

    with workbench() as wb:
        folder = wb.library.snapshot(args.repo, args.revision, progress)
        model = wb.documents.models.find(args.repo)
        if args.json:
            print_json(model.as_dict() if model else {"path": str(folder)})
        else:
            sys.stderr.write("\n")
            print(model.describe() if model else folder)
        return 0


def run_embedder(args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        if not args.json:
            sys.stderr.write(f"\rre-embedded {done:,} of {total:,} passages   ")

    with workbench() as wb:
        wb.documents.change_embedder(args.collection, args.model, progress)
        if args.json:
            print_json({"collection": args.collection, "embedder": args.model})
        else:
            sys.stderr.write("\n")
            print(f"'{args.collection}' is now embedded with {args.model}.")
        return 0


def run_reranker(args: argparse.Namespace) -> int:
    with workbench() as wb:
        name = "" if args.model == "none" else args.model
        wb.documents.set_reranker(args.collection, name)
        print(f"'{args.collection}' searches are re-ranked by {args.model}.")
        return 0
