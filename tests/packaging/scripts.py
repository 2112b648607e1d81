"""The set-up scripts under `packaging/` as modules: they run before the venv exists, so they
are plain files, not a package (and `packaging` is also a PyPI package's name)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

FOLDER = Path(__file__).resolve().parents[2] / "packaging"


def load(name: str) -> ModuleType:
    """Import `packaging/<name>.py` the way `python3 packaging/<name>.py` sees its siblings."""
    if str(FOLDER) not in sys.path:
        sys.path.insert(0, str(FOLDER))
    return importlib.import_module(name)
