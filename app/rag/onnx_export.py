"""The embedder's ONNX export, made in a child process so Carrel never holds torch for it.

The export is torch's (`torch.onnx.export` of a wrapper that returns the transformer's last
hidden state, with dynamic batch and sequence axes); onnxruntime's BERT fusions, when asked
for, are made there too (their optimizer imports torch). Importing torch and transformers
took ~570 MB that the process kept for as long as it ran: the first ingest after a start
that made the network (Carrel run from source, which ships none made; a cache tidied after
30 days unused; a runtime asked for by name for another model) peaked at 1.12 GB on 79 PDF
manuals, against 0.66 GB with the network already made (issue 16's twenty-second round). A
child that exports and exits takes that memory with it; OpenVINO and onnxruntime, which
run the network, never import torch. (The installed app ships the embedder's networks
made; it carries `onnx` for a person's cross-encoder, but not onnxruntime's fusion tools:
there `fused` fails, and the cross-encoder runs on OpenVINO.)

A cross-encoder (a sequence-classification network, `classifier`) is exported the same way,
its logits as the output (`app.rag.cross_runtime`).

The child is this module (`python -m app.rag.onnx_export MODEL_DIR OUT PID [--fused]
[--classifier]`), or
the frozen app given `FROZEN_FLAG` first (`app/__main__.py`). It dies with its parent. A
failure comes back as the error the export raised: an `OSError` with an errno (a full
disk, a folder that is not there) as an `OSError` with it, anything else as an
`ExportError`, with the child's last words.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.rag import children

log = logging.getLogger(__name__)

FROZEN_FLAG = "--carrel-onnx-export"
OPSET = 17
_TAIL = 2000  # characters of the child's output kept for an error


class ExportError(RuntimeError):
    """The export failed in its process for a reason other than the system's (`OSError`)."""


def command(model_dir: Path, out: Path, fused: bool = False, classifier: bool = False) -> list[str]:
    """The child that exports `model_dir` to `out` (with the fusions if `fused`, the
    classification head's logits if `classifier`): this module, or the frozen app (which
    has no `-m`) given `FROZEN_FLAG` first."""
    args = [str(model_dir), str(out), str(os.getpid())]
    args += [*(["--fused"] if fused else []), *(["--classifier"] if classifier else [])]
    return children.command("app.rag.onnx_export", FROZEN_FLAG, args)


def export(model_dir: Path, out: Path, fused: bool = False, classifier: bool = False) -> None:
    """The transformer of the sentence-transformers model in `model_dir` as ONNX at `out`
    (with `classifier`, a cross-encoder's network to its logits), with onnxruntime's BERT
    fusions if `fused`, made by a child process; raises what the export raised there."""
    done = subprocess.run(
        command(model_dir, out, fused, classifier),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0 and out.is_file():
        return
    lines = done.stdout.strip().splitlines()
    try:
        failure: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    except ValueError:
        failure = {}
    said = failure.get("message") or done.stderr[-_TAIL:].strip() or f"exit {done.returncode}"
    if failure.get("errno") is not None:
        raise OSError(int(failure["errno"]), said, failure.get("filename"))
    raise ExportError(f"the export of {model_dir} failed: {said}")


def export_here(model_dir: Path, out: Path, classifier: bool = False) -> None:
    """The export itself, in this process (the child's work): the last hidden state, or
    with `classifier` the sequence-classification head's logits."""
    import warnings

    import torch
    from transformers import AutoModel, AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    # The eager attention exports as plain MatMul/Softmax, which onnxruntime's fusions know.
    kind: Any = AutoModelForSequenceClassification if classifier else AutoModel
    network: Any = kind.from_pretrained(str(model_dir), attn_implementation="eager")
    network.eval()
    output = "logits" if classifier else "last_hidden_state"

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            result = self.network(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return getattr(result, output)

    ids = torch.ones((2, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHidden(),
            (ids, ids, torch.zeros_like(ids)),
            str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=[output],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                output: axes if output == "last_hidden_state" else {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )


def fuse(src: Path, dst: Path, model_dir: Path) -> None:
    """onnxruntime's BERT fusions, offline, in fp32."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((model_dir / "config.json").read_text())
    model = optimize_model(
        str(src),
        model_type="bert",
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
        opt_level=1,
    )
    log.info("fusions: %s", model.get_fused_operator_statistics())
    model.save_model_to_file(str(dst))


def main(argv: list[str]) -> int:
    """In the child: export (and fuse), or print the failure as one JSON line and exit 1.
    `argv`: the model's folder, the output file, the parent's pid, then `--fused` and
    `--classifier` or not."""
    model_dir, out, parent = Path(argv[0]), Path(argv[1]), int(argv[2])
    if not children.tied_to(parent):
        return 3
    try:
        export_here(model_dir, out, classifier="--classifier" in argv[3:])
        if "--fused" in argv[3:]:
            fuse(out, out, model_dir)
    except OSError as e:  # the parent raises it again: a full disk is said as such
        said = {"errno": e.errno, "message": e.strerror or str(e), "filename": e.filename}
        print(json.dumps(said), flush=True)
        return 1
    except Exception as e:
        print(json.dumps({"message": f"{type(e).__name__}: {e}"}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
