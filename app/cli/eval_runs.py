"""`carrel eval run|resume|runs|report|price|perplexity|review|usage`: runs of a test set
by contestants, their report and routes, quantization loss, blind review in the terminal,
and the usage of everyday replies. Registered by `app.cli.eval_sets`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.output import print_json

if TYPE_CHECKING:
    from app.evaluate.runner import RunJob
    from app.evaluate.service import Evaluation
    from app.privacy.gate import Consent, Preview


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="answer a test set with each contestant")
    run.add_argument("set")
    run.add_argument(
        "-c",
        "--contestant",
        action="append",
        required=True,
        help="local:MODEL[?ctx=N&gpu=N&kv=TYPE&k=N&mode=MODE] or remote:ENDPOINT[?k=N]",
    )
    run.add_argument("--max-tokens", type=int, default=128)
    run.add_argument("--judge", default="", help="a model that grades answers 1–5")
    run.add_argument("--name", default="")
    _consent_flag(run)
    run.set_defaults(handler=run_run)

    res = sub.add_parser("resume", help="finish a run that was stopped or killed")
    res.add_argument("run", type=int)
    _consent_flag(res)
    res.set_defaults(handler=run_resume)

    runs = sub.add_parser("runs", help="the runs so far")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(handler=run_runs)

    rep = sub.add_parser("report", help="a run's table, plots and suggested routes")
    rep.add_argument("run", type=int)
    rep.add_argument("--html", type=Path, help="write the self-contained HTML report here")
    rep.add_argument("--csv", type=Path, help="write every answer with its figures here")
    rep.add_argument("--max-latency-ms", type=float)
    rep.add_argument("--max-cost", type=float, help="per answer, in the price table's unit")
    rep.add_argument("--apply-routes", action="store_true", help="make the suggestion the routes")
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(handler=run_report)

    price = sub.add_parser("price", help="what an endpoint charges per million tokens")
    price.add_argument("endpoint")
    price.add_argument("input_per_mtok", type=float)
    price.add_argument("output_per_mtok", type=float)
    price.set_defaults(handler=run_price)

    ppl = sub.add_parser("perplexity", help="each installed quant level over a collection")
    ppl.add_argument("model")
    ppl.add_argument("collection")
    ppl.add_argument("-n", "--passages", type=int, default=16)
    ppl.add_argument("--json", action="store_true")
    ppl.set_defaults(handler=run_perplexity)

    rev = sub.add_parser("review", help="blind side-by-side review: a, b, t(ie), n(either)")
    rev.add_argument("run", type=int)
    rev.set_defaults(handler=run_review)

    use = sub.add_parser("usage", help="everyday replies per model and route")
    use.add_argument("--period", choices=("day", "week", "month"), default="day")
    use.add_argument("--csv", type=Path, help="write every recorded reply here")
    use.add_argument("--json", action="store_true")
    use.set_defaults(handler=run_usage)


def _consent_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--approve-remote",
        action="store_true",
        help="approve a remote contestant's requests for this run (each is in the ledger)",
    )


def _consent(approve: bool) -> Any:
    """Ask at the terminal before a remote request leaves (or approve the run's requests
    when the person said so with --approve-remote); no terminal and no flag: refuse."""
    from app.privacy.gate import Consent

    def ask(preview: Preview) -> Consent:
        if approve:
            return Consent.CONVERSATION
        if not sys.stdin.isatty():
            return Consent.REFUSE
        sys.stderr.write(preview.render() + "\nSend? [y = this run / N]: ")
        return Consent.CONVERSATION if input().strip().lower() == "y" else Consent.REFUSE

    return ask


def _execute(ev: Evaluation, run_id: int, approve: bool) -> int:
    def progress(p: Any) -> None:
        sys.stderr.write(f"\r{p.describe()}    ")

    ev.wb.privacy.ask_with(_consent(approve))
    job: RunJob = ev.job(run_id, progress)
    try:
        status = job.execute()
    except KeyboardInterrupt:
        job.cancel()
        ev.runs.set_status(run_id, "cancelled")
        status = "cancelled"
    sys.stderr.write("\n")
    if status == "cancelled":
        print(f"Run {run_id} stopped; 'carrel eval resume {run_id}' finishes it.")
        return 130
    errors = sum(1 for r in ev.runs.results(run_id) if r.error)
    tail = f" ({errors} answers failed: see the report)" if errors else ""
    print(f"Run {run_id} finished{tail}. 'carrel eval report {run_id} --html report.html'")
    return 0


def run_run(args: argparse.Namespace) -> int:
    from app.cli.eval_sets import evaluation

    with evaluation() as ev:
        run = ev.create_run(
            args.set,
            list(args.contestant),
            params={"max_tokens": args.max_tokens},
            judge=args.judge,
            name=args.name,
        )
        print(f"Run {run.id}: {len(run.contestants)} contestants.", file=sys.stderr)
        return _execute(ev, run.id, args.approve_remote)


def run_resume(args: argparse.Namespace) -> int:
    from app.cli.eval_sets import evaluation

    with evaluation() as ev:
        return _execute(ev, args.run, args.approve_remote)


def run_runs(args: argparse.Namespace) -> int:
    from app.cli.eval_sets import evaluation

    with evaluation() as ev:
        runs = ev.runs.all()
        if args.json:
            print_json(
                [
                    {
                        "id": r.id,
                        "name": r.name,
                        "status": r.status,
                        "contestants": [c.key for c in r.contestants],
                    }
                    for r in runs
                ]
            )
        for r in [] if args.json else runs:
            print(r.describe())
        return 0


def run_report(args: argparse.Namespace) -> int:
    from app.cli.eval_sets import evaluation

    with evaluation() as ev:
        report = ev.report(args.run, max_latency_ms=args.max_latency_ms, max_cost=args.max_cost)
        if args.html:
            _write(args.html, report.html())
        if args.csv:
            _write(args.csv, report.csv())
        if args.apply_routes:
            ev.apply_routes(report.rules)
        if args.json:
            print_json(
                {
                    "summaries": [s.row() for s in report.summaries],
                    "win_rates": [w.__dict__ for w in report.win_rates],
                    "routes": [r.__dict__ for r in report.rules],
                }
            )
            return 0
        for s in report.overall():
            row = s.row()
            print(
                f"{s.contestant}: quality {row['quality']}, {row['total_ms']} ms, "
                f"{row['tokens_per_s']} tok/s, hit {row['retrieval_hit']}, cost {row['cost']}"
            )
        for w in report.win_rates:
            print(w.describe())
        for rule in report.rules:
            print("route " + rule.describe())
        if args.apply_routes:
            print("The suggested routes are applied.")
        return 0


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    print(f"Wrote {path}.", file=sys.stderr)


def run_price(args: argparse.Namespace) -> int:
    from app.cli.eval_sets import evaluation

    with evaluation() as ev:
        ev.set_price(args.endpoint, args.input_per_mtok, args.output_per_mtok)
        print(
            f"{args.endpoint}: {args.input_per_mtok:g} in, {args.output_per_mtok:g} out "
            "per million tokens."
        )
        return 0


def run_perplexity(args: argparse.Namespace) -> int:
    from app.cli.eval_sets import evaluation

    with evaluation() as ev:
        found = ev.perplexity(
            args.model,
            args.collection,
            passages=args.passages,
            on_model=None if args.json else lambda p: print(p.describe()),
        )
        if args.json:
            print_json([p.__dict__ for p in found])
        return 0


def run_review(args: argparse.Namespace) -> int:
    from app.cli.eval_sets import evaluation

    keys = {"a": "A", "b": "B", "t": "tie", "n": "both-bad"}
    with evaluation() as ev:
        reviews = ev.reviews(args.run)
        while (pair := reviews.next_pair()) is not None:
            print(f"\nQ: {pair.question}\n\n[A] {pair.answer_a}\n\n[B] {pair.answer_b}\n")
            answer = ""
            while answer not in keys:
                sys.stdout.write("a / b / t(ie) / n(either good), q to stop: ")
                sys.stdout.flush()
                answer = sys.stdin.readline().strip().lower()
                if answer in ("q", ""):
                    return 0
            v = reviews.vote(pair.token, keys[answer])
            print(f"A was {v.a}, B was {v.b}.")
        print("Every pair has a verdict.")
        return 0


def run_usage(args: argparse.Namespace) -> int:
    from app.cli.eval_sets import evaluation

    with evaluation() as ev:
        if args.csv:
            _write(args.csv, ev.usage.export_csv())
        rows = ev.usage.summary(args.period)
        if args.json:
            print_json([r.__dict__ for r in rows])
            return 0
        for r in rows:
            print(r.describe())
        if not rows:
            print("No replies recorded yet.")
        return 0
