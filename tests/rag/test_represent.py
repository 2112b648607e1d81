"""A passage is embedded sentence by sentence: the split, the vectors, and the search."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as qe

from app.rag.chunker import Chunk
from app.rag.embedder import SentenceEmbedder
from app.rag.index import DENSE, SV, EdgeIndex, IndexPoint, point_id
from app.rag.represent import (
    INT8_SCALE,
    MAX_SENTENCES,
    SENTENCE_CHARS,
    best_sentence,
    embed_chunks,
    fuse,
    pack,
    sentences,
    unpack,
)
from app.rag.sentences import store_path
from app.rag.service import Documents


def chunk(text: str, heading: tuple[str, ...] = ()) -> Chunk:
    return Chunk(text, 1, 1, heading, 0, len(text), len(text.split()))


def test_sentences_split_join_short_ones_and_carry_the_heading() -> None:
    text = (
        "Gutenprint drives many printers. It was formerly named Gimp-Print. "
        "Ok. Fine.\nA line of its own that goes on for a while, well past the length at which "
        "short fragments are joined together into one embedded sentence, and then some more "
        "words after that."
    )
    got = sentences(chunk(text, ("Manual", "Introduction", "History")))
    assert all(s.startswith("Introduction > History\n") for s in got)
    bodies = [s.split("\n", 1)[1] for s in got]
    first = "Gutenprint drives many printers. It was formerly named Gimp-Print. Ok. Fine."
    assert bodies[0] == first
    assert bodies[-1].startswith("A line of its own")
    assert " ".join(bodies).split() == text.split()  # nothing lost, nothing repeated
    assert len(bodies[0]) <= SENTENCE_CHARS < len(bodies[-1])  # a long one stays whole


def test_sentences_are_bounded_and_never_none() -> None:
    rows = "\n".join(f"row {i}; value {i * 7}" for i in range(200))
    got = sentences(chunk(rows))
    assert 1 <= len(got) <= MAX_SENTENCES
    assert " ".join(got).split() == rows.split()
    assert sentences(chunk("   ")) == ["   "]


def test_vectors_are_the_sentences_and_their_unit_mean(embedder: SentenceEmbedder) -> None:
    passage = chunk("Tea likes acid soil. The harvest is in spring. Cats sleep a lot.")
    (v,) = embed_chunks(embedder, [passage])
    expected = np.asarray(embedder.embed(sentences(passage)), dtype=np.float32)
    assert np.allclose(np.asarray(v.sentences), expected, atol=1e-5)
    mean = expected.mean(axis=0)
    assert np.allclose(np.asarray(v.mean), mean / np.linalg.norm(mean), atol=1e-5)
    assert abs(float(np.linalg.norm(v.mean)) - 1.0) < 1e-5


def test_a_passage_is_found_by_its_one_answering_sentence(
    documents: Documents, tmp_path: Path
) -> None:
    # The answer is one sentence among unrelated ones, in a file that otherwise talks of
    # something else; the decoy's whole text is closer to the question's topic.
    answer = tmp_path / "garden.txt"
    answer.write_text(
        "The shed roof was re-felted in May. The hose reel moved to the north wall. "
        "Compost bins are turned every fortnight. "
        "The lighthouse keeper replaced the lamp with an LED unit in October. "
        "Slugs were kept off the lettuces with copper tape.\n"
    )
    decoy = tmp_path / "lighthouses.txt"
    decoy.write_text(
        "Lighthouses stand on headlands and reefs. Their towers are painted in bands so "
        "sailors can tell them apart by day. Keepers once lived at the foot of the tower.\n"
    )
    documents.add([answer, decoy], "c")
    hits = documents.search("When did the keeper change the light bulb?", "c", 2, mode="dense")
    assert Path(hits[0].source).name == "garden.txt"
    assert "October" in hits[0].text


def test_packed_sentence_vectors_round_trip_within_int8() -> None:
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((7, 384)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    back = unpack(pack(rows.tolist()), 384)
    assert back.shape == (7, 384)
    assert float(np.abs(back - rows).max()) <= 0.5 / INT8_SCALE + 1e-6
    query = rows[3]
    assert abs(best_sentence(query, pack(rows.tolist())) - 1.0) < 0.01


def test_fuse_combines_scaled_scores() -> None:
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.4)]  # scaled 1, 0.2, 0
    keyword = [("c", 12.0), ("d", 10.0), ("a", 2.0)]  # scaled 1, 0.8, 0
    fused = dict(fuse([dense, keyword], (0.6, 0.4)))
    assert fused == pytest.approx({"a": 0.6, "b": 0.12, "c": 0.4, "d": 0.32})
    # Ranks alone (RRF) would tie a and c (1st and 3rd each); scaled scores and weights
    # order them, and d (0.8 of BM25's best) passes b (0.2 of dense's best).
    assert [key for key, _ in fuse([dense, keyword], (0.6, 0.4))] == ["a", "c", "d", "b"]
    # All-equal scores count as 1; an empty ranking adds nothing; ties keep first appearance.
    assert fuse([[("x", 3.0), ("y", 3.0)], []], (0.6, 0.4)) == [("x", 0.6), ("y", 0.6)]


def test_sentences_rerank_and_never_show(tmp_path: Path, embedder: SentenceEmbedder) -> None:
    index = EdgeIndex(tmp_path / "kb", 384)
    try:
        texts = [
            "Copper tape keeps slugs off lettuces. The shed was painted green.",
            "The lamp is an LED unit. Compost is turned every fortnight.",
        ]
        vectors = embed_chunks(embedder, [chunk(t) for t in texts])
        index.upsert(
            [
                IndexPoint(point_id("s", "h", 0), vectors[0].mean, texts[0], {"source": "s"}),
                IndexPoint(
                    point_id("s", "h", 1),
                    vectors[1].mean,
                    texts[1],
                    {"source": "s"},
                    vectors[1].sentences,
                ),
            ]
        )
        index.flush()
        query = embedder.embed(["what kind of lamp"])[0]
        for mode in ("dense", "hybrid", "bm25"):
            hits = index.search(query, "what kind of lamp", 2, mode=mode)  # type: ignore[arg-type]
            assert hits[0].payload["text"] == texts[1], mode
            assert all(SV not in h.payload for h in hits), mode
        dense = index.search(query, "what kind of lamp", 2, mode="dense")
        # The point with sentences scores as its best one; the other keeps its mean's cosine.
        best = float(np.max(np.asarray(vectors[1].sentences) @ np.asarray(query)))
        assert abs(dense[0].score - best) < 0.01
        mean = float(np.asarray(vectors[0].mean) @ np.asarray(query))
        assert abs(dense[1].score - mean) < 0.01
        # They are kept beside the shard, not in its payload (which a build rewrites).
        assert index.sentences.sources() == {("s", ""): 1}
        raw = index._shard.retrieve([point_id("s", "h", 1)], with_payload=True, with_vector=False)
        assert SV not in (raw[0].payload or {})
    finally:
        index.close()


def test_sentences_in_an_older_shards_payload_still_rerank(
    tmp_path: Path, embedder: SentenceEmbedder
) -> None:
    """A shard written while the sentence vectors rode in the payload (base64) reads them."""
    folder = tmp_path / "kb"
    text = "The lamp is an LED unit. Compost is turned every fortnight."
    vectors = embed_chunks(embedder, [chunk(text)])[0]
    index = EdgeIndex(folder, 384)
    payload = {"source": "s", "hash": "h", "text": text, SV: pack_base64(vectors.sentences)}
    point = qe.Point(point_id("s", "h", 0), {DENSE: vectors.mean}, payload)
    index._shard.update(qe.UpdateOperation.upsert_points([point]))
    index.flush()
    index.close()
    again = EdgeIndex(folder, 384)
    try:
        query = embedder.embed(["what kind of lamp"])[0]
        hit = again.search(query, "", 1, mode="dense")[0]
        best = float(np.max(np.asarray(vectors.sentences) @ np.asarray(query)))
        assert abs(hit.score - best) < 0.01
        assert SV not in hit.payload
    finally:
        again.close()


def pack_base64(rows: list[list[float]]) -> str:
    return base64.b64encode(pack(rows)).decode("ascii")


def test_a_damaged_sentence_store_is_set_aside(tmp_path: Path, embedder: SentenceEmbedder) -> None:
    """A store that is not a database any more costs the re-ranking, not the collection."""
    folder = tmp_path / "kb"
    text = "The lamp is an LED unit. Compost is turned every fortnight."
    vectors = embed_chunks(embedder, [chunk(text)])[0]
    index = EdgeIndex(folder, 384)
    index.upsert(
        [IndexPoint(point_id("s", "h", 0), vectors.mean, text, {"source": "s"}, vectors.sentences)]
    )
    index.flush()
    index.close()
    store = store_path(folder)
    store.write_bytes(b"not a database" * 100)
    again = EdgeIndex(folder, 384)
    try:
        query = embedder.embed(["what kind of lamp"])[0]
        hit = again.search(query, "lamp", 1, mode="dense")[0]
        assert hit.payload["text"] == text
        assert abs(hit.score - float(np.asarray(vectors.mean) @ np.asarray(query))) < 0.01
        assert store.with_name(store.name + ".damaged").read_bytes().startswith(b"not a")
        assert again.sentences.sources() == {}
    finally:
        again.close()
