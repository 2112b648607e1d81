"""`python -m tests.bench.bench_rag_eval`'s command line: the options (each a
comma-separated list where it says so), their checks, and one run per combination, with a
summary against the first (see `tests.bench.bench_rag_eval`'s docstring)."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

from app.rag import onnx_runtime, passages
from app.rag.chunker import MAX_CHARS, OVERLAP_WORDS, Chunker
from app.rag.embedder import ONNX_BATCH_SIZE, RUNTIMES
from app.rag.passages import DEFAULT_REPRESENTATION, REPRESENTATIONS
from tests.bench.bench_rag_eval import (
    MODELS,
    MODES,
    QUESTION_SETS,
    SIZES,
    SWITCHES,
    load_questions,
    run,
)
from tests.bench.layers import CUTS
from tests.bench.leave_out import WAYS as LEAVE_OUT

# The shipped ways to embed table rows and the bench's own (tests/bench/rows_values.py).
RECORD_WAYS = (*passages.RECORD_WAYS, "values", "values-labelled")
DESCRIPTION = (
    "Retrieval quality on real manuals: hit@1, hit@5 and MRR@10 for dense, BM25 and hybrid."
)


# onnxruntime int8 exports `--onnx-recipe` compares (the shipped one first).
RECIPES = {
    "full": onnx_runtime.DEFAULT_RECIPE,
    "7bit": dataclasses.replace(onnx_runtime.DEFAULT_RECIPE, reduce_range=True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument(
        "--embedder",
        default="minilm",
        help=f"comma-separated, from {', '.join([*MODELS, *CUTS])} (default minilm)",
    )
    parser.add_argument(
        "--set", default="eval", choices=sorted(QUESTION_SETS), help="question set (default eval)"
    )
    parser.add_argument(
        "--questions",
        type=Path,
        help="a question set of your own instead of --set (a TOML file in the sets' format: "
        "`documents`, then `[[question]]` tables with `text`, `file` and `pages` or "
        "`anchors`; relative document paths are read beside the file; `file` is a document's "
        "name, or the end of its path where names repeat)",
    )
    parser.add_argument(
        "--candidates",
        action="store_true",
        help="also score the fusions and dense scorings of tests/bench/rag_candidates.py",
    )
    parser.add_argument(
        "--deferred",
        action="store_true",
        help="also score dense vectors deferred to the search (rag_candidates.py)",
    )
    parser.add_argument(
        "--bm25-length",
        action="store_true",
        help="also score BM25 at the passages' measured average length (rag_bm25.py)",
    )
    parser.add_argument(
        "--scalings",
        action="store_true",
        help="also score the fusion with scores scaled from zero (rag_candidates.py)",
    )
    parser.add_argument(
        "--representation",
        default=DEFAULT_REPRESENTATION,
        help=f"comma-separated, from {', '.join(REPRESENTATIONS)} (each in its own collection,"
        " in this run)",
    )
    parser.add_argument(
        "--records",
        default=passages.RECORDS,
        help=f"comma-separated ways a late collection embeds table rows, from"
        f" {', '.join(RECORD_WAYS)} (default {passages.RECORDS}; values, values-labelled: "
        "tests/bench/rows_values.py)",
    )
    parser.add_argument(
        "--record-overlap",
        default="yes" if Chunker.record_overlap else "no",
        help="comma-separated yes/no: whether passages of table rows carry the overlap",
    )
    parser.add_argument(
        "--runtime",
        default="auto",
        help=f"comma-separated, from {', '.join(RUNTIMES)} (auto: see app.rag.embedder)",
    )
    parser.add_argument(
        "--overlap",
        default=str(OVERLAP_WORDS),
        help=f"comma-separated words carried between passages (default {OVERLAP_WORDS})",
    )
    parser.add_argument(
        "--passage-chars",
        default=str(MAX_CHARS),
        help=f"comma-separated passage sizes by their most characters, from "
        f"{', '.join(map(str, SIZES))} (default {MAX_CHARS}; RULES.md, shorter passages)",
    )
    parser.add_argument(
        "--onnx-batch",
        default=str(ONNX_BATCH_SIZE),
        help=f"comma-separated texts per onnxruntime call (default {ONNX_BATCH_SIZE})",
    )
    parser.add_argument(
        "--onnx-tokens",
        default="",
        help="comma-separated most padded tokens per call of the ONNX export (0: by texts "
        "only; default: the runtime's own, by texts on onnxruntime, 1024 on OpenVINO)",
    )
    parser.add_argument(
        "--onnx-recipe",
        default="full",
        help="comma-separated onnxruntime int8 exports: full (full-range weights, shipped), "
        "7bit (reduce_range: 7-bit weights, for processors without VNNI)",
    )
    parser.add_argument(
        "--query-runtime",
        default="",
        help=f"the questions' runtime, from {', '.join(RUNTIMES)} (default: the passages')",
    )
    parser.add_argument(
        "--distractors",
        default="",
        help="comma-separated other sets whose documents are indexed beside the set's",
    )
    parser.add_argument(
        "--leave-out",
        default="none",
        help=f"comma-separated tokens the network does not read, from {', '.join(LEAVE_OUT)}"
        " (tests/bench/leave_out.py; a runtime on the ONNX export)",
    )
    parser.add_argument(
        "--windows",
        default="none",
        help="comma-separated sentences either side a sentence's tokens attend to under "
        "late (none: the whole passage, as shipped; tests/bench/windowed.py; torch only)",
    )
    for flag, (module, switch, what) in SWITCHES.items():
        parser.add_argument(
            flag,
            default="on" if getattr(module, switch) else "off",
            help=f"comma-separated on/off: whether {what} ({module.__name__}.{switch}; "
            "the default as shipped)",
        )
    args = parser.parse_args()
    if args.query_runtime and args.query_runtime not in RUNTIMES:
        parser.error(f"runtimes are {', '.join(RUNTIMES)}")
    pooled = [d.strip() for d in args.distractors.split(",") if d.strip()]
    own = None if args.questions is not None else args.set  # a set is not its own distractor
    if any(d not in QUESTION_SETS or d == own for d in pooled):
        parser.error(f"distractors are other sets, from {', '.join(QUESTION_SETS)}")
    distractors = [doc for d in pooled for doc in load_questions(QUESTION_SETS[d])[0]]
    runtimes = [r.strip() for r in args.runtime.split(",") if r.strip()]
    if not runtimes or any(r not in RUNTIMES for r in runtimes):
        parser.error(f"runtimes are {', '.join(RUNTIMES)}")
    overlaps = [int(o) for o in args.overlap.split(",") if o.strip()]
    sizes = [int(c) for c in args.passage_chars.split(",") if c.strip()]
    if not sizes or any(c not in SIZES for c in sizes):
        parser.error(f"--passage-chars takes {', '.join(map(str, SIZES))}")
    onnx_batches = [int(b) for b in args.onnx_batch.split(",") if b.strip()]
    onnx_tokens = [int(t) for t in args.onnx_tokens.split(",") if t.strip()] or [None]
    names = [n.strip() for n in args.embedder.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS and n not in CUTS]
    if unknown or not names:
        parser.error(f"unknown embedder {unknown}; choose from {', '.join([*MODELS, *CUTS])}")
    hows = [h.strip() for h in args.representation.split(",") if h.strip()]
    if not hows or any(h not in REPRESENTATIONS for h in hows):
        parser.error(f"representations are {', '.join(REPRESENTATIONS)}")
    ways = [w.strip() for w in args.records.split(",") if w.strip()]
    if not ways or any(w not in RECORD_WAYS for w in ways):
        parser.error(f"ways to embed table rows are {', '.join(RECORD_WAYS)}")
    carry_words = [c.strip() for c in args.record_overlap.split(",") if c.strip()]
    if not carry_words or any(c not in ("yes", "no") for c in carry_words):
        parser.error("--record-overlap takes yes, no or both")
    carries = [c == "yes" for c in carry_words]
    recipes = [r.strip() for r in args.onnx_recipe.split(",") if r.strip()]
    if not recipes or any(r not in RECIPES for r in recipes):
        parser.error(f"--onnx-recipe takes {', '.join(RECIPES)}")
    leave_outs = [w.strip() for w in args.leave_out.split(",") if w.strip()]
    if not leave_outs or any(w not in LEAVE_OUT for w in leave_outs):
        parser.error(f"--leave-out takes {', '.join(LEAVE_OUT)}")
    window_words = [w.strip() for w in args.windows.split(",") if w.strip()]
    if not window_words or any(w != "none" and not w.isdigit() for w in window_words):
        parser.error("--windows takes none or numbers of sentences")
    windows = [None if w == "none" else int(w) for w in window_words]
    settings = [
        dict(zip(SWITCHES, values, strict=True))
        for values in itertools.product(
            *(on_off(parser, flag, getattr(args, flag[2:].replace("-", "_"))) for flag in SWITCHES)
        )
    ]
    if args.questions is not None and not args.questions.is_file():
        parser.error(f"--questions: no file {args.questions}")
    chosen = args.questions or QUESTION_SETS[args.set]
    documents, questions = load_questions(chosen)
    missing = [str(d) for d in documents if not d.is_file()]
    if missing:
        parser.error(f"the set's documents are missing: {', '.join(missing)}")
    label = str(args.questions) if args.questions is not None else args.set
    out: dict[str, Any] = {"set": label, "load_average_start": os.getloadavg()}
    results = []
    shipped = onnx_runtime.DEFAULT_RECIPE
    for name, how, runtime, recipe, leave_out, window, switches in itertools.product(
        names, hows, runtimes, recipes, leave_outs, windows, settings
    ):
        onnx_runtime.DEFAULT_RECIPE = RECIPES[recipe]
        try:
            for overlap, way, carry, onnx_batch, tokens, size in itertools.product(
                overlaps, ways, carries, onnx_batches, onnx_tokens, sizes
            ):
                results.append(
                    run(
                        *(name, documents, questions, args.candidates, how, runtime),
                        *(overlap, way, carry, args.deferred, args.bm25_length),
                        scalings=args.scalings,
                        distractors=distractors,
                        onnx_batch=onnx_batch,
                        onnx_tokens=tokens,
                        query_runtime=args.query_runtime,
                        leave_out=leave_out,
                        window=window,
                        switches=switches,
                        passage_chars=size,
                    )
                )
                results[-1]["onnx_recipe"] = recipe
                # Each case as it ends (a run of several takes long on a busy machine).
                print(json.dumps(results[-1]), file=sys.stderr, flush=True)
        finally:
            onnx_runtime.DEFAULT_RECIPE = shipped
    out["load_average_end"] = os.getloadavg()
    if len(results) == 1:
        print(json.dumps({**out, **results[0]}, indent=2))
        return
    reference = results[0]
    summary = {
        " / ".join(
            (
                r["embedder"],
                r["representation"],
                f"records {r['records']}"
                + ("" if r["record_overlap"] else ", no overlap between rows' passages"),
                r["runtime"],
                f"overlap {r['overlap_words']}",
                f"onnx batch {r['onnx_batch']}, tokens {r['onnx_tokens'] or '-'}",
                f"onnx recipe {r['onnx_recipe']}",
                f"leave out {r['leave_out']}",
                f"window {'-' if r['window'] is None else r['window']}",
                *(
                    f"{flag.replace('-', ' ')} {'on' if on else 'off'}"
                    for flag, on in r["switches"].items()
                ),
            )
        ): {
            "load_s": r["load_s"],
            "ingest_chunks_per_s": r["ingest_chunks_per_s"],
            "speed_vs_first": round(r["ingest_chunks_per_s"] / reference["ingest_chunks_per_s"], 2),
            "cpu_vs_first": round(reference["ingest_cpu_s"] / r["ingest_cpu_s"], 2),
            **{m: r[m]["all"] for m in MODES},
        }
        for r in results
    }
    print(json.dumps({**out, "summary": summary, "runs": results}, indent=2))


def on_off(parser: argparse.ArgumentParser, flag: str, value: str) -> list[bool]:
    """A comma-separated on/off switch's values, in order."""
    words = [w.strip() for w in value.split(",") if w.strip()]
    if not words or any(w not in ("on", "off") for w in words):
        parser.error(f"{flag} takes on, off or both")
    return [w == "on" for w in words]
