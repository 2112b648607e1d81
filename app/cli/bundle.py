"""`carrel bundle export|import`: models and collections carried to an air-gapped machine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.bundle import BundleProgress
from app.bundle.place import Choice
from app.cli.output import print_json
from app.workbench import Workbench


def register(commands: Any) -> None:
    p = commands.add_parser(
        "bundle", help="carry models and collections to a machine with no network"
    )
    sub = p.add_subparsers(dest="bundle_command", metavar="ACTION", required=True)

    export = sub.add_parser("export", help="write models and collections into one bundle")
    export.add_argument("--models", nargs="+", default=[], metavar="NAME")
    export.add_argument("--collections", nargs="+", default=[], metavar="NAME")
    export.add_argument("--out", required=True, type=Path, metavar="FILE")
    export.add_argument("--json", action="store_true")
    export.set_defaults(handler=run_export)

    take = sub.add_parser("import", help="verify a bundle, then add what it holds")
    take.add_argument("archive", type=Path, metavar="FILE")
    choice = take.add_mutually_exclusive_group()
    choice.add_argument(
        "--replace", action="store_true", help="replace models and collections you already have"
    )
    choice.add_argument("--skip", action="store_true", help="keep yours and skip those")
    take.add_argument("--json", action="store_true")
    take.set_defaults(handler=run_import)


def _progress(p: BundleProgress) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r{p.describe()[:100]:<100}")
        sys.stderr.flush()


def run_export(args: argparse.Namespace) -> int:
    wb = Workbench.open()
    try:
        report = wb.bundles().export(
            args.out.expanduser(), args.models, args.collections, _progress
        )
    finally:
        _end_line()
        wb.close()
    if args.json:
        print_json(report.as_dict())
    else:
        print(f"Bundle: {report.describe()}.")
    return 0


def run_import(args: argparse.Namespace) -> int:
    choice: Choice | None = "replace" if args.replace else "skip" if args.skip else None
    wb = Workbench.open()
    try:
        report = wb.bundles().import_bundle(args.archive.expanduser(), choice, _progress)
    finally:
        _end_line()
        wb.close()
    if args.json:
        print_json(report.as_dict())
    else:
        print(
            f"Bundle {args.archive.name} verified (SHA-256 {report.sha256}): {report.describe()}."
        )
    return 0


def _end_line() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\n")
