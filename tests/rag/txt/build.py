"""Build the plain-text development set's documents from installed Debian packages.

python -m tests.rag.txt.build FOLDER   (prints the files it made)

Long plain-text manuals a person keeps, none written by anyone on the project and nothing
committed, each in another convention for its headings:

- the GNU grep and diffutils manuals (`grep`, `diffutils`), from their info files: the
  node separators (the byte 0x1f and the `File: ..., Node: ...` line after it), the
  preamble before the first node, the tag table at the end and the index's marker for
  info readers (NUL and backspace bytes) are dropped and the rest kept as is, which is
  what `makeinfo --plaintext` gives (headings underlined with `*`, `=`, `-`, and the
  nodes' menus);
- the sed FAQ (`sed`, `sedfaq.txt`): numbered sections such as "4.12. ...";
- the libpng manual (`libpng16-16`, `libpng-manual.txt`): roman-numbered chapters;
- the S-Lang library reference (`libslang2`, `slang.txt`): linuxdoc's numbered sections;
- CMake's build-system manual (`cmake-data`, `cmake-buildsystem.7.rst`):
  reStructuredText, copied as is.

The gzipped files are only unpacked. The build is deterministic for a given package
version; `questions.toml` names the files by the names given here.
"""

from __future__ import annotations

import gzip
import re
import shutil
import sys
from pathlib import Path

from tests.rag.dev2.build import MissingSourceError

Source = tuple[str, Path, str]  # (file made, source file, Debian package)
INFO = Path("/usr/share/info")
DOC = Path("/usr/share/doc")
# (file made, info file, Debian package): info manuals made into plain text.
MANUALS: list[Source] = [
    ("grep-manual.txt", INFO / "grep.info.gz", "grep"),
    ("diffutils-manual.txt", INFO / "diffutils.info.gz", "diffutils"),
]
# (file made, gzipped file, Debian package): only unpacked.
GZIPPED: list[Source] = [
    ("sedfaq.txt", DOC / "sed/sedfaq.txt.gz", "sed"),
    ("libpng-manual.txt", DOC / "libpng16-16/libpng-manual.txt.gz", "libpng16-16"),
    ("slang.txt", DOC / "libslang2/slang.txt.gz", "libslang2"),
]
CMAKE_GLOB = "cmake-*/Help/manual/cmake-buildsystem.7.rst"
CMAKE_NAME = "cmake-buildsystem.rst"
SEPARATOR = "\x1f\n"
# An info reader's cookie, such as the index's NUL-BS "[index NUL-BS]" line: not text.
COOKIE = re.compile(r"\x00\x08\[[^\x00]*\x00\x08\]\n?")


def build(folder: Path) -> list[Path]:
    """Make every document of the set in `folder` (kept if already there); return them."""
    return build_set(folder, MANUALS, GZIPPED, (CMAKE_NAME, CMAKE_GLOB))


def build_set(
    folder: Path, manuals: list[Source], gzipped: list[Source], cmake: tuple[str, str]
) -> list[Path]:
    """Info `manuals` made into plain text, `gzipped` files unpacked and a CMake page (its
    name, its glob under /usr/share) copied into `folder`; the plain-text sets' build."""
    folder.mkdir(parents=True, exist_ok=True)
    made = [_manual(folder / name, source, package) for name, source, package in manuals]
    made += [_gunzip(folder / name, source, package) for name, source, package in gzipped]
    made.append(_cmake(folder / cmake[0], cmake[1]))
    return made


def _need(source: Path, package: str) -> Path:
    if not source.exists():
        raise MissingSourceError(f"{source} is missing: install the Debian package {package}")
    return source


def _write(target: Path, data: bytes) -> Path:
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)
    return target


def _plain(info: str) -> str:
    """An info file's text as plain text: node headers, preamble, cookies, tag table dropped."""
    info = COOKIE.sub("", info.split(SEPARATOR + "Tag Table:", 1)[0])
    nodes = info.split(SEPARATOR)[1:]  # the first is makeinfo's preamble
    kept = []
    for node in nodes:
        if node.startswith("End Tag Table"):
            continue
        if node.startswith("File: "):
            node = node.partition("\n")[2]
        kept.append(node)
    return "".join(kept)


def _manual(target: Path, source: Path, package: str) -> Path:
    if target.exists():
        return target
    text = gzip.decompress(_need(source, package).read_bytes()).decode("utf-8")
    return _write(target, _plain(text).encode("utf-8"))


def _gunzip(target: Path, source: Path, package: str) -> Path:
    if target.exists():
        return target
    return _write(target, gzip.decompress(_need(source, package).read_bytes()))


def _version(path: Path) -> tuple[int, ...]:
    """The CMake version in a path's `cmake-X.Y` folder, as numbers, to sort 3.9 below 3.25."""
    folder = path.relative_to("/usr/share").parts[0]
    return tuple(int(part) for part in re.findall(r"\d+", folder))


def _cmake(target: Path, pattern: str) -> Path:
    """The page `pattern` finds under the highest CMake version installed."""
    if target.exists():
        return target
    found = sorted(Path("/usr/share").glob(pattern), key=lambda path: (_version(path), path))
    if not found:
        raise MissingSourceError(
            f"/usr/share/{pattern} is missing: install the Debian package cmake-data"
        )
    partial = target.with_suffix(".part")
    shutil.copyfile(found[-1], partial)
    partial.replace(target)
    return target


if __name__ == "__main__":
    for path in build(Path(sys.argv[1])):
        print(path)
