"""Build llama-cpp-python for the backend `llama_detect` chooses, cache it, install it.

Standard library only (`make` runs it before the venv has anything in it):

    python3 packaging/llama_build.py line                  # the choice and why, nothing else
    python3 packaging/llama_build.py install --venv .venv  # build if not cached, install it
    python3 packaging/llama_build.py cpu-side --venv .venv # the CPU build beside it, for tests
    python3 packaging/llama_build.py vulkan-headers        # Debian 12: newer Vulkan headers

Wheels live in `~/.cache/carrel/wheels/<key>/`, one folder per version, backend and flags
(pip's own cache ignores CMAKE_ARGS). A GPU build that fails leaves its log and a FAILED
note there, says what was missing, and the CPU build is used instead; later runs do not
retry it until that folder is deleted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llama_detect as detect

ROOT = Path(__file__).resolve().parent.parent
# The CPU build unpacked beside the chosen one: tests that compare the two import it from
# here in a subprocess (PYTHONPATH); the venv itself has the chosen build.
CPU_SIDE = "llama-cpu"


class BuildFailed(Exception):
    """A build that did not produce a wheel; `missing` names what stopped it."""

    def __init__(self, missing: str, log: Path) -> None:
        super().__init__(missing)
        self.missing = missing
        self.log = log


def say(text: str) -> None:
    print(text, flush=True)


def llama_version(root: Path = ROOT) -> str:
    text = (root / "pyproject.toml").read_text()
    match = re.search(r'"llama-cpp-python==([0-9.]+)"', text)
    if match is None:
        raise SystemExit("pyproject.toml pins no llama-cpp-python version")
    return match.group(1)


def wheels_dir() -> Path:
    """The keyed wheel folders: the machine's cache, or with CARREL_WHEELHOUSE (an offline
    set-up from `make wheelhouse`) the wheelhouse's llama/ folder."""
    house = os.environ.get("CARREL_WHEELHOUSE")
    if house:
        return Path(house).resolve() / "llama"
    return detect.cache_dir() / "wheels"


def find_wheel(folder: Path, version: str) -> Path | None:
    found = sorted(folder.glob(f"llama_cpp_python-{version}-*.whl"))
    return found[0] if found else None


# what a failed build was missing ----------------------------------------------------------

# Causes a person can act on, most specific first. CMake's "-- Could NOT find X" status
# lines are for optional parts (NCCL, ccache); only an error's own "Could NOT find" counts.
_MISSING = [
    (re.compile(r"links to:\s+(CUDA::\w+)\s+but the target was not found"),
     "the CUDA toolkit has no {0}"),
    (re.compile(r"['‘`](\w+)['’`] is not a member of ['‘`]vk['’`]"),
     "vk::{0} is missing: the Vulkan headers are too old"),
    (re.compile(r"fatal error: (\S+?):? No such file"), "the header {0} is missing"),
    (re.compile(r"^(?!\s*-- ).*Could NOT find (\S+)", re.MULTILINE), "CMake could not find {0}"),
    (re.compile(r'provided by "([^"]+)"'), "CMake could not find the {0} package"),
    (re.compile(r"No CMAKE_CUDA_COMPILER could be found"), "no CUDA compiler (nvcc)"),
]  # fmt: skip


def what_was_missing(log: str) -> str:
    """The first cause in a build log a person can act on, else its first error line."""
    for pattern, text in _MISSING:
        match = pattern.search(log)
        if match:
            return text.format(*match.groups())
    errors = [line.strip() for line in log.splitlines() if re.search(r"\berror\b", line, re.I)]
    return errors[0][:200] if errors else "the build stopped; see its log"


