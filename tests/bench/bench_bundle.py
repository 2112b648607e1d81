"""Air-gap bundle throughput: export and import of a ~1 GB model and of a 100k-passage
collection, against GNU tar carrying the same files (no hashing, no verification) in the
same run, interleaved.

python -m tests.bench.bench_bundle [--rounds 3] [--passages 100000] [--work DIR]

- the model: Gemma 3 270M turned into F32 by Carrel's own quantizer (a real GGUF of
  ~1.07 GB), in the models folder of an exporting home;
- the collection: `--passages` passages built as an ingest builds them (`bench_rag_hnsw`:
  BM25 of real text, random unit passage and sentence vectors, an HNSW graph per 50k),
  with a file record per source, under the default embedder's name;
- per round: Carrel's export of each, then `tar -cSf` of the same files; Carrel's import
  (read, verify every byte, stage, place) into a fresh home, then `tar -xSf` into a folder
  on the same disk. MB/s is bytes of the archive per second; the ratio is Carrel's speed
  over tar's in the same round (median of rounds). Files are in the page cache (each is
  read once before the first round): the figures are CPU and copy speed, not the disk's.

Prints one JSON summary with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from app import netguard
from app.config import Paths, load_settings
from app.library.registry import ModelRegistry
from app.privacy.service import Privacy
from app.rag.embedder import DEFAULT_DIM, DEFAULT_MODEL, SentenceEmbedder
from app.rag.service import Documents
from app.store import Store
from app.workbench import Workbench
from tests.bench.rag_synthetic import build, corpus_words, random_vectors

GEMMA = "gemma-3-270m-q4_k_m"
COLLECTION = "large"


def workbench(home: Path) -> Workbench:
    """A Workbench whose embedder is never loaded (nothing here embeds)."""
    paths = Paths.under(home).ensure()
    store = Store(paths.database)
    privacy = Privacy(paths, store, guard=netguard.install())
    documents = Documents(paths, store, SentenceEmbedder())
    return Workbench(
        paths, load_settings(paths), store, ModelRegistry(paths.models_dir), privacy, documents
    )


def make_model(wb: Workbench) -> str:
    record, _ = wb.library.quantize(GEMMA, "F32", measure=False)
    return record.name


def make_collection(wb: Workbench, passages: int) -> None:
    docs = wb.documents
    # Passage and sentence vectors, as collections made before issue 16 have them.
    docs.records.create_collection(COLLECTION, DEFAULT_MODEL, DEFAULT_DIM, "sentences")
    # Random vectors: what is measured is moving bytes, which their values do not change.
    index, _ = build(
        docs.index_root / COLLECTION, passages, corpus_words(), random_vectors(7), step=50_000
    )
    index.close()
    per = passages // 500
    with docs.records.store.transaction() as db:
        db.executemany(
            "INSERT INTO doc_files VALUES (?, ?, 'h', 1000, 0, 'indexed', '', 10, ?, 0)",
            [(COLLECTION, f"s{i}", per) for i in range(500)],
        )


def files_of(wb: Workbench, model: str | None) -> list[Path]:
    if model is not None:
        return [wb.library.model(model).path]
    root = wb.documents.index_root
    return [root / COLLECTION, *root.glob(f".{COLLECTION}.sentences.sqlite*")]


def timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def tar_pair(paths: list[Path], archive: Path, into: Path) -> tuple[float, float]:
    """GNU tar of the same files (sparse-aware), then extracting it: seconds each."""
    parent = paths[0].parent
    names = [str(p.relative_to(parent)) for p in paths]
    out = timed(
        lambda: subprocess.run(["tar", "-cSf", str(archive), "-C", str(parent), *names], check=True)
    )
    into.mkdir(parents=True)
    back = timed(lambda: subprocess.run(["tar", "-xSf", str(archive), "-C", str(into)], check=True))
    return out, back


def round_of(work: Path, source: Workbench, model: str | None, n: int) -> dict[str, float]:
    out = work / f"carry-{n}.tar"
    carrel_out = timed(
        lambda: source.bundles().export(
            out, [model] if model else [], [] if model else [COLLECTION]
        )
    )
    size = out.stat().st_size
    target = workbench(work / f"target-{n}")
    carrel_in = timed(lambda: target.bundles().import_bundle(out))
    target.close()
    plain = work / f"plain-{n}.tar"
    tar_out, tar_in = tar_pair(files_of(source, model), plain, work / f"untar-{n}")
    tar_size = plain.stat().st_size
    for path in (out, plain, work / f"untar-{n}", work / f"target-{n}"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return {
        "bundle_mb": size / 1e6,
        "export_mb_s": size / 1e6 / carrel_out,
        "import_mb_s": size / 1e6 / carrel_in,
        "tar_mb": tar_size / 1e6,
        "tar_c_mb_s": tar_size / 1e6 / tar_out,
        "tar_x_mb_s": tar_size / 1e6 / tar_in,
    }


def summary(rounds: list[dict[str, float]]) -> dict[str, float]:
    med = {k: round(statistics.median(r[k] for r in rounds), 1) for k in rounds[0]}
    med["export_vs_tar"] = round(
        statistics.median(r["export_mb_s"] / r["tar_c_mb_s"] for r in rounds), 2
    )
    med["import_vs_tar"] = round(
        statistics.median(r["import_mb_s"] / r["tar_x_mb_s"] for r in rounds), 2
    )
    return med


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-bundle-", dir=args.work))
    try:
        source = workbench(work / "source")
        t = time.perf_counter()
        model = make_model(source)
        model_s = time.perf_counter() - t
        t = time.perf_counter()
        make_collection(source, args.passages)
        collection_s = time.perf_counter() - t
        for path in files_of(source, model) + files_of(source, None):  # into the page cache
            subprocess.run(["tar", "-cSf", "/dev/null", str(path)], check=True)
        model_rounds, collection_rounds = [], []
        for n in range(args.rounds):
            model_rounds.append(round_of(work, source, model, 2 * n))
            collection_rounds.append(round_of(work, source, None, 2 * n + 1))
        model_bytes = source.library.model(model).size
        source.close()
        result = {
            "model": {"name": model, "bytes": model_bytes, **summary(model_rounds)},
            "collection": {"passages": args.passages, **summary(collection_rounds)},
            "setup_s": {
                "quantize_f32": round(model_s, 1),
                "build_collection": round(collection_s, 1),
            },
            "rounds": args.rounds,
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
        }
        print(json.dumps(result, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
