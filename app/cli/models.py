"""`carrel models …`: the model library from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.models_ext import register_actions
from app.cli.output import human_size, print_json
from app.workbench import Workbench


def register(commands: Any) -> None:
    p = commands.add_parser("models", help="the installed models")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="list installed models")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=list_models)
    register_actions(sub)


def list_models(args: argparse.Namespace) -> int:
    wb = Workbench.open()
    try:
        models = wb.models()
        if args.json:
            print_json([m.as_dict() for m in models])
            return 0
        if not models:
            print(f"No models. Put .gguf files in {wb.paths.models_dir}.")
            return 0
        width = max(len(m.name) for m in models)
        for m in models:
            line = (
                f"{m.name:<{width}}  {m.architecture:<8} {m.quant:<7} {human_size(m.size):>9}  "
                f"ctx {m.context_length:<6} {m.license or '-':<12} "
                f"{'chat' if m.has_chat_template else 'base'}"
            )
            if m.problem:
                line += f"  ! {m.problem}"
            print(line)
        return 0
    finally:
        wb.close()
