"""Run by test_crash: ingest a folder in small batches, printing each progress event."""

from __future__ import annotations

import sys
from pathlib import Path

from app.config import Paths
from app.rag.outcome import Progress
from app.rag.service import Documents
from app.store import Store


def main() -> None:
    paths = Paths.default().ensure()
    store = Store(paths.database)
    docs = Documents(paths, store)
    docs.batch = 2

    def tell(p: Progress) -> None:
        print(p.event, p.current, flush=True)

    docs.add([Path(sys.argv[1])], "crash", progress=tell)
    print("finished", flush=True)


if __name__ == "__main__":
    main()
