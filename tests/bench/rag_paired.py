"""How sure a difference between two retrieval runs is: a paired bootstrap over questions.

python -m tests.bench.rag_paired --pair BEFORE.json AFTER.json [--pair B2.json A2.json …]
[--mode hybrid] [--rounds 10000] [--seed 0]

Each file is what `bench_rag_eval` prints (a run alone, or of several the first, or the
ones `--run` names by position); a pair is two runs of the same question set, so the
questions line up by position. For each pair, and pooled over all pairs, it prints MRR@10,
hit@1 and hit@5 of each side, their difference (after − before), the questions that went
up and down, and a 95 % interval for the difference: the questions resampled with
replacement `--rounds` times (pooled: within each set, so every set keeps its size). A
difference whose interval holds 0 is one these questions cannot tell from chance.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

K = 10
MEASURES = ("mrr@10", "hit@1", "hit@5")


def per_question(ranks: list[int | None]) -> dict[str, np.ndarray]:
    """Each question's reciprocal rank (0 past `K`), hit@1 and hit@5, as arrays."""
    r = np.array([x if x is not None else 0 for x in ranks], dtype=float)
    found = r > 0
    return {
        "mrr@10": np.where(found & (r <= K), 1.0 / np.where(found, r, 1.0), 0.0),
        "hit@1": (found & (r == 1)).astype(float),
        "hit@5": (found & (r <= 5)).astype(float),
    }


def interval(
    strata: list[np.ndarray], rounds: int, rng: np.random.Generator
) -> tuple[float, float]:
    """The 95 % percentile interval of the mean of the pooled per-question differences,
    each stratum (a set's questions) resampled within itself."""
    total = sum(len(d) for d in strata)
    sums = np.zeros(rounds)
    for d in strata:
        picks = rng.integers(0, len(d), size=(rounds, len(d)))
        sums += d[picks].sum(axis=1)
    means = sums / total
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def compare(
    pairs: list[tuple[list[int | None], list[int | None]]], rounds: int, seed: int
) -> dict[str, Any]:
    """Both sides' means, the difference, questions up and down and the interval, for
    each measure over the pooled pairs."""
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"questions": sum(len(b) for b, _ in pairs)}
    for measure in MEASURES:
        before = [per_question(b)[measure] for b, _ in pairs]
        after = [per_question(a)[measure] for _, a in pairs]
        diffs = [a - b for b, a in zip(before, after, strict=True)]
        flat = np.concatenate(diffs)
        low, high = interval(diffs, rounds, rng)
        out[measure] = {
            "before": round(float(np.concatenate(before).mean()), 3),
            "after": round(float(np.concatenate(after).mean()), 3),
            "difference": round(float(flat.mean()), 3),
            "interval_95": [round(low, 3), round(high, 3)],
            "up": int((flat > 0).sum()),
            "down": int((flat < 0).sum()),
        }
    return out


def ranks_of(path: Path, mode: str, run: int) -> tuple[str, list[int | None]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    chosen = data["runs"][run] if "runs" in data else data  # one run is printed alone
    if "ranks" not in chosen[mode]:
        raise SystemExit(f"{path}: made before bench_rag_eval wrote each question's rank")
    return str(data.get("set", path.stem)), list(chosen[mode]["ranks"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", nargs=2, type=Path, action="append", required=True)
    parser.add_argument("--mode", default="hybrid", choices=("dense", "bm25", "hybrid"))
    parser.add_argument("--run", type=int, nargs=2, default=(0, 0), help="runs by position")
    parser.add_argument("--rounds", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    pairs, out = [], {}
    for before_file, after_file in args.pair:
        name, before = ranks_of(before_file, args.mode, args.run[0])
        _, after = ranks_of(after_file, args.mode, args.run[1])
        if len(before) != len(after):
            parser.error(f"{before_file} and {after_file} hold different question sets")
        pairs.append((before, after))
        out[name] = compare([(before, after)], args.rounds, args.seed)
    if len(pairs) > 1:
        out["pooled"] = compare(pairs, args.rounds, args.seed)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
