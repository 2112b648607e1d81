"""Newer Vulkan and SPIR-V headers for Debian 12, unpacked into Carrel's cache.

Debian 12's `libvulkan-dev` (1.3.239) is older than the 1.3.272 this llama.cpp needs.
Debian 13's `libvulkan-dev` and `spirv-headers` packages carry headers only (plus CMake
files), so they are fetched with the ordinary apt client through a sources list and state
folder of their own (nothing of the system's apt configuration or packages changes) and
unpacked with `dpkg -x` into `~/.cache/carrel/vulkan-headers/root`, where
`llama_detect.probe()` finds them. Debian 12's own loader library and `glslc` are used.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import llama_detect as detect

PACKAGES = ("libvulkan-dev", "spirv-headers")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
MIRROR = "http://deb.debian.org/debian"


def apt_options(state: Path) -> list[str]:
    """apt options that keep the lists, cache and sources of this fetch in `state`."""
    return [
        "-o", f"Dir::Etc::SourceList={state / 'sources.list'}",
        "-o", "Dir::Etc::SourceParts=/dev/null",
        "-o", f"Dir::State::Lists={state / 'lists'}",
        "-o", f"Dir::Cache={state / 'cache'}",
        "-o", "APT::Sandbox::User=root",
        "-o", "Debug::NoLocking=1",
    ]  # fmt: skip


def fetch(suite: str = "trixie") -> int:
    root = detect.private_vulkan_root()
    found = detect.read_vulkan_headers(root / "usr" / "include", private=True)
    if found is not None and found.version >= detect.VULKAN_MIN_HEADER:
        print(f"Vulkan headers {found.text} already in {root}")
        return 0
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        print("vulkan-headers: this needs Debian's apt-get and dpkg", file=sys.stderr)
        return 1
    state = root.parent / "apt"
    for sub in ("lists/partial", "cache/archives/partial", "debs"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "sources.list").write_text(f"deb [signed-by={KEYRING}] {MIRROR} {suite} main\n")
    options = apt_options(state)
    subprocess.check_call(["apt-get", *options, "-qq", "update"])
    debs = state / "debs"
    for old in debs.glob("*.deb"):
        old.unlink()
    subprocess.check_call(["apt-get", *options, "-qq", "download", *PACKAGES], cwd=debs)
    shutil.rmtree(root, ignore_errors=True)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.check_call(["dpkg", "-x", str(deb), str(root)])
    found = detect.read_vulkan_headers(root / "usr" / "include", private=True)
    if found is None:
        print(f"vulkan-headers: no Vulkan headers came out of {suite}'s packages", file=sys.stderr)
        return 1
    print(f"Vulkan headers {found.text} from Debian {suite} unpacked into {root}")
    return 0
