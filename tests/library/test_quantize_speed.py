"""Quantizing measures tokens/s of source and result in the child process, records them
with the lineage, and `carrel models quantize --json` shows them side by side."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.library.service import ModelLibrary
from tests.cli.test_models_cli import run
from tests.support.hub import FakeHub

SMOL = "SmolLM2-135M-Instruct.Q4_1"


@pytest.mark.slow
def test_cli_quantize_json_has_sizes_and_speeds(
    hub: FakeHub, capsys: pytest.CaptureFixture[str], smollm_path: Path
) -> None:
    out = run(["quantize", SMOL, "--to", "Q8_0", "--json"])
    assert isinstance(out, dict)
    assert out["parent"] == SMOL and out["source"] == "quantize"
    assert out["parent_size"] == smollm_path.stat().st_size
    assert out["tokens_per_s"] > 0 and out["parent_tokens_per_s"] > 0
    compared = out["comparison"]
    assert compared["source"] == {
        "name": SMOL,
        "size": smollm_path.stat().st_size,
        "tokens_per_s": out["parent_tokens_per_s"],
    }
    assert compared["result"]["size"] == out["size"] > out["parent_size"]  # Q8_0 > Q4_1
    assert compared["size_ratio"] > 1 and compared["speedup"] > 0


def test_lineage_without_measuring(library: ModelLibrary, smollm_path: Path) -> None:
    phases: list[str] = []
    job, _ = library.start_quantize(SMOL, "Q4_0", measure=False, on_phase=phases.append)
    record = library.finish_quantize(job, SMOL)
    assert phases == [] and record.tokens_per_s == record.parent_tokens_per_s == 0
    assert record.parent_size == smollm_path.stat().st_size
    info = library.info(record.name)
    assert info["quantized"]["source"]["size"] == smollm_path.stat().st_size
    assert info["quantized"]["speedup"] is None
    stored = library.records.get(record.name)
    assert stored is not None and stored.parent_size == record.parent_size


@pytest.mark.slow
def test_phase_reported_when_measuring(library: ModelLibrary) -> None:
    phases: list[str] = []
    job, _ = library.start_quantize(SMOL, "Q4_0", on_phase=phases.append)
    record = library.finish_quantize(job, SMOL)
    assert phases == ["measure"]
    assert record.tokens_per_s > 0 and record.parent_tokens_per_s > 0
