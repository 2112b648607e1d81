"""`carrel system`: where llama.cpp can run models here, and whether the default model fits.

The backend this build of llama.cpp was made for, the devices ggml lists with their free
and total memory, the CPU features the build uses and the thread count; then the fit of
the default model (or `--model`) against those figures.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.output import print_json
from app.errors import CarrelError
from app.workbench import Workbench


def register(commands: Any) -> None:
    p = commands.add_parser("system", help="the llama.cpp build, its devices and their memory")
    p.add_argument("--model", help="the model whose fit to show (default: settings)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    wb = Workbench.open()
    try:
        report = wb.system_report()
        name = args.model or wb.settings.model.default
        fit: dict[str, Any] | None = None
        problem = ""
        try:
            options = wb.load_options(wb.registry.resolve(name).name)
            fit = wb.library.fit(name, options)
        except CarrelError as exc:
            problem = exc.message
    finally:
        wb.close()
    if args.json:
        out = report.as_dict()
        out["model"] = {"name": name, "fit": fit, "problem": problem}
        print_json(out)
        return 0
    print(report.describe())
    if fit is not None:
        print(f"{name}: {fit['summary']}")
    else:
        print(f"{name}: {problem}")
    return 0
