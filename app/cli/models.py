"""`carrel models list|catalog|import|info|verify|remove|quantize`: the installed models.
Reaching the hub (search, files, download, token) is `app.cli.hub`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.cli import hub
from app.cli.output import print_json
from app.cli.session import workbench
from app.library.listings import INFO_KEYS
from app.units import human_size

Handler = Callable[[argparse.Namespace], int]


def register(commands: Any) -> None:
    p = commands.add_parser("models", help="the installed models, and the hub")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    add = _adder(sub)
    add("list", "list installed models", list_models)
    add("catalog", "the curated list of recommended models", catalog)
    p = add("import", "import a GGUF file or folder", import_)
    p.add_argument("path", type=Path)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--copy", action="store_true", help="copy into the library (default)")
    mode.add_argument("--link", action="store_true", help="reference the file in place")
    p = add("info", "show everything known about a model", info)
    p.add_argument("name")
    p.add_argument("--ctx", type=int, default=4096)
    p = add("verify", "re-check a model's header and SHA-256", verify)
    p.add_argument("name")
    p = add("remove", "delete a model from the library", remove)
    p.add_argument("name")
    p = add("quantize", "quantize a model with llama.cpp", quantize)
    p.add_argument("name")
    p.add_argument("--to", required=True, metavar="LEVEL", dest="level")
    p.add_argument(
        "--no-measure", action="store_true", help="skip timing tokens/s of source and result"
    )
    hub.register_actions(sub, add)


def _adder(sub: Any) -> Callable[[str, str, Handler], Any]:
    """Adds an action with `--json` to the `models` subcommands."""

    def add(name: str, help_: str, handler: Handler) -> Any:
        p = sub.add_parser(name, help=help_)
        p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(handler=handler)
        return p

    return add


def list_models(args: argparse.Namespace) -> int:
    with workbench() as wb:
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


def catalog(args: argparse.Namespace) -> int:
    with workbench() as wb:
        entries = wb.library.catalog()
    if args.json:
        print_json([e.as_dict() for e in entries])
        return 0
    for e in entries:
        print(f"{e.name:<36} {e.category:<17} {e.license:<14} {', '.join(e.use)}")
    return 0


def import_(args: argparse.Namespace) -> int:
    """Import each GGUF the path names; a bad one is said on stderr, the rest go on (exit
    status 1 if any failed)."""
    with workbench() as wb:
        report = wb.library.import_each(args.path, link=args.link)
    for path, exc in report.failed:
        print(f"carrel: not imported {path.name}: {exc.message}", file=sys.stderr)
    if report.duplicates:
        print(f"carrel: {report.warning()}", file=sys.stderr)
    if args.json:
        print_json([r.as_dict() for r in report.imported])
        return 1 if report.failed else 0
    for r in report.imported:
        how = "linked" if r.linked else "copied"
        print(f"Imported {r.name} ({how}, {human_size(r.size)}, sha256 {r.sha256[:16]}…)")
    return 1 if report.failed else 0


def info(args: argparse.Namespace) -> int:
    with workbench() as wb:
        data = wb.library.info(args.name, args.ctx)
    if args.json:
        print_json(data)
        return 0
    for key in INFO_KEYS:
        print(f"{key:<20} {data.get(key)}")
    if "fit" in data:
        print(f"{'fit':<20} {data['fit']['summary']}")
    return 0


def verify(args: argparse.Namespace) -> int:
    with workbench() as wb:
        found = wb.library.verify_model(args.name)
    record = found.record
    if args.json:
        print_json(
            {"name": record.name, "ok": True, "sha256": record.sha256, "compared": found.compared}
        )
    else:
        print(found.describe())
    return 0


def remove(args: argparse.Namespace) -> int:
    with workbench() as wb:
        wb.library.remove(args.name)
    if args.json:
        print_json({"removed": args.name})
    else:
        print(f"Removed {args.name}.")
    return 0


def quantize(args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        if not args.json:
            print(f"\rquantizing: tensor {done}/{total}   ", end="", file=sys.stderr, flush=True)

    def phase(name: str) -> None:
        if not args.json:
            print("\rmeasuring tokens/s of source and result…   ", end="", file=sys.stderr)

    with workbench() as wb:
        lib = wb.library
        job, warning = lib.start_quantize(
            args.name, args.level, progress, measure=not args.no_measure, on_phase=phase
        )
        if warning:
            print(f"Warning: {warning}", file=sys.stderr)
        parent = lib.model(args.name).name
        try:
            record = lib.finish_quantize(job, parent)
        except KeyboardInterrupt:
            job.cancel()
            raise
    compared = record.comparison()
    if args.json:
        print_json({**record.as_dict(), "warning": warning, "comparison": compared})
        return 0
    print(f"\nWrote {record.name} ({human_size(record.size)}) from {parent}.")
    if compared is not None and record.tokens_per_s:
        print(f"{'':<10} {'size':>10} {'tokens/s':>9}")
        for label, size, tps in (
            ("source", record.parent_size, record.parent_tokens_per_s),
            ("result", record.size, record.tokens_per_s),
        ):
            print(f"{label:<10} {human_size(size):>10} {tps:>9.1f}")
    return 0
