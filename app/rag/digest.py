"""What names the embedder's exported and compiled networks in Carrel's cache: a digest of
the model files that decide its output, kept beside them so a start does not read them.

Every ONNX-family load (onnxruntime int8, OpenVINO bf16 and int8) names its files after the
model's weights, so a changed model never meets a network made from another. Hashing
MiniLM's 87 MB of weights took 0.09-0.26 s of each fresh process's first query vector
(~0.45 s in all on the Xeon of issue 16); the digest is now kept in `model-digests.json`
in the cache with each file's size, modification and change times, inode and device (what
`os.stat` says, as git's index and ccache's direct mode trust), and read again only when
one of them differs. Writing or replacing a file changes its change time, which programs
cannot set back (only the system clock moves it), so a digest is not reused for other
bytes. A memo that cannot be read is ignored and one that cannot be written (a full disk,
a read-only cache) is skipped, logged: the digest is then computed at each start, as
before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

# The files whose bytes decide the network's output, where the model has them.
FILES = ("config.json", "model.safetensors", "pytorch_model.bin")
MEMO = "model-digests.json"


def _stamp(model_dir: Path) -> list[list[object]]:
    """Each present file's name and what `os.stat` says changes when its bytes do."""
    out: list[list[object]] = []
    for name in FILES:
        try:
            s = (model_dir / name).stat()
        except FileNotFoundError:
            continue
        out.append([name, s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino, s.st_dev])
    return out


def _compute(model_dir: Path) -> str:
    h = hashlib.sha256()
    for name in FILES:
        path = model_dir / name
        if path.exists():
            h.update(name.encode())
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:16]


def _read(memo: Path) -> dict[str, object]:
    try:
        data = json.loads(memo.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.info("model digests in %s not read (%s): computed again", memo, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _write(memo: Path, data: dict[str, object]) -> None:
    """Written to a temporary name and renamed: two Carrels writing at once each rename a
    whole file, and the last one's entries stay (the other's is computed once more)."""
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".digests-", dir=memo.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1)
            Path(tmp).replace(memo)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.warning("model digest not kept in %s (%s): computed at each start", memo, exc)


def model_hash(model_dir: Path, memo_dir: Path | None = None) -> str:
    """A digest of the files that decide the network's output (weights and config): read
    from `memo_dir`'s memo when the files are as they were when it was computed, else
    computed and kept there. Without `memo_dir`, always computed."""
    if memo_dir is None:
        return _compute(model_dir)
    memo = memo_dir / MEMO
    key = str(model_dir.resolve())
    stamp = _stamp(model_dir)
    data = _read(memo)
    entry = data.get(key)
    if isinstance(entry, dict) and entry.get("stamp") == stamp:
        digest = entry.get("digest")
        if isinstance(digest, str) and digest:
            return digest
    digest = _compute(model_dir)
    data[key] = {"stamp": stamp, "digest": digest}
    _write(memo, data)
    return digest
