"""Document benchmarks: ingest overhead vs the raw embedder (a corpus of manuals, and a
folder of small notes), re-ingest, search latency.

python -m tests.bench.bench_rag [--only speed [--files-of dev|dev2|tab|html | --files F…]]
(needs apt packages gutenprint-doc, debian-reference-en; a development set's packages for
its documents)
Prints one JSON summary. Ratios are against references measured in the same run.

The machine is two cores shared with other jobs, so a single timing can be off by 2×:
the ingest ratio is measured in rounds that alternate the raw embedder and the full
ingest, and the median round is reported, with the CPU-time ratio beside it and the load
average before and after.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from app.config import Paths
from app.rag import ingest, pipeline
from app.rag.chunker import OVERLAP_WORDS, Chunker
from app.rag.embedder import SentenceEmbedder
from app.rag.ingest import EMBED_BATCH
from app.rag.loaders import load
from app.rag.passages import DEFAULT_REPRESENTATION
from app.rag.pipeline import Reader
from app.rag.represent import heading_line
from app.rag.service import Documents
from app.store import Store
from tests.bench.distill import student_folder
from tests.bench.rag_search import search_latency
from tests.bench.rag_synthetic import HTML, PDF, WORDS

# The pipelines compared by `ingest_speed`: (label, representation, runtime, overlap words,
# passages embedded per step).
PIPELINES = (
    ("before", "sentences", "fp32", 30, 64),  # before issue 16: every sentence on its own
    ("passage fp32", "passage", "fp32", 30, 64),  # issue 16's first step: a vector a passage
    # Issue 16, second round: torch with int8 weights (shipped until the fourth round).
    ("int8", "passage", "int8", OVERLAP_WORDS, EMBED_BATCH),
    ("int8, no overlap", "passage", "int8", 0, EMBED_BATCH),  # a candidate
    # Issue 16's third round: onnxruntime with int8 weights, one vector per passage.
    ("onnx int8", "passage", "onnx-int8", OVERLAP_WORDS, EMBED_BATCH),
    # As shipped since issue 16's fourth round: the same, with sentences pooled from the pass.
    ("onnx int8 late", DEFAULT_REPRESENTATION, "onnx-int8", OVERLAP_WORDS, EMBED_BATCH),
    # The same with the reader one file ahead, as it was until the fifth round.
    (
        "onnx int8 late (one file ahead)",
        DEFAULT_REPRESENTATION,
        "onnx-int8",
        OVERLAP_WORDS,
        EMBED_BATCH,
    ),
    # The eighth round's candidates for texts per onnxruntime call (4 shipped, as "onnx int8
    # late" now runs; 32 before).
    *(
        (
            f"onnx int8 late calls of {n}",
            DEFAULT_REPRESENTATION,
            "onnx-int8",
            OVERLAP_WORDS,
            EMBED_BATCH,
        )
        for n in (32, 16, 8)
    ),
    (
        "onnx int8 late calls of 1024 tokens",
        DEFAULT_REPRESENTATION,
        "onnx-int8",
        OVERLAP_WORDS,
        EMBED_BATCH,
    ),
    # The eighth round's torch under bfloat16 autocast (processors with AMX).
    ("bf16 late", DEFAULT_REPRESENTATION, "bf16", OVERLAP_WORDS, EMBED_BATCH),
    # The ninth round's OpenVINO in bfloat16, as "auto" runs it on processors with AMX.
    ("openvino late", DEFAULT_REPRESENTATION, "openvino", OVERLAP_WORDS, EMBED_BATCH),
    # ...with calls of four texts, as it ran before calls of at most 1,024 padded tokens
    # (shipped; the label below, now the same as "openvino late") were picked.
    (
        "openvino late calls of 4 texts",
        DEFAULT_REPRESENTATION,
        "openvino",
        OVERLAP_WORDS,
        EMBED_BATCH,
    ),
    (
        "openvino late calls of 1024 tokens",
        DEFAULT_REPRESENTATION,
        "openvino",
        OVERLAP_WORDS,
        EMBED_BATCH,
    ),
    # The tenth round's OpenVINO with int8 weights (processors with VNNI and no AMX; time it
    # there with CARREL_BENCH_NO_AMX=1, tests/bench/no_amx.py).
    ("openvino int8 late", DEFAULT_REPRESENTATION, "openvino-int8", OVERLAP_WORDS, EMBED_BATCH),
    # The fourteenth round's distilled student (four layers, tests/bench/distill.py, trained
    # first into the cache's minilm-distilled-long; not shipped) under onnxruntime int8, the
    # runtime "auto" takes on processors without AMX (RULES.md).
    ("distilled onnx int8 late", DEFAULT_REPRESENTATION, "onnx-int8", OVERLAP_WORDS, EMBED_BATCH),
)
# Pipelines whose embedder is the distilled student rather than MiniLM-L6.
DISTILLED = {"distilled onnx int8 late": "distilled-long"}
# Texts per onnxruntime call by label (the others: `ONNX_BATCH_SIZE`).
ONNX_CALLS = {f"onnx int8 late calls of {n}": n for n in (32, 16, 8)}
# The eighth round's later candidate: calls of at most this many padded tokens.
TOKEN_CALLS = {
    "onnx int8 late calls of 1024 tokens": 1024,
    "openvino late calls of 4 texts": 0,  # 0: by texts only
    "openvino late calls of 1024 tokens": 1024,
}
# Pipelines whose reader stays one file ahead (`pipeline.Reader(ahead=1)`), as Carrel's did
# before issue 16's fifth round: "before" is the pipeline before issue 16, reader included.
ONE_FILE_AHEAD = ("before", "onnx int8 late (one file ahead)")


def _one_file_ahead(*args: Any, **kwargs: Any) -> Reader:
    return Reader(*args, **{**kwargs, "ahead": 1})


def ingest_speed(
    home: Path, rounds: int = 3, only: list[str] | None = None, files: list[Path] | None = None
) -> dict[str, Any]:
    """The pipelines of `PIPELINES` (those named in `only`, with "before" always) on the
    same files (the Gutenprint manual and two Debian Reference chapters unless `files` are
    given), interleaved, `rounds` times: pages/s and passages/s by wall clock, and the CPU
    seconds of this process (the steadier figure on a shared machine), each against
    "before"."""
    files = files or [f for f in [PDF, *HTML] if f.exists()]
    chosen = [p for p in PIPELINES if only is None or p[0] == "before" or p[0] in only]
    embedders = {}
    for label, _, runtime, _, _ in chosen:
        if label in DISTILLED:
            folder = student_folder(DISTILLED[label])
            e = SentenceEmbedder(str(folder), f"{folder.name} (distilled here)", runtime=runtime)
        else:
            e = SentenceEmbedder(runtime=runtime)
        embedders[label] = e
        e.onnx_batch_size = ONNX_CALLS.get(label, e.onnx_batch_size)
        e.onnx_call_tokens = TOKEN_CALLS.get(label, e.onnx_call_tokens)
        e.load()
        e.embed(["warm up"] * 8)
    runs: dict[str, dict[str, list[float]]] = {p[0]: {"wall": [], "cpu": []} for p in chosen}
    counts: dict[str, tuple[int, int]] = {}
    for r in range(rounds):
        for label, how, _, overlap, batch in chosen:
            paths = Paths.under(home / f"speed-{label}-{r}").ensure()
            store = Store(paths.database)
            docs = Documents(paths, store, embedders[label])
            docs.representation = how
            docs.batch = batch
            pipeline.Chunker = functools.partial(Chunker, overlap=overlap)  # type: ignore[misc]
            if label in ONE_FILE_AHEAD:
                ingest.Reader = _one_file_ahead  # type: ignore[misc,assignment]
            try:
                t, c = time.perf_counter(), time.process_time()
                report = docs.add(files, "speed")
                runs[label]["wall"].append(time.perf_counter() - t)
                runs[label]["cpu"].append(time.process_time() - c)
            finally:
                pipeline.Chunker = Chunker  # type: ignore[misc]
                ingest.Reader = Reader  # type: ignore[misc]
            counts[label] = (report.pages, report.chunks)
            docs.close()
            store.close()
            print(label, r, runs[label], os.getloadavg(), file=sys.stderr, flush=True)
    out: dict[str, Any] = {
        "files": [f.name for f in files],
        "load_average": os.getloadavg(),
    }
    base = runs["before"]
    for label, how, _, overlap, batch in chosen:
        run = runs[label]
        pages, chunks = counts[label]
        wall = statistics.median(run["wall"])
        out[label] = {
            "representation": how,
            "runtime": embedders[label].active_runtime,
            "read_ahead": "one file"
            if label in ONE_FILE_AHEAD
            else f"{pipeline.READ_AHEAD_STEPS * batch} passages",
            "overlap_words": overlap,
            "passages_per_step": batch,
            "texts_per_onnx_call": embedders[label]._onnx_calls()[0],
            "tokens_per_onnx_call": embedders[label]._onnx_calls()[1],
            "pages": pages,
            "passages": chunks,
            "seconds_rounds": [round(x, 1) for x in run["wall"]],
            "cpu_seconds_rounds": [round(x, 1) for x in run["cpu"]],
            "pages_per_s": round(pages / wall, 2),
            "passages_per_s": round(chunks / wall, 1),
            "pages_per_cpu_s": round(pages / statistics.median(run["cpu"]), 2),
            # Rounds are interleaved, so each ratio compares neighbours in time.
            "speedup_rounds": [round(x, 2) for x in _ratios(base["wall"], run["wall"])],
            "speedup": round(statistics.median(_ratios(base["wall"], run["wall"])), 2),
            "speedup_by_cpu_time": round(statistics.median(_ratios(base["cpu"], run["cpu"])), 2),
        }
    return out


def _ratios(before: list[float], after: list[float]) -> list[float]:
    return [b / a for b, a in zip(before, after, strict=True)]


def ingest_overhead(home: Path, embedder: SentenceEmbedder, rounds: int = 3) -> dict[str, Any]:
    """Full ingest (read, chunk, embed, BM25, upsert, flush, record) against the raw
    embedder on the same passages (one text each, in the same groups of `docs.batch`
    passages), same model, runtime and batch, alternating, `rounds` times."""
    files = [f for f in [PDF, *HTML] if f.exists()]
    per_file = [list(Chunker().chunks(load(f))) for f in files]
    chunks = [c for file_chunks in per_file for c in file_chunks]
    batch = EMBED_BATCH  # what Documents embeds per step
    groups = [
        [heading_line(c) + c.text for c in file_chunks[i : i + batch]]
        for file_chunks in per_file
        for i in range(0, len(file_chunks), batch)
    ]
    paths = Paths.under(home / "a").ensure()
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    raw_s, full_s, raw_cpu, full_cpu = [], [], [], []
    pages = 0
    for r in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        for group in groups:
            embedder.embed(group)
        raw_s.append(time.perf_counter() - t)
        raw_cpu.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        report = docs.add(files, f"bench{r}")
        full_s.append(time.perf_counter() - t)
        full_cpu.append(time.process_time() - c)
        assert report.chunks == len(chunks), (report.chunks, len(chunks))
        pages = report.pages
    docs.close()
    store.close()
    ratios = [a / b for a, b in zip(raw_s, full_s, strict=True)]
    full = statistics.median(full_s)
    return {
        "files": [f.name for f in files],
        "chunks": len(chunks),
        "pages": pages,
        "raw_embed_chunks_per_s": round(len(chunks) / statistics.median(raw_s), 2),
        "ingest_chunks_per_s": round(len(chunks) / full, 2),
        "ingest_pages_per_s": round(pages / full, 2),
        "ratio_rounds": [round(x, 3) for x in ratios],
        "ratio_vs_raw_embedder": round(statistics.median(ratios), 3),
        "cpu_ratio_vs_raw_embedder": round(
            statistics.median(raw_cpu) / statistics.median(full_cpu), 3
        ),
    }


def reingest(home: Path, embedder: SentenceEmbedder, n: int = 1000) -> dict[str, float]:
    folder = home / "many"
    folder.mkdir()
    for i in range(n):
        (folder / f"f{i:04}.txt").write_text(f"File {i}: {random.choice(WORDS)}.")
    paths = Paths.under(home / "b").ensure()
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    t = time.perf_counter()
    docs.add([folder], "many")
    first = time.perf_counter() - t
    t = time.perf_counter()
    report = docs.add([folder], "many")
    again = time.perf_counter() - t
    assert report.count("unchanged") == n
    docs.close()
    store.close()
    return {"files": n, "first_ingest_s": round(first, 2), "unchanged_reingest_s": round(again, 3)}


def small_files(
    home: Path, embedder: SentenceEmbedder, n: int = 500, rounds: int = 3
) -> dict[str, Any]:
    """A folder of `n` notes of one to six sentences (one passage each): full ingest
    against the raw embedder on the same sentences in the same groups of `EMBED_BATCH`
    passages, alternating, `rounds` times (median)."""
    rng = random.Random(2)
    folder = home / "notes"
    folder.mkdir()
    for i in range(n):
        text = " ".join(
            f"Note {i}.{k}: the {rng.choice(WORDS)} needs a {rng.choice(WORDS)} check."
            for k in range(rng.randint(1, 6))
        )
        (folder / f"n{i:04}.txt").write_text(text)
    chunks = [c for f in sorted(folder.iterdir()) for c in Chunker().chunks(load(f))]
    groups = [
        [heading_line(c) + c.text for c in chunks[i : i + EMBED_BATCH]]
        for i in range(0, len(chunks), EMBED_BATCH)
    ]
    paths = Paths.under(home / "c").ensure()
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    raw_s, full_s = [], []
    for r in range(rounds):
        t = time.perf_counter()
        for group in groups:
            embedder.embed(group)
        raw_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        report = docs.add([folder], f"notes{r}")
        full_s.append(time.perf_counter() - t)
        assert report.count("indexed") == n
    docs.close()
    store.close()
    ratios = [a / b for a, b in zip(raw_s, full_s, strict=True)]
    return {
        "files": n,
        "chunks": len(chunks),
        "ingest_files_per_s": round(n / statistics.median(full_s), 1),
        "ratio_rounds": [round(x, 3) for x in ratios],
        "ratio_vs_raw_embedder": round(statistics.median(ratios), 3),
    }


def main() -> None:
    embedder = SentenceEmbedder()
    embedder.load()
    embedder.embed(["warm up"])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("speed",), help="just the before/after ingest speed")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the speed")
    parser.add_argument(
        "--pipelines",
        help="comma-separated labels of the speed's pipelines"
        f" ({', '.join(p[0] for p in PIPELINES)}; default all; 'before' always runs)",
    )
    parser.add_argument(
        "--files-of",
        choices=("dev", "dev2", "tab", "html"),
        help="the speed on a development set's documents instead (tests/rag/<set>)",
    )
    parser.add_argument(
        "--files", nargs="+", type=Path, help="the speed on these files instead (any kind)"
    )
    args = parser.parse_args()
    only = [p.strip() for p in args.pipelines.split(",")] if args.pipelines else None
    files = args.files
    if args.files_of:
        from tests.bench.bench_rag_eval import QUESTION_SETS, load_questions

        files, _ = load_questions(QUESTION_SETS[args.files_of])
    out: dict[str, object] = {"load_average_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        if PDF.exists() or files:
            out["ingest_speed"] = ingest_speed(home, args.rounds, only, files)
        if args.only:
            print(json.dumps(out, indent=2))
            return
        out["search"] = search_latency(home, embedder)
        out["reingest"] = reingest(home, embedder)
        out["small_files"] = small_files(home, embedder)
        if PDF.exists():
            out["ingest"] = ingest_overhead(home, embedder)
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
