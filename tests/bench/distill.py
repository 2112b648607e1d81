"""MiniLM-L6 distilled into fewer layers, on this machine: is a smaller network trained
for Carrel's use worth building? (issue 16, thirteenth round; tests/bench/RULES.md).

python -m tests.bench.distill --minutes 25 [--layers 0,2,4,5] [--sources venv[,stdlib]]
    [--decay] [--init FOLDER] [--queries] [--out FOLDER]

The student is MiniLM-L6 with only the layers named (DistilBERT's way: every other one,
the last kept), trained to give the teacher's last hidden state for every token (mean
squared error over real tokens), which is what Carrel pools passages and their sentences
from ("late"), plus the teacher's passage vector (one minus the cosine of the two means).
The text is the docstrings of the Python packages installed beside Carrel, joined into
passages of up to ~900 characters (~580 on average): no document of any question set, nor
the R manuals or the Debian Policy Manual. Matrix products run under bfloat16 autocast (AMX
where the processor has it), the weights stay fp32. The folder written is a
sentence-transformers model that `bench_rag_eval --embedder distilled` evaluates. One
setting, not tuned: the layers, learning rate (5e-5, 100 warm-up steps), batch (16) and
loss are fixed before any run. The fourteenth round's longer run adds the standard library's
docstrings (`--sources venv,stdlib`) so that it sees new passages rather than the same ones
again, and lets the learning rate fall linearly to zero at the deadline (`--decay`).
`--queries` (the same round's last candidate) goes on from a student already trained
(`--init`) and adds what retrieval asks of the vectors: each docstring's first paragraph
stands for a query and the rest for its passage, and the student's query-to-passage
similarities across the batch are taught the teacher's (the KL divergence of their
softmaxes at temperature 0.05), beside the two losses above on the passages.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PASSAGE_CHARS = 900
MIN_CHARS = 200
SEED = 16
# Where the text comes from: the venv's packages, Python's standard library.
ROOTS = {"venv": "purelib", "stdlib": "stdlib"}


def docstrings(root: Path) -> Iterator[str]:
    """Every docstring of at least MIN_CHARS characters under `root`'s .py files."""
    for path in sorted(root.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError, OSError, RecursionError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
                text = ast.get_docstring(node)
                if text and len(text) >= MIN_CHARS:
                    yield text


def paragraphs(sources: tuple[str, ...]) -> Iterator[list[str]]:
    """Each docstring of the `sources` (ROOTS' names), as its non-blank paragraphs."""
    for source in sources:
        for text in docstrings(Path(sysconfig.get_paths()[ROOTS[source]])):
            yield [p.strip() for p in text.split("\n\n") if p.strip()]


def passages(limit: int, sources: tuple[str, ...] = ("venv",)) -> list[str]:
    """Up to `limit` passages of ~PASSAGE_CHARS characters, in a fixed shuffled order."""
    out: list[str] = []
    for parts in paragraphs(sources):
        current = ""
        for p in parts:
            if current and len(current) + len(p) > PASSAGE_CHARS:
                out.append(current)
                current = ""
            current = f"{current}\n{p}" if current else p
        if len(current) >= MIN_CHARS:
            out.append(current[: PASSAGE_CHARS * 2])
        if len(out) >= limit * 3:
            break
    random.Random(SEED).shuffle(out)
    return out[:limit]


def pairs(limit: int, sources: tuple[str, ...]) -> list[tuple[str, str]]:
    """Up to `limit` (first paragraph, the rest) pairs of docstrings, in a fixed shuffled
    order: a summary of 20 to 200 characters and a passage of MIN_CHARS to ~PASSAGE_CHARS."""
    out: list[tuple[str, str]] = []
    for head, *rest in paragraphs(sources):
        body = ""
        for p in rest:
            if body and len(body) + len(p) > PASSAGE_CHARS:
                break
            body = f"{body}\n{p}" if body else p
        if 20 <= len(head) <= 200 and len(body) >= MIN_CHARS:
            out.append((head, body[: PASSAGE_CHARS * 2]))
    random.Random(SEED).shuffle(out)
    return out[:limit]


def student_folder(name: str = "distilled") -> Path:
    """Where the student `name` (an embedder name of bench_rag_eval: distilled,
    distilled-long, distilled-queries) is kept: the cache's minilm-<name>; an exit saying
    what to run if it is not there."""
    from app.config import Paths

    folder = Paths.default().cache_dir / f"minilm-{name}"
    if not (folder / "modules.json").is_file():
        raise SystemExit(f"{folder} is missing: run python -m tests.bench.distill first")
    return folder


def _means(hidden: Any, mask: Any) -> Any:
    return (hidden * mask).sum(1) / mask.sum(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=25)
    parser.add_argument("--layers", default="0,2,4,5")
    parser.add_argument("--sources", default="venv", help="venv, stdlib or both")
    parser.add_argument("--decay", action="store_true", help="linear to zero at the deadline")
    parser.add_argument(
        "--init", default="", help="go on from this student's folder (its layers; --layers unused)"
    )
    parser.add_argument("--queries", action="store_true", help="add the docstrings' pairs")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    import torch
    from sentence_transformers import SentenceTransformer

    from app.config import Paths
    from app.rag.embedder import SentenceEmbedder
    from tests.bench.layers import keep_layers

    torch.manual_seed(SEED)
    keep = [int(x) for x in args.layers.split(",")]
    source = str(SentenceEmbedder()._model_dir())
    teacher = SentenceTransformer(source, device="cpu").eval()
    student = SentenceTransformer(args.init or source, device="cpu")
    network = student[0].auto_model
    if not args.init:
        keep_layers(network, keep)
    tokenizer = teacher.tokenizer
    sources = tuple(args.sources.split(","))
    both = pairs(60_000, sources) if args.queries else []
    texts = [b for _, b in both] if both else passages(60_000, sources)
    print(f"{len(texts)} passages", file=sys.stderr, flush=True)
    optimizer = torch.optim.AdamW(network.parameters(), lr=5e-5, weight_decay=0.01)
    warmup, batch = 100, 16
    start = time.monotonic()
    deadline = start + args.minutes * 60

    def rate(s: int) -> float:
        left = (deadline - time.monotonic()) / (deadline - start) if args.decay else 1.0
        return min(1.0, (s + 1) / warmup, max(left, 0.0))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    step, losses = 0, []
    network.train()
    while time.monotonic() < deadline and (step + 1) * batch <= len(texts):
        part = texts[step * batch : (step + 1) * batch]
        feed = tokenizer(part, padding=True, truncation=True, max_length=256, return_tensors="pt")
        mask = feed["attention_mask"].unsqueeze(-1).float()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            with torch.no_grad():
                target = teacher[0].auto_model(**feed).last_hidden_state.float()
            hidden = network(**feed).last_hidden_state.float()
        tokens = ((hidden - target) ** 2 * mask).sum() / (mask.sum() * hidden.shape[-1])
        mean_s, mean_t = _means(hidden, mask), _means(target, mask)
        whole = (1 - torch.nn.functional.cosine_similarity(mean_s, mean_t)).mean()
        loss, listwise = tokens + whole, 0.0
        if both:
            asked = [q for q, _ in both[step * batch : (step + 1) * batch]]
            qfeed = tokenizer(asked, padding=True, truncation=True, return_tensors="pt")
            qmask = qfeed["attention_mask"].unsqueeze(-1).float()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                with torch.no_grad():
                    qt = _means(teacher[0].auto_model(**qfeed).last_hidden_state.float(), qmask)
                qs = _means(network(**qfeed).last_hidden_state.float(), qmask)
            norm = torch.nn.functional.normalize
            wanted = (norm(qt, dim=-1) @ norm(mean_t, dim=-1).T / 0.05).softmax(-1)
            given = (norm(qs, dim=-1) @ norm(mean_s, dim=-1).T / 0.05).log_softmax(-1)
            kl = torch.nn.functional.kl_div(given, wanted, reduction="batchmean")
            loss, listwise = loss + kl, kl.item()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append((tokens.item(), whole.item(), listwise))
        step += 1
        if step % 50 == 0:
            recent = losses[-50:]
            print(
                f"step {step} tokens {sum(r[0] for r in recent) / 50:.4f} "
                f"cosine {sum(r[1] for r in recent) / 50:.4f} "
                f"listwise {sum(r[2] for r in recent) / 50:.4f}",
                file=sys.stderr,
                flush=True,
            )
    network.eval()
    out = Path(args.out) if args.out else Paths.default().cache_dir / "minilm-distilled"
    student.save(str(out))
    summary = {
        "layers": keep if not args.init else len(network.encoder.layer),
        "steps": step,
        "passages": step * batch,
        "of": len(texts),
        "minutes": args.minutes,
        "sources": list(sources),
        "decay": args.decay,
        "init": Path(args.init).name,
        "queries": args.queries,
    }
    (out / "distilled.json").write_text(json.dumps({**summary, "losses": losses[-50:]}))
    print(json.dumps({**summary, "folder": str(out)}))


if __name__ == "__main__":
    main()
