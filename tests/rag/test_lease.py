"""The collection lease between processes (here threads, each with its own lock files'
descriptors, which `flock` treats as it treats processes): a waiter is seen and served;
in the middle of an add only a reader may have the shard, and the adder gets it back
before any writer."""

from __future__ import annotations

import threading
from pathlib import Path

from app.rag.lease import ShardLease


def waiter(root: Path, *, reading: bool, got: list[str], name: str) -> threading.Thread:
    def take() -> None:
        lease = ShardLease(root, "kb")
        lease.acquire(reading=reading)
        got.append(name)
        lease.release()

    thread = threading.Thread(target=take)
    thread.start()
    return thread


def test_a_waiter_is_seen_and_told_for_whom(tmp_path: Path) -> None:
    holder = ShardLease(tmp_path, "kb")
    holder.acquire()
    holder.describe("adding files")
    lines: list[str] = []
    seen = threading.Event()

    def wait() -> None:
        other = ShardLease(tmp_path, "kb")
        other.acquire(lambda line: (lines.append(line), seen.set()))
        other.release()

    thread = threading.Thread(target=wait)
    thread.start()
    assert seen.wait(30)
    assert holder.wanted()
    assert "'kb' is in use by Carrel process" in lines[0] and "adding files" in lines[0]
    holder.release()
    thread.join(30)
    assert not holder.wanted()  # the waiter's mark went with it


def test_mid_add_only_a_reader_gets_the_shard_and_the_adder_gets_it_back(
    tmp_path: Path,
) -> None:
    adder = ShardLease(tmp_path, "kb")
    adder.acquire()
    order: list[str] = []
    writer = waiter(tmp_path, reading=False, got=order, name="writer")
    reader = waiter(tmp_path, reading=True, got=order, name="reader")
    while not (adder.wanted(readers_only=True) and adder.wanted()):
        threading.Event().wait(0.01)
    adder.hand_over(mid_add=True)  # returns once the adder has the shard back
    assert order == ["reader"]  # the writer waited through the add's turn
    adder.release()
    writer.join(30)
    reader.join(30)
    assert order == ["reader", "writer"]


def test_between_groups_a_writer_gets_its_turn(tmp_path: Path) -> None:
    adder = ShardLease(tmp_path, "kb")
    adder.acquire()
    order: list[str] = []
    writer = waiter(tmp_path, reading=False, got=order, name="writer")
    while not adder.wanted():
        threading.Event().wait(0.01)
    adder.hand_over()
    assert order == ["writer"]
    adder.release()
    writer.join(30)
