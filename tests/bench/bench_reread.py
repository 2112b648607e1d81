"""Files read again by a new reading, with and without the vectors their earlier version
lends (`app.rag.reuse`), printed as JSON:
`python -m tests.bench.bench_reread [--set dev|pdf|pdf2|dev2|...] [--rounds 2]`.

A set's documents are indexed once into a fresh collection with the shipped embedder
("auto"); then, each round, a Carrel that reads files differently (`pipeline.READING`
raised) adds them again twice, interleaved: taking the vectors of passages its version in
the index embedded alike (shipped), and embedding every passage again (as before: every
version made to lend nothing, `reuse.EMBEDDED_SINCE` above it). Wall time and CPU of each
add; passages reused; how far the searches of the set's questions moved after either
against those after the first add (top tens the same, the largest change of a score); then
the same files copied to other paths and added (a moved folder: they take the vectors of
their originals).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from app.config import Paths
from app.rag import pipeline, reuse
from app.rag.embedder import SentenceEmbedder
from app.rag.service import Documents
from app.store import Store
from tests.bench.bench_rag_eval import QUESTION_SETS, load_questions


def ranked(docs: Documents, questions: list[str]) -> list[list[tuple[str, float]]]:
    return [[(h.text, round(h.score, 6)) for h in docs.search(q, "c", k=10)] for q in questions]


def alike(
    now: list[list[tuple[str, float]]], then: list[list[tuple[str, float]]]
) -> dict[str, Any]:
    """How far the searches' top tens moved: questions whose ten passages are the same in
    the same order, and the largest change of a score of a passage in both."""
    changes = [
        abs(score - dict(b)[text]) for a, b in zip(now, then, strict=True)
        for text, score in a if text in dict(b)
    ]  # fmt: skip
    same = sum(1 for a, b in zip(now, then, strict=True) if [t for t, _ in a] == [t for t, _ in b])
    return {"same_top_tens": f"{same}/{len(now)}", "largest_score_change": round(max(changes), 6)}


def add(docs: Documents, files: list[Path], lend: bool) -> dict[str, Any]:
    pipeline.READING += 1  # a Carrel that reads files differently
    reuse.EMBEDDED_SINCE = 2 if lend else pipeline.READING + 1
    t, cpu = time.perf_counter(), time.process_time()
    report = docs.add(files, "c")
    return {
        "lend": lend,
        "seconds": round(time.perf_counter() - t, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "indexed": report.count("indexed"),
        "passages": report.chunks,
        "reused": report.reused,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=sorted(QUESTION_SETS), default="dev")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    files, questions = load_questions(QUESTION_SETS[args.set])
    asked = [str(q["text"]) for q in questions]
    embedder = SentenceEmbedder()
    embedder.load()
    out: dict[str, Any] = {"set": args.set, "load_average_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths.under(Path(tmp)).ensure()
        store = Store(paths.database)
        docs = Documents(paths, store, embedder)
        try:
            t = time.perf_counter()
            first = docs.add(files, "c")
            out["first_add"] = {"seconds": round(time.perf_counter() - t, 2),
                                "passages": first.chunks}  # fmt: skip
            reference = ranked(docs, asked)
            runs = []
            for n in range(args.rounds):
                for lend in (True, False) if n % 2 == 0 else (False, True):
                    runs.append(add(docs, files, lend) | {"round": n + 1})
                    runs[-1] |= alike(ranked(docs, asked), reference)
            reuse.EMBEDDED_SINCE = 2  # as shipped
            copies = Path(tmp) / "copies"  # the same files by other paths: a moved folder
            copies.mkdir()
            moved = [Path(shutil.copy2(f, copies / f"{n}-{f.name}")) for n, f in enumerate(files)]
            t, cpu = time.perf_counter(), time.process_time()
            report = docs.add(moved, "c")
            out["copies_added"] = {"seconds": round(time.perf_counter() - t, 2),
                                   "cpu_s": round(time.process_time() - cpu, 2),
                                   "passages": report.chunks, "reused": report.reused}  # fmt: skip
        finally:
            docs.close()
            store.close()
    out["runs"] = runs
    for lend in (True, False):
        mine = [r["seconds"] for r in runs if r["lend"] is lend]
        out["median_s_" + ("reused" if lend else "embedded_again")] = statistics.median(mine)
    out["speedup"] = round(out["median_s_embedded_again"] / out["median_s_reused"], 2)
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
