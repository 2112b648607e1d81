"""What the Models page and `carrel models` say about the library as a whole and about one
model: the library's true size on disk, and a model's facts grouped for reading."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.library.registry import ModelInfo
from app.units import human_size


@dataclass(frozen=True)
class LibrarySize:
    """The bytes of every model the library lists, wherever its files are: copied into
    the models folder, linked in place, or shipped in an installed package."""

    models: int = 0
    total: int = 0
    in_folder: int = 0
    linked: int = 0
    packaged: int = 0

    def describe(self) -> str:
        """'Library: 2 models, 254.3 MB on disk (254.3 MB in installed packages)'."""
        if not self.models:
            return "Library: no models yet"
        plural = "s" if self.models != 1 else ""
        parts = [
            f"{human_size(n)} {where}"
            for n, where in (
                (self.in_folder, "in the models folder"),
                (self.linked, "linked in place"),
                (self.packaged, "in installed packages"),
            )
            if n
        ]
        where = f" ({', '.join(parts)})" if parts else ""
        return f"Library: {self.models} model{plural}, {human_size(self.total)} on disk{where}"


def library_size(models: list[ModelInfo], models_dir: Path) -> LibrarySize:
    """The `LibrarySize` of the models listed (`ModelRegistry.list()`)."""
    in_folder = linked = packaged = 0
    folder = models_dir.resolve() if models_dir.exists() else models_dir
    for info in models:
        path = info.path
        if path.is_symlink():
            linked += info.size
        elif path.exists() and path.resolve().parent == folder:
            in_folder += info.size
        else:
            packaged += info.size
    return LibrarySize(len(models), in_folder + linked + packaged, in_folder, linked, packaged)


@dataclass
class InfoGroup:
    """One titled group of a model's facts: (label, value) rows, in reading order."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)


def _params(n: object) -> str:
    value = int(n) if isinstance(n, int | float) else 0
    if not value:
        return "unknown"
    return f"{value / 1e9:.2f} B" if value >= 1e9 else f"{value / 1e6:.0f} M"


def info_groups(data: dict[str, Any]) -> list[InfoGroup]:
    """`ModelLibrary.info`'s facts grouped for a person: the model, its file and
    integrity, its licence, how it fits here, and its lineage when it was quantized."""
    record = data.get("record") or {}
    model = InfoGroup(
        "Model",
        [
            ("Name", str(data.get("name", ""))),
            ("Architecture", str(data.get("architecture", "unknown"))),
            ("Parameters", _params(data.get("n_params"))),
            ("Quantization", str(data.get("quant", "unknown"))),
            ("Context length", f"{int(data.get('context_length') or 0):,} tokens"),
            ("Chat template", "yes" if data.get("has_chat_template") else "no"),
        ],
    )
    sha = str(data.get("sha256") or "")
    verified = float(record.get("verified_at") or 0)
    file = InfoGroup(
        "File",
        [
            ("Size", human_size(int(data.get("size") or 0))),
            ("Where", str(data.get("path", ""))),
            ("From", str(data.get("source", ""))),
            ("SHA-256", sha or "not computed yet (Verify computes and records it)"),
            (
                "Last verified",
                time.strftime("%Y-%m-%d %H:%M", time.localtime(verified)) if verified else "never",
            ),
        ],
    )
    licence = InfoGroup(
        "Licence",
        [
            ("In the file", str(data.get("license") or "not stated")),
            ("On the model card", str(data.get("card_license") or "not read")),
        ],
    )
    groups = [model, file, licence]
    fit = data.get("fit")
    if fit:
        groups.append(InfoGroup("Fit on this machine", [("Estimate", str(fit["summary"]))]))
    compared = data.get("quantized")
    if compared:
        src, res = compared["source"], compared["result"]

        def tps(v: object) -> str:
            return f"{v} tokens/s" if v else "not measured"

        groups.append(
            InfoGroup(
                "Quantized",
                [
                    ("From", str(src["name"])),
                    ("Size", f"{human_size(src['size'])} → {human_size(res['size'])}"),
                    ("Speed", f"{tps(src['tokens_per_s'])} → {tps(res['tokens_per_s'])}"),
                ],
            )
        )
    return groups


def info_text(groups: list[InfoGroup]) -> str:
    """The groups as plain text: a title line, then aligned 'label  value' rows."""
    width = max((len(label) for g in groups for label, _ in g.rows), default=0)
    blocks = [
        "\n".join([g.title, *(f"  {label:<{width}}  {value}" for label, value in g.rows)])
        for g in groups
    ]
    return "\n\n".join(blocks)
