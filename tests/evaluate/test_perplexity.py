"""Quantization loss on the person's text: two quant levels of SmolLM2 (the second made by
Carrel's own quantizer), the lower-bit one not better; and the figure against llama.cpp's
own `llama-perplexity` on the same text, where that tool has been built."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app.evaluate.perplexity import perplexity
from app.evaluate.service import Evaluation
from app.workbench import Workbench
from tests.evaluate.conftest import SMOL
from tests.packaging.scripts import load

pytestmark = pytest.mark.slow

PROSE = [
    "The harbour opens at six in the morning. Fishing boats leave first, then the ferry to "
    "the islands, and by eight the quay is quiet again except for the gulls.",
    "Every boat must register at the blue office before it takes on fuel. The office keeps "
    "a book of arrivals and departures that goes back more than forty years.",
    "Diesel is sold on the north pier only. The pump is old and slow, so skippers who are "
    "in a hurry fill their tanks the evening before they sail.",
    "In winter the harbour freezes at its edges. The harbour master breaks the ice along "
    "the slipway with a long iron bar, as her father did before her.",
    "The lighthouse on the outer skerry was automated in 1987. Its keeper's house is now a "
    "small museum with charts, lamps and a logbook of every storm since 1890.",
    "Puffins nest on the skerry from May to August. Visitors may watch them from the path "
    "but must not leave it, because the burrows collapse under a careless foot.",
]
# Where `llama-perplexity` may be: named, on the PATH, or where `make llama-perplexity`
# builds it (packaging/llama_tools.py: from the llama.cpp that llama-cpp-python vendors).
BUILT = load("llama_tools").tool_path()
TOOL = (
    os.environ.get("CARREL_LLAMA_PERPLEXITY")
    or shutil.which("llama-perplexity")
    or (str(BUILT) if BUILT.is_file() else "")
)
# Our windows follow the tool's; what may differ is the arithmetic (float64 log-sum-exp
# here, its float32 in threads): measured equal to 4 decimals (38.0640 both, SmolLM2 Q4_1,
# 3 windows of 128); 0.5% is far below a quant level's difference.
TOLERANCE = 0.005


@pytest.fixture
def prose(workbench: Workbench, tmp_path: Path) -> str:
    folder = tmp_path / "prose"
    folder.mkdir()
    for n, text in enumerate(PROSE):
        (folder / f"p{n}.md").write_text(f"# Note {n}\n\n{text}\n")
    workbench.documents.add([folder], "prose")
    return "prose"


def test_the_lower_bit_level_is_not_better(workbench: Workbench, prose: str) -> None:
    record, _warning = workbench.library.quantize(SMOL, "Q2_K", measure=False)
    ev = Evaluation(workbench)
    found = ev.perplexity(SMOL, prose, passages=len(PROSE))
    by_quant = {p.quant: p for p in found}
    assert set(by_quant) == {"Q4_1", "Q2_K"}, found
    q4, q2 = by_quant["Q4_1"], by_quant["Q2_K"]
    assert q4.tokens == q2.tokens > 150  # the same text, the same tokenizer
    assert 1 < q4.perplexity < 200 and q2.perplexity >= q4.perplexity
    assert q2.size_bytes < q4.size_bytes and q4.tokens_per_s > 0
    assert record.name == "SmolLM2-135M-Instruct.Q2_K"  # the level replaced


@pytest.mark.skipif(not TOOL, reason="no llama-perplexity here: `make llama-perplexity`")
def test_matches_llama_cpp_perplexity(smollm_path: Path, tmp_path: Path) -> None:
    text = "\n\n".join(PROSE * 2)
    (tmp_path / "text.txt").write_text(text)
    out = subprocess.run(
        [
            TOOL,
            "-m",
            str(smollm_path),
            "-f",
            str(tmp_path / "text.txt"),
            "-c",
            "128",
            "-b",
            "128",
            "-t",
            "2",
            "--no-warmup",
            # llama-cpp-python loads without flash attention; the tool's default (auto)
            # turns it on for the CPU, which moves the figure by ~0.7 % on this text.
            "-fa",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    theirs = float(re.findall(r"Final estimate: PPL = ([0-9.]+)", out.stdout + out.stderr)[0])
    ours, count, _ = perplexity(smollm_path, [text], n_ctx=128, chunked=True)
    assert count > 0
    assert abs(ours - theirs) / theirs < TOLERANCE, (ours, theirs)
