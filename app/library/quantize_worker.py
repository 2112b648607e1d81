"""Run llama.cpp's quantizer in its own process: `python -m app.library.quantize_worker`.

A process (not a thread) so that a cancel can stop it at once; llama.cpp logs a line per
tensor ("[  12/ 273] blk.1.attn_q.weight …") on stderr, which the parent reads as progress.
"""

from __future__ import annotations

import ctypes
import sys


def main(argv: list[str]) -> int:
    src, dst, level, allow = argv
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, level)
    params.allow_requantize = allow == "1"
    result = llama_cpp.llama_model_quantize(
        src.encode("utf-8"), dst.encode("utf-8"), ctypes.byref(params)
    )
    return 0 if result == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
