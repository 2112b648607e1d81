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

import sys
from pathlib import Path

from tests.rag.txt.build import Source, build_set

INFO = Path("/usr/share/info")
DOC = Path("/usr/share/doc")
# (file made, info file, Debian package): info manuals made into plain text.
MANUALS: list[Source] = [
    ("sed-manual.txt", INFO / "sed.info.gz", "sed"),
    ("coreutils-manual.txt", INFO / "coreutils.info.gz", "coreutils"),
]
# (file made, gzipped file, Debian package): only unpacked.
GZIPPED: list[Source] = [
    ("xkbproto.txt", DOC / "kbproto/xkbproto.txt.gz", "x11proto-dev"),
    ("libjpeg.txt", DOC / "libjpeg62-turbo-dev/libjpeg.txt.gz", "libjpeg62-turbo-dev"),
    ("slangfun.txt", DOC / "libslang2/slangfun.txt.gz", "libslang2"),
]
CMAKE_GLOB = "cmake-*/Help/manual/ctest.1.rst"
CMAKE_NAME = "ctest.rst"


def build(folder: Path) -> list[Path]:
    """Make every document of the set in `folder` (kept if already there); return them."""
    return build_set(folder, MANUALS, GZIPPED, (CMAKE_NAME, CMAKE_GLOB))


if __name__ == "__main__":
    for path in build(Path(sys.argv[1])):
        print(path)
