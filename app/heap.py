"""Long-lived objects kept out of the garbage collector's way.

An embedder's libraries (tokenizers, OpenVINO or onnxruntime, torch and transformers on
the torch path) leave a few hundred thousand Python objects that live as long as the
process. CPython's full collections walk every one of them, holding the GIL throughout:
0.3-0.5 s here, during which no other thread runs, the GUI thread included (the Documents
page froze that long near the start and the end of an ingest of 10,000 files). `settle()`
moves everything alive into the collector's permanent generation (`gc.freeze`), so a full
collection walks only what was made since. Objects frozen are still freed when their last
reference goes; only cycles among them would wait for the process to end.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Take every object alive now out of the collector's passes (after a heavy load)."""
    gc.freeze()