# building ---------------------------------------------------------------------------------


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """One build per key at a time on this machine (several checkouts share the cache)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f".{folder.name}.lock").open("w") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # Windows: no flock; builds are rare enough
            pass
        yield


def pip_build(choice: detect.Choice, pip: str, version: str, out: Path, log: Path) -> Path:
    """`pip wheel` from the source release with the choice's CMake arguments."""
    env = {**os.environ, **choice.env, "CMAKE_ARGS": choice.cmake_args}
    before = _child_cpu_seconds()
    with tempfile.TemporaryDirectory(dir=out) as tmp, log.open("w") as handle:
        cmd = [pip, "wheel", "-v", "--no-deps", "--no-cache-dir", "--no-binary",
               "llama-cpp-python", "-w", tmp, f"llama-cpp-python=={version}"]  # fmt: skip
        handle.write(f"CMAKE_ARGS={choice.cmake_args}\n{' '.join(cmd)}\n")
        handle.flush()
        code = subprocess.call(cmd, env=env, stdout=handle, stderr=subprocess.STDOUT)
        built = find_wheel(Path(tmp), version)
        if code != 0 or built is None:
            raise BuildFailed(what_was_missing(log.read_text(errors="replace")), log)
        # Processor time as well as wall time: the machine may be shared while it builds.
        handle.write(f"cpu_seconds={_child_cpu_seconds() - before:.0f}\n")
        return Path(shutil.move(str(built), out / built.name))


def _child_cpu_seconds() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


Builder = Callable[[detect.Choice, str, Path, Path], Path]


def ensure_wheel(
    choice: detect.Choice, version: str, build: Builder, cache: Path | None = None
) -> tuple[detect.Choice, Path]:
    """The cached wheel of `choice`, built if absent. A GPU build that fails (now or
    before) falls back to the CPU build, saying what was missing."""
    cache = cache or wheels_dir()
    folder = cache / choice.key(version)
    with locked(folder):
        wheel = find_wheel(folder, version)
        failed = folder / "FAILED"
        if wheel is None and failed.is_file() and choice.backend != "cpu":
            say(
                f"llama.cpp: the {choice.label} build failed before ({failed.read_text().strip()}; "
                f"log: {folder / 'build.log'}); using the CPU build. Delete {folder} to try again."
            )
            return ensure_wheel(cpu_of(choice), version, build, cache)
        if wheel is None:
            say(f"llama.cpp: building the {choice.label} wheel ({version}): about 10 minutes")
            started = time.time()
            try:
                wheel = build(choice, version, folder, folder / "build.log")
            except BuildFailed as exc:
                if choice.backend == "cpu":
                    raise SystemExit(
                        f"llama.cpp: the CPU build failed: {exc.missing} (log: {exc.log})"
                    ) from exc
                failed.write_text(exc.missing + "\n")
                say(
                    f"llama.cpp: the {choice.label} build failed: {exc.missing} (log: {exc.log}); "
                    "building for the CPU instead."
                )
                return ensure_wheel(cpu_of(choice), version, build, cache)
            log = folder / "build.log"
            text = log.read_text(errors="replace") if log.is_file() else ""
            cpu = re.search(r"cpu_seconds=(\d+)", text)
            record = {"backend": choice.backend, "cmake_args": choice.cmake_args,
                      "seconds": round(time.time() - started),
                      "cpu_seconds": int(cpu.group(1)) if cpu else None,
                      "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
                      "built_at": time.time()}  # fmt: skip
            (folder / "build.json").write_text(json.dumps(record, indent=1) + "\n")
        return choice, wheel


def cpu_of(choice: detect.Choice) -> detect.Choice:
    probe = detect.Probe(system=sys_system(), machine=sys_machine())
    return detect.cpu_choice(probe, f"fallback from {choice.label}")


def sys_system() -> str:
    import platform

    return platform.system()


def sys_machine() -> str:
    import platform

    return platform.machine()


def venv_pip(venv: Path) -> str:
    pip = venv / ("Scripts/pip.exe" if os.name == "nt" else "bin/pip")
    return str(pip)


