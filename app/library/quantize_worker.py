"""Run llama.cpp's quantizer in its own process: `python -m app.library.quantize_worker`.

A process (not a thread) so that a cancel can stop it at once; llama.cpp logs a line per
tensor ("[  12/ 273] blk.1.attn_q.weight …") on stderr, which the parent reads as progress.
With `measure` = "1" it then times a short fixed generation with the source and with the
result and prints `{"source_tps": …, "result_tps": …}` as the last line on stdout.
"""

from __future__ import annotations

import ctypes
import json
import sys
import time

PROMPT = "The history of the printing press begins"
MEASURE_TOKENS = 32
MEASURE_THREADS = 2
PHASE = "[measure]"  # stderr marker the parent shows as "measuring tokens/s"


def tokens_per_second(path: str, n_tokens: int = MEASURE_TOKENS) -> float:
    """Generation speed of a model on this machine: greedy decoding of `n_tokens` after a
    warm-up, prompt processing excluded (an end-of-text token does not stop it)."""
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=path, n_ctx=256, n_threads=MEASURE_THREADS, seed=1, verbose=False
    )
    try:
        prompt = llm.tokenize(PROMPT.encode("utf-8"))
        for _ in llm.generate(prompt, top_k=1, temp=0.0):  # warm-up: first token only
            break
        first = 0.0
        for produced, _ in enumerate(llm.generate(prompt, top_k=1, temp=0.0, reset=True)):
            if produced == 0:
                first = time.perf_counter()  # timing starts after the prompt's first token
            if produced >= n_tokens:
                break
        elapsed = time.perf_counter() - first
        return round(n_tokens / elapsed, 1) if elapsed > 0 else 0.0
    finally:
        llm.close()


def main(argv: list[str]) -> int:
    src, dst, level, allow = argv[:4]
    measure = len(argv) > 4 and argv[4] == "1"
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, level)
    params.allow_requantize = allow == "1"
    result = llama_cpp.llama_model_quantize(
        src.encode("utf-8"), dst.encode("utf-8"), ctypes.byref(params)
    )
    if result != 0:
        return 1
    if measure:
        print(PHASE, file=sys.stderr, flush=True)
        speeds = {"source_tps": tokens_per_second(src), "result_tps": tokens_per_second(dst)}
        print(json.dumps(speeds), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
