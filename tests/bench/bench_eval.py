"""Evaluation figures: `python -m tests.bench.bench_eval [--questions 50] [--rounds 9]
[--threads N]`, printed as JSON (`--questions 0`: the overhead alone). Not collected by
pytest.

1. The overhead of measuring: decode tokens/s of a run's answer (`RunJob`, with its
   memory sampler and retrieval) against the chat path's (`Workbench.reply` in a
   conversation tied to the same collection), same model, same question, same passages
   count, same seed and length, interleaved round by round (the machine is shared); the
   figure is the median of the per-round ratios.
2. Wall time of a run of N questions × 2 local contestants (SmolLM2 Q4_1, Gemma 3 270M
   Q4_K_M), 64 tokens per answer, with the collection's retrieval.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from app.engine.backend import Done
from app.evaluate.sets import Gold, Item
from tests.evaluate.conftest import FILES, GEMMA, QUESTIONS, SMOL

MAX_TOKENS = 64
# Longer answers for the tokens/s comparison: a decode of ~2 s, less noise per round.
OVERHEAD_TOKENS = 128


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument(
        "--threads",
        type=int,
        default=0,
        help="llama.cpp threads (0: physical cores); 1 on a loaded machine",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CARREL_HOME"] = str(Path(tmp) / "home")
        from app.evaluate.service import Evaluation
        from app.workbench import Workbench

        wb = Workbench.open()
        try:
            ev = Evaluation(wb)
            if args.threads:  # for both paths: the settings' default every load starts from
                wb.change_settings("model", threads=args.threads)
            folder = Path(tmp) / "docs"
            folder.mkdir()
            for name, text in FILES.items():
                (folder / name).write_text(text)
            wb.documents.add([folder], "harbour")
            overhead = measure_overhead(ev, folder, args.rounds)
            run = measure_run(ev, folder, args.questions) if args.questions else {}
        finally:
            wb.close()
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "date": time.strftime("%Y-%m-%d %H:%M"),
                "load_average": [round(x, 1) for x in os.getloadavg()],
                "threads": args.threads or "physical cores",
                "overhead": overhead,
                "run": run,
            },
            indent=2,
        )
    )
    return 0


def one_set(ev: object, name: str, folder: Path, n: int) -> None:
    from app.evaluate.service import Evaluation

    assert isinstance(ev, Evaluation)
    s = ev.sets.create(name, "harbour")
    items = []
    for k in range(n):
        q, expected, file, gold = QUESTIONS[k % len(QUESTIONS)]
        # The same three facts asked in words that differ, so no answer is a cache hit.
        asked = f"{q} (question {k + 1})" if k >= len(QUESTIONS) else q
        items.append(Item(0, asked, expected, [Gold(str(folder / file), "harbour", text=gold)]))
    ev.sets.add(s, items)


def measure_overhead(ev: object, folder: Path, rounds: int) -> dict[str, object]:
    from app.evaluate.service import Evaluation

    assert isinstance(ev, Evaluation)
    wb = ev.wb
    wb.load_model(SMOL)
    question = QUESTIONS[0][0]
    one_set(ev, "overhead", folder, 1)
    params = {"max_tokens": OVERHEAD_TOKENS, "seed": 1, "temperature": 0.0}
    chat, runs, ratios = [], [], []

    def chat_tps() -> float:
        # A new conversation each time, as a run asks each question: asked again in one
        # conversation, each reply would read every earlier exchange (longer prompts and a
        # longer cache to attend over: the chat path measured ~7 % slower that way).
        conv = wb.new_conversation()
        wb.store.update_conversation(conv.id, params={"collections": ["harbour"]})
        done = list(wb.reply(conv.id, question, params))[-1]
        assert isinstance(done, Done)
        return done.stats.tokens_per_s

    def run_tps() -> float:
        # k=3: the collection has three passages, the chat path takes up to five.
        run = ev.create_run("overhead", [f"local:{SMOL}?k=3"], params=params)
        ev.job(run.id).execute()
        [result] = ev.runs.results(run.id)
        return float(result.metrics["tokens_per_s"])

    chat_tps()  # the first reply after loading pays the warm-up: not counted
    for n in range(rounds):
        # Alternating which goes first, so neither always follows the other.
        if n % 2:
            b, a = run_tps(), chat_tps()
        else:
            a, b = chat_tps(), run_tps()
        chat.append(a)
        runs.append(b)
        ratios.append(b / a)
    return {
        "rounds": rounds,
        "tokens_per_answer": OVERHEAD_TOKENS,
        "chat_tokens_per_s_median": round(statistics.median(chat), 1),
        "run_tokens_per_s_median": round(statistics.median(runs), 1),
        "ratio_median": round(statistics.median(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
    }


def measure_run(ev: object, folder: Path, n: int) -> dict[str, object]:
    from app.evaluate.service import Evaluation

    assert isinstance(ev, Evaluation)
    one_set(ev, "fifty", folder, n)
    run = ev.create_run(
        "fifty", [f"local:{SMOL}?k=3", f"local:{GEMMA}?k=3"], params={"max_tokens": MAX_TOKENS}
    )
    cpu0, t0 = time.process_time(), time.perf_counter()
    status = ev.job(run.id).execute()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    results = ev.runs.results(run.id)
    per = {
        c.key: statistics.fmean(
            r.metrics["total_ms"] for r in results if r.contestant == c.key and not r.error
        )
        for c in run.contestants
    }
    return {
        "questions": n,
        "contestants": 2,
        "answers": len(results),
        "status": status,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "mean_answer_ms": {k: round(v) for k, v in per.items()},
    }


if __name__ == "__main__":
    raise SystemExit(main())
