"""Build llama.cpp's own `llama-perplexity` from the llama.cpp that the pinned
llama-cpp-python release vendors, once per version, into the keyed cache:

    python packaging/llama_tools.py perplexity      # prints the tool's path

Issue 19's test compares Carrel's perplexity with the tool's on the same text
(`tests/evaluate/test_perplexity.py`, which finds it here). The source is the release's
sdist from the package index (build time, as every other wheel); the tool is linked
statically for the CPU, portable like the wheels (no -march=native). Stdlib only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import llama_detect as detect  # a sibling: run as a script, or loaded as tests do
from llama_build import llama_version

CMAKE_ARGS = [
    "-DBUILD_SHARED_LIBS=OFF",
    "-DGGML_NATIVE=OFF",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_SERVER=OFF",
    "-DCMAKE_BUILD_TYPE=Release",
]


def tool_path(version: str | None = None) -> Path:
    """Where the tool of `version` (the pinned one by default) is kept."""
    return detect.cache_dir() / "llama-tools" / (version or llama_version()) / "llama-perplexity"


def build(version: str) -> Path:
    target = tool_path(version)
    if target.is_file():
        return target
    print(f"llama.cpp: building llama-perplexity ({version}): a few minutes", flush=True)
    with tempfile.TemporaryDirectory(prefix="carrel-llama-tools-") as tmp:
        work = Path(tmp)
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        pip += ["--no-binary", ":all:", "-d", str(work), f"llama-cpp-python=={version}"]
        subprocess.run(pip, check=True)
        sdist = next(work.glob("llama_cpp_python-*.tar.gz"))
        with tarfile.open(sdist) as tar:
            tar.extractall(work, filter="data")
        source = next(work.glob("llama_cpp_python-*/vendor/llama.cpp"))
        out = work / "build"
        subprocess.run(["cmake", "-S", str(source), "-B", str(out), *CMAKE_ARGS], check=True)
        jobs = str(os.cpu_count() or 2)
        subprocess.run(
            ["cmake", "--build", str(out), "--target", "llama-perplexity", "-j", jobs],
            check=True,
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copy2(out / "bin" / "llama-perplexity", partial)
        partial.replace(target)
    return target


def main(argv: list[str]) -> int:
    if argv[:1] != ["perplexity"]:
        print("usage: llama_tools.py perplexity", file=sys.stderr)
        return 2
    print(build(llama_version()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
