"""`carrel redact`: standard input as a remote endpoint would receive it under the current
privacy settings, so a person (or their compliance office) can check a document before
switching a remote endpoint on. Nothing is sent anywhere and nothing is written.

With `--json`: `{"text": …, "spans": [{"start", "end", "kind", "placeholder"}]}`, offsets
in characters (Unicode code points) into the input. What redaction does not look for
(names without a names model, national phone numbers without a region) is said on
standard error.

The same command sets the redaction settings the Settings page sets: `--set-region`,
`--import-names FOLDER`, `--forget-names`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cli.output import print_json
from app.cli.session import workbench
from app.privacy.redact import RedactionMap, Redactor


def register(commands: Any) -> None:
    p = commands.add_parser(
        "redact", help="print standard input as a remote endpoint would receive it"
    )
    p.add_argument("--json", action="store_true", help="the text and the replaced spans")
    p.add_argument("--region", help="phone region for this run only (e.g. DE; default: settings)")
    setting = p.add_mutually_exclusive_group()
    setting.add_argument(
        "--set-region", metavar="CC", help="save the phone region (two letters, or 'auto')"
    )
    setting.add_argument(
        "--import-names", type=Path, metavar="FOLDER", help="use a spaCy pipeline from disk"
    )
    setting.add_argument("--forget-names", action="store_true", help="stop detecting names")
    p.set_defaults(handler=redact)


def redact(args: argparse.Namespace) -> int:
    with workbench() as wb:
        privacy = wb.privacy
        if args.set_region is not None:
            region = "" if args.set_region.lower() == "auto" else args.set_region
            privacy.set_phone_region(region)
            shown = privacy.redactor().region or "none (only numbers with a country code)"
            print(f"Phone numbers are read for region {shown}.")
            return 0
        if args.import_names is not None:
            folder = privacy.import_names_model(args.import_names)
            print(f"Names, places and organisations are now found with {folder.name}.")
            return 0
        if args.forget_names:
            privacy.forget_names_model()
            print("Names are no longer detected; add the ones that matter as your own terms.")
            return 0
        return _run(privacy.redactor(args.region), sys.stdin.read(), args.json)


def _run(redactor: Redactor, text: str, as_json: bool) -> int:
    mapping = RedactionMap()
    mapping.reserve([text])
    spans = redactor.find(text)
    out = redactor.redact(text, mapping)
    for notice in redactor.notices:
        print(f"carrel: note: {notice}", file=sys.stderr)
    if as_json:
        rows = [
            {**s.as_dict(), "placeholder": mapping.by_original[text[s.start : s.end]].placeholder}
            for s in spans
        ]
        print_json({"text": out, "spans": rows})
    else:
        sys.stdout.write(out)
    return 0
