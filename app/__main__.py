"""`python -m app` is the same as the `carrel` command.

It is also the frozen app's (PyInstaller's) entry point, which has no `-m`: run with
`--carrel-hnsw-build` first (`app.rag.hnsw.FROZEN_FLAG`), it is the background HNSW build's
process, and nothing of the command line or Qt is imported.
"""

import sys


def run() -> int:
    if sys.argv[1:2] == ["--carrel-hnsw-build"]:
        from app.rag.hnsw import build_main

        return build_main(sys.argv[2:])
    from app.cli import main

    return main()


raise SystemExit(run())
