"""`carrel self-check`: one line per check; exit status 0 only when every check passes."""

from __future__ import annotations

import argparse
import time
from typing import Any

from app.cli.output import print_json
from app.selfcheck import CheckResult, SelfCheck


def register(commands: Any) -> None:
    p = commands.add_parser(
        "self-check", help="check offline that the model, documents, keys and guard work"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()

    def show(result: CheckResult) -> None:
        if not args.json:
            print(result.describe(), flush=True)

    results = SelfCheck().run(show)
    passed = all(r.ok for r in results)
    seconds = time.perf_counter() - started
    if args.json:
        print_json({"ok": passed, "seconds": seconds, "checks": [r.as_dict() for r in results]})
    else:
        failed = sum(not r.ok for r in results)
        verdict = "all checks passed" if passed else f"{failed} of {len(results)} checks failed"
        print(f"self-check: {verdict} in {seconds:.1f} s")
    return 0 if passed else 1