def builder_for(venv: Path) -> Builder:
    pip = venv_pip(venv)
    return lambda choice, version, out, log: pip_build(choice, pip, version, out, log)


# commands ---------------------------------------------------------------------------------


def current_choice() -> detect.Choice:
    try:
        return detect.choose(detect.probe(), os.environ.get("CARREL_GPU"))
    except ValueError as exc:
        raise SystemExit(f"llama.cpp: {exc}") from exc


def install(venv: Path, stamp: Path | None) -> int:
    """Say which build and why; build it if not cached; put it in the venv if it is not
    already there (a changed choice swaps it). Touches `stamp` only when it changed."""
    choice = current_choice()
    say(choice.line())
    version = llama_version()
    used, wheel = ensure_wheel(choice, version, builder_for(venv))
    marker = venv / ".llama-wheel"
    wanted = f"{wheel} {wheel.stat().st_size}"
    if marker.is_file() and marker.read_text().strip() == wanted:
        return 0
    subprocess.check_call(
        [venv_pip(venv), "install", "--quiet", "--force-reinstall", "--no-deps", str(wheel)]
    )
    marker.write_text(wanted + "\n")
    if stamp is not None:
        stamp.touch()
    if used.backend != choice.backend:
        say(f"llama.cpp: installed the CPU build ({wheel.parent.name}) in place of {choice.label}.")
    return 0


def cpu_side(venv: Path) -> int:
    """The CPU wheel unpacked into `<venv>/llama-cpu` (built if not cached)."""
    probe = detect.Probe(system=sys_system(), machine=sys_machine())
    choice = detect.cpu_choice(probe, "comparison build for the tests")
    _, wheel = ensure_wheel(choice, llama_version(), builder_for(venv))
    target = venv / CPU_SIDE
    marker = target / ".wheel"
    if marker.is_file() and marker.read_text().strip() == str(wheel):
        return 0
    shutil.rmtree(target, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    for lib in (target / "llama_cpp" / "lib").glob("*"):
        lib.chmod(0o755)  # zip extraction drops the executable bits shared objects need
    marker.write_text(f"{wheel}\n")
    return 0


def wheelhouse(dest: Path) -> int:
    """Copy every cached build of the pinned version (wheel, or a GPU build's FAILED note)
    into `dest`, by key, for `make wheelhouse`."""
    version = llama_version()
    copied = 0
    for folder in sorted(p for p in wheels_dir().iterdir() if p.is_dir()):
        wheel = find_wheel(folder, version)
        failed = folder / "FAILED"
        if wheel is None and not failed.is_file():
            continue
        target = dest / folder.name
        target.mkdir(parents=True, exist_ok=True)
        for path in (wheel, failed, folder / "build.json"):
            if path is not None and path.is_file():
                shutil.copy2(path, target / path.name)
        copied += wheel is not None
    say(f"llama.cpp: {copied} build(s) of {version} copied into {dest}")
    return 0 if copied else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("line", help="print the choice and why")
    for name in ("install", "cpu-side"):
        p = sub.add_parser(name)
        p.add_argument("--venv", type=Path, default=ROOT / ".venv")
        p.add_argument("--stamp", type=Path)
    p = sub.add_parser("wheelhouse", help="copy the cached builds into a wheelhouse")
    p.add_argument("--dest", type=Path, required=True)
    p = sub.add_parser("vulkan-headers", help="Debian 12: unpack Debian 13's Vulkan headers")
    p.add_argument("--suite", default="trixie")
    args = parser.parse_args(argv)
    if args.command == "line":
        say(current_choice().line())
        return 0
    if args.command == "install":
        return install(args.venv, args.stamp)
    if args.command == "cpu-side":
        return cpu_side(args.venv)
    if args.command == "wheelhouse":
        return wheelhouse(args.dest)
    from vulkan_headers import fetch

    return fetch(args.suite)


if __name__ == "__main__":
    sys.exit(main())
