"""Build the second plain-text development set's documents from installed Debian packages.

python -m tests.rag.txt2.build FOLDER   (prints the files it made)

Long plain-text manuals a person keeps, none written by anyone on the project and nothing
committed, each in another convention for its headings:

- the GNU sed and coreutils manuals (`sed`, `coreutils`), from their info files, made into
  plain text as the first plain-text set does for grep's (`tests.rag.txt.build`): the node
  separators, the preamble, the tag table and the info readers' cookies are dropped and
  the rest kept as is, which is what `makeinfo --plaintext` gives (headings underlined
  with `*`, `=`, `-`, and the nodes' menus);
- the X Keyboard Extension protocol (`x11proto-dev`, `xkbproto.txt`): numbered chapters
  such as "Chapter 4. Global Keyboard Controls", whose sections have unnumbered titles;
- libjpeg's library guide (`libjpeg62-turbo-dev`, `libjpeg.txt`): section titles
  underlined with `-` or written in capitals;
- the S-Lang function reference (`libslang2`, `slangfun.txt`): one entry per function,
  each with SYNOPSIS, USAGE, DESCRIPTION and SEE ALSO blocks;
- CTest's manual page (`cmake-data`, `ctest.1.rst`, the highest CMake version installed):
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
from tests.rag.txt.build import _need, _plain, _write

INFO = Path("/usr/share/info")
DOC = Path("/usr/share/doc")
# (file made, info file, Debian package): info manuals made into plain text.
MANUALS = [
    ("sed-manual.txt", INFO / "sed.info.gz", "sed"),
    ("coreutils-manual.txt", INFO / "coreutils.info.gz", "coreutils"),
]
# (file made, gzipped file, Debian package): only unpacked.
GZIPPED = [
    ("xkbproto.txt", DOC / "kbproto/xkbproto.txt.gz", "x11proto-dev"),
    ("libjpeg.txt", DOC / "libjpeg62-turbo-dev/libjpeg.txt.gz", "libjpeg62-turbo-dev"),
    ("slangfun.txt", DOC / "libslang2/slangfun.txt.gz", "libslang2"),
]
CMAKE_GLOB = "cmake-*/Help/manual/ctest.1.rst"
CMAKE_NAME = "ctest.rst"


def build(folder: Path) -> list[Path]:
    """Make every document of the set in `folder` (kept if already there); return them."""
    folder.mkdir(parents=True, exist_ok=True)
    made = [_manual(folder / name, source, package) for name, source, package in MANUALS]
    made += [_gunzip(folder / name, source, package) for name, source, package in GZIPPED]
    made.append(_cmake(folder / CMAKE_NAME))
    return made


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


def _cmake(target: Path) -> Path:
    if target.exists():
        return target
    found = sorted(Path("/usr/share").glob(CMAKE_GLOB), key=lambda path: (_version(path), path))
    if not found:
        raise MissingSourceError(
            f"/usr/share/{CMAKE_GLOB} is missing: install the Debian package cmake-data"
        )
    partial = target.with_suffix(".part")
    shutil.copyfile(found[-1], partial)
    partial.replace(target)
    return target


if __name__ == "__main__":
    for path in build(Path(sys.argv[1])):
        print(path)
