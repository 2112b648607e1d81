"""The embedded index hands back the mapped pages of its files after a flush, loses no data
doing so, and stores new collections' dense vectors as float16."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as qe

from app.rag.index import DENSE, EdgeIndex, IndexPoint, release_mapped_pages, shard_config

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def _resident_kb(folder: Path) -> int:
    """Resident kB of this process's mappings of files under `folder` (/proc/self/smaps)."""
    prefix = str(folder.resolve()) + "/"
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split(maxsplit=5)
        if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            inside = len(head) == 6 and head[5].startswith(prefix)
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


def _points(n: int) -> tuple[list[IndexPoint], np.ndarray]:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    points = [
        IndexPoint(
            f"00000000-0000-0000-0000-{i:012d}",
            vectors[i].tolist(),
            f"passage number {i} about printer nozzle{i}",
            {"source": f"s{i % 7}", "hash": "h"},
        )
        for i in range(n)
    ]
    return points, vectors


def test_flush_releases_pages_and_keeps_the_data(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    index = EdgeIndex(folder, 384)
    points, vectors = _points(3000)
    index.upsert(points)
    index._shard.flush()  # the engine's flush alone: its written pages stay resident
    before = _resident_kb(folder)
    index.flush()
    after = _resident_kb(folder)
    assert before > 2000  # 3000 × 384 float16 alone are 2.25 MB
    assert after < before / 4
    hits = index.search(vectors[42].tolist(), "nozzle42", 3)
    assert hits[0].id == points[42].id
    assert index.count() == 3000
    index.close()

    reopened = EdgeIndex(folder, 384)
    assert _resident_kb(folder) < before / 4  # loading reads the files in: released too
    assert reopened.count() == 3000
    assert reopened.search(vectors[7].tolist(), "", 1, mode="dense")[0].id == points[7].id
    reopened.close()


def test_release_ignores_other_folders(tmp_path: Path) -> None:
    assert release_mapped_pages(tmp_path / "nothing-mapped-here") == 0


def test_new_collections_store_float16() -> None:
    params = shard_config(384).vectors[DENSE]
    assert params.datatype == qe.VectorStorageDatatype.Float16
