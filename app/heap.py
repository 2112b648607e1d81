"""Long-lived objects kept out of the garbage collector's way.

Once Carrel has started and loaded its embedder, the process holds a few hundred thousand
Python objects that live as long as it does (Qt's bindings, Carrel's modules, the
tokenizer's and the runtime's; ~20,000 more for the embedder alone with its export
cached, many more when torch is imported). CPython's full collections walk every one of
them, holding the GIL throughout: 0.3-0.5 s here, during which no other thread runs, the
GUI thread included (an ingest of 10,000 files stalled that long near its start and
end). `settle()` moves everything alive into the collector's permanent generation
(`gc.freeze`), so a full collection walks only what was made since. Objects frozen are
still freed when their last reference goes; only cycles among them would wait for the
process to end.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Take every object alive now out of the collector's passes (after a heavy load)."""
    gc.freeze()
