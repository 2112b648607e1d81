"""`carrel eval …`: evaluate models on the person's own documents and questions.

This module registers the command group and its test-set actions (`carrel eval sets
list|show|import|export|draft|edit`); runs, reports, perplexity, review and usage are in
`app.cli.eval_runs`. Everything goes through `app.evaluate.Evaluation` over the same
Workbench as the GUI, imported only when an eval command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli import eval_runs
from app.cli.output import print_json
from app.cli.session import workbench

if TYPE_CHECKING:
    from app.evaluate.service import Evaluation


@contextmanager
def evaluation() -> Iterator[Evaluation]:
    from app.evaluate.service import Evaluation

    with workbench() as wb:
        yield Evaluation(wb)


def register(commands: Any) -> None:
    group = commands.add_parser("eval", help="evaluate models on your own documents")
    sub = group.add_subparsers(dest="eval_command", metavar="ACTION", required=True)
    sets = sub.add_parser("sets", help="test sets: list, show, import, export, draft, edit")
    ssub = sets.add_subparsers(dest="sets_command", metavar="ACTION", required=True)

    ls = ssub.add_parser("list", help="the test sets")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)

    show = ssub.add_parser("show", help="a test set's questions")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_show)

    imp = ssub.add_parser("import", help="a new test set from a .csv or .jsonl file")
    imp.add_argument("name")
    imp.add_argument("file", type=Path)
    imp.add_argument("--collection", default="", help="the collection it asks about")
    imp.set_defaults(handler=run_import)

    exp = ssub.add_parser("export", help="a test set to a .csv or .jsonl file")
    exp.add_argument("name")
    exp.add_argument("file", type=Path)
    exp.set_defaults(handler=run_export)

    dr = ssub.add_parser("draft", help="draft questions from a collection's passages")
    dr.add_argument("name")
    dr.add_argument("--collection", required=True)
    dr.add_argument("--model", required=True, help="the model that writes the questions")
    dr.add_argument("-n", type=int, default=10, help="how many passages to draft from")
    dr.add_argument("--seed", type=int, default=0)
    dr.set_defaults(handler=run_draft)

    ed = ssub.add_parser("edit", help="accept, drop or reword a question")
    ed.add_argument("item", type=int, help="the item's number (carrel eval sets show)")
    ed.add_argument("--status", choices=("draft", "accepted", "dropped"))
    ed.add_argument("--question")
    ed.add_argument("--expected")
    ed.add_argument("--task")
    ed.set_defaults(handler=run_edit)

    eval_runs.register(sub)


def run_list(args: argparse.Namespace) -> int:
    with evaluation() as ev:
        sets = [ev.sets.get(n) for n in ev.sets.names()]
        if args.json:
            print_json(
                [{"name": s.name, "collection": s.collection, "items": len(s.items)} for s in sets]
            )
        else:
            for s in sets:
                print(s.describe())
            if not sets:
                print("No test sets yet: 'carrel eval sets import' or 'carrel eval sets draft'.")
        return 0


def run_show(args: argparse.Namespace) -> int:
    with evaluation() as ev:
        s = ev.sets.get(args.name)
        if args.json:
            print_json([{"id": i.id, **i.as_dict()} for i in s.items])
            return 0
        print(s.describe())
        for i in s.items:
            expected = f"  → {i.expected}" if i.expected else ""
            print(f"{i.id:>5} [{i.status}] {i.question}{expected}")
        return 0


def run_import(args: argparse.Namespace) -> int:
    with evaluation() as ev:
        s = ev.import_set(args.name, args.file, args.collection)
        print(f"Imported {len(s.items)} questions into '{s.name}'.")
        return 0


def run_export(args: argparse.Namespace) -> int:
    with evaluation() as ev:
        n = ev.export_set(args.name, args.file)
        print(f"Wrote {n} questions to {args.file}.")
        return 0


def run_draft(args: argparse.Namespace) -> int:
    def progress(k: int, total: int) -> None:
        sys.stderr.write(f"\rpassage {k}/{total}   ")

    with evaluation() as ev:
        before = len(ev.sets.get(args.name).items) if args.name in ev.sets.names() else 0
        s = ev.draft(
            args.name, args.collection, args.model, args.n, seed=args.seed, on_item=progress
        )
        sys.stderr.write("\n")
        print(
            f"Drafted {len(s.items) - before} questions into '{s.name}' (status draft): review "
            f"them with 'carrel eval sets show {s.name}' and accept with 'carrel eval sets edit'."
        )
        return 0


def run_edit(args: argparse.Namespace) -> int:
    with evaluation() as ev:
        ev.sets.edit(
            args.item,
            question=args.question,
            expected=args.expected,
            status=args.status,
            task=args.task,
        )
        print(f"Item {args.item} changed.")
        return 0
