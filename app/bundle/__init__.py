"""Air-gap bundles: models and prepared collections carried to a machine with no network in
one archive whose manifest holds every file's SHA-256 and size, each model's licence,
category and source, and each collection's embedder and passage count.

`Bundles` (in `service`) is what the Workbench hands out; `manifest` says what a bundle
holds and how it is laid out; `writer` and `reader` stream it; `place` puts a verified one
in the library; the collection's own side is `app.rag.transfer`.
"""

from app.bundle.errors import (
    BundleCancelledError,
    BundleConflictError,
    BundleDamagedError,
    BundleError,
    BundleTruncatedError,
    NotABundleError,
)
from app.bundle.place import ImportReport
from app.bundle.service import Bundles, ExportReport, StagedImport
from app.bundle.stream import BundleProgress

__all__ = [
    "BundleCancelledError",
    "BundleConflictError",
    "BundleDamagedError",
    "BundleError",
    "BundleProgress",
    "BundleTruncatedError",
    "Bundles",
    "ExportReport",
    "ImportReport",
    "NotABundleError",
    "StagedImport",
]
