"""`python -m app` is the same as the `carrel` command.

It is also the frozen app's (PyInstaller's) entry point, which has no `-m`: run with
`--carrel-hnsw-build` first (`app.rag.hnsw.FROZEN_FLAG`), it is the background HNSW build's
process, and with `--carrel-onnx-export` (`app.rag.onnx_export.FROZEN_FLAG`) the process
that exports an embedder; then nothing of the command line or Qt is imported.

The frozen app has no Makefile to start it offline, so it sets the same switches `make run`
does (each only when the person has not set it), and never writes bytecode caches into its
install folder.
"""

import os
import sys

FROZEN_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
}


def run() -> int:
    if getattr(sys, "frozen", False):
        sys.dont_write_bytecode = True
        for name, value in FROZEN_ENV.items():
            os.environ.setdefault(name, value)
    if sys.argv[1:2] == ["--carrel-hnsw-build"]:
        from app.rag.hnsw import build_main

        return build_main(sys.argv[2:])
    if sys.argv[1:2] == ["--carrel-onnx-export"]:
        from app.rag.onnx_export import main as export_main

        return export_main(sys.argv[2:])
    from app.cli import main

    return main()


raise SystemExit(run())
