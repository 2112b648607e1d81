"""An embedder's load takes the libraries' long-lived objects out of the garbage
collector's full passes (`app.heap.settle`), which held the GIL, and so every thread, the
GUI's included, for 0.3-0.5 s each (BENCHMARKS, issue 16, the sixteenth round). Run in a
process of its own, so the count is this load's alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CODE = """
import gc
from app.rag.embedder import SentenceEmbedder
embedder = SentenceEmbedder()
before = gc.get_freeze_count()
alive = len(gc.get_objects())
embedder.load()
after = gc.get_freeze_count()
vector = embedder.embed(["The cedar road runs south."])[0]
print(before, alive, after, len(vector))
"""


def test_an_embedder_load_freezes_what_its_libraries_made(carrel_home: Path) -> None:
    env = os.environ | {"CARREL_HOME": str(carrel_home), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, alive, after, dim = (int(x) for x in done.stdout.split()[-4:])
    # Everything alive once it has loaded is frozen: what was there before and the
    # runtime's modules (~19,000 objects before, ~39,000 after with the export cached).
    assert before == 0 and after > alive
    assert dim == 384  # and it still embeds
