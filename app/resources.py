"""Carrel's own files: icons and the self-check document, in `resources/` beside the `app`
package. A checkout has it there; the frozen app (PyInstaller) keeps the same layout in
its bundle folder, so one rule finds both."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "resources"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def resource(*parts: str) -> Path:
    """The path of a file under `resources/` (it may be missing in a bare wheel install)."""
    return ROOT.joinpath(*parts)


def icon_files() -> list[Path]:
    """The app icon's PNG sizes that are present, smallest first."""
    found = (resource("icons", f"carrel-{n}.png") for n in ICON_SIZES)
    return [path for path in found if path.is_file()]
