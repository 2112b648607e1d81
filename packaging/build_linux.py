"""Build Carrel's Linux packages: the one-folder app (PyInstaller, `installer.spec`), a
tarball that runs where it is unpacked, and a `.deb` made with `dpkg-deb`, with their
SHA-256 in `SHA256SUMS` and their sizes and biggest parts in `build.json`.

    .venv/bin/python packaging/build_linux.py [--out dist/packages] [--without-model]

The .deb puts the app in /opt/carrel, `carrel` on the PATH (/usr/bin/carrel, a relative
link), the desktop entry and the icon set (hicolor, every size plus the SVG) under
/usr/share; it has no maintainer scripts (the desktop database and icon cache are
refreshed by their own dpkg triggers), so `apt remove carrel` leaves nothing behind: Carrel
writes only to the person's own folders, never to /opt/carrel. Its Depends are the Debian
packages of the system libraries the bundle links to and does not carry (found with
`ldconfig -p` and `dpkg -S`), libvulkan1 among them for a Vulkan build of llama.cpp.
Standard library only, so it runs before the venv has anything but PyInstaller.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
ICONS = ROOT / "resources" / "icons"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
PREFIX = "opt/carrel"
MAINTAINER = "Carrel maintainers <maintainers@carrel.invalid>"


def version() -> str:
    text = (ROOT / "app" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'__version__ = "([^"]+)"', text)
    assert found is not None
    return found.group(1)


def freeze(work: Path, spec_args: list[str]) -> Path:
    """Run PyInstaller on installer.spec; returns the app folder."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "work"),
            str(ROOT / "installer.spec"),
            "--",
            *spec_args,
        ],
        cwd=ROOT,
        check=True,
    )
    return work / "dist" / "carrel"


# ELF ------------------------------------------------------------------------------------


def elf_files(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def needed(path: Path) -> list[str]:
    out = subprocess.run(
        ["readelf", "-d", str(path)], capture_output=True, text=True, check=False
    ).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def system_libraries(app: Path) -> dict[str, str]:
    """The libraries the bundle needs and does not carry: soname -> path on this machine
    ("" when this machine has none: the bundle would not start)."""
    carried = {p.name for p in app.rglob("*")}
    wanted = {name for path in elf_files(app) for name in needed(path)} - carried
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    paths: dict[str, str] = {}
    # "libX11.so.6 (libc6,x86-64) => /lib/...": 64-bit entries name their architecture,
    # 32-bit ones ("(libc6)") do not; the first 64-bit one wins.
    for found in re.finditer(r"^\s*(\S+) \(([^)]*),[^)]*\) => (\S+)$", cache, re.M):
        paths.setdefault(found.group(1), found.group(3))
    return {name: paths.get(name, "") for name in sorted(wanted)}


def glibc_floor(app: Path) -> str:
    """The newest glibc symbol version any file of the bundle needs (e.g. "2.34")."""
    newest = (0, 0)
    for path in elf_files(app):
        out = subprocess.run(
            ["readelf", "-V", "--wide", str(path)], capture_output=True, text=True
        ).stdout
        for major, minor in re.findall(r"Name: GLIBC_(\d+)\.(\d+)", out):
            newest = max(newest, (int(major), int(minor)))
    return f"{newest[0]}.{newest[1]}"


def strip_torch(app: Path) -> int:
    """Drop the static symbol tables of torch's libraries (what Debian's dh_strip does for
    any shared library; the dynamic symbols stay): 434 -> 345 MB for libtorch_cpu.so.
    Returns the bytes saved."""
    saved = 0
    for lib in sorted((app / "_internal" / "torch" / "lib").glob("*.so*")):
        if lib.is_symlink():
            continue
        before = lib.stat().st_size
        subprocess.run(["strip", "--strip-unneeded", str(lib)], check=True)
        saved += before - lib.stat().st_size
    return saved


def debian_packages(libraries: dict[str, str]) -> list[str]:
    """The Debian packages that ship those libraries here."""
    packages = set()
    for name, path in libraries.items():
        if not path:
            raise SystemExit(f"the bundle needs {name}, which this machine does not have")
        real = str(Path(path).resolve())
        for candidate in (path, real, real.replace("/usr/lib/", "/lib/", 1)):
            done = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if done.returncode == 0:
                packages.add(done.stdout.split(":", 1)[0].split(",")[0].strip())
                break
        else:
            print(f"warning: no Debian package owns {path} ({name})", file=sys.stderr)
    return sorted(packages)


# the packages ---------------------------------------------------------------------------


def tarball(app: Path, out: Path, name: str) -> Path:
    """carrel-<version>/ with the app, its desktop entry and icons (share/), gzip -6."""
    target = out / f"{name}.tar.gz"
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        tar.add(app, arcname=name.rsplit("-linux", 1)[0])
        top = name.rsplit("-linux", 1)[0]
        tar.add(PACKAGING / "carrel.desktop", arcname=f"{top}/share/carrel.desktop")
        for icon in sorted(ICONS.glob("carrel*")):
            tar.add(icon, arcname=f"{top}/share/icons/{icon.name}")
    return target


def deb_tree(app: Path, root: Path) -> None:
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(app, root / PREFIX, symlinks=True)
    bin_dir = root / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "carrel").symlink_to(Path("..", "..", PREFIX, "carrel"))
    share = root / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy2(PACKAGING / "carrel.desktop", share / "applications" / "carrel.desktop")
    for size in ICON_SIZES:
        folder = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True)
        shutil.copy2(ICONS / f"carrel-{size}.png", folder / "carrel.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy2(ICONS / "carrel.svg", scalable / "carrel.svg")
    doc = share / "doc" / "carrel"
    doc.mkdir(parents=True)
    shutil.copy2(PACKAGING / "linux" / "copyright", doc / "copyright")
    for path in root.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)


def control(root: Path, depends: list[str], ver: str, arch: str) -> None:
    size_kb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) // 1024
    debian = root / "DEBIAN"
    debian.mkdir()
    fields = {
        "Package": "carrel",
        "Version": ver,
        "Architecture": arch,
        "Maintainer": MAINTAINER,
        "Installed-Size": str(size_kb),
        "Depends": ", ".join(depends),
        "Recommends": "fonts-dejavu-core, gnome-keyring",
        "Section": "utils",
        "Priority": "optional",
        "Homepage": "https://carrel.invalid/",
        "Description": "local-first AI workbench: open models and your documents, offline\n"
        " Carrel runs open GGUF models with llama.cpp on this machine, indexes your\n"
        " documents into an embedded Qdrant index and answers with citations. Nothing\n"
        " leaves the device unless you switch on a remote endpoint and approve each\n"
        " request. Includes the default model, the MiniLM embedder and torch (CPU).",
    }
    text = "".join(f"{key}: {value}\n" for key, value in fields.items() if value)
    (debian / "control").write_text(text, encoding="utf-8")
    sums = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and debian not in path.parents:
            digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
            sums.append(f"{digest}  {path.relative_to(root).as_posix()}\n")
    (debian / "md5sums").write_text("".join(sums), encoding="utf-8")


def build_deb(app: Path, work: Path, out: Path, ver: str, suffix: str) -> tuple[Path, list[str]]:
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    root = work / "deb"
    deb_tree(app, root)
    depends = debian_packages(system_libraries(app))
    depends = [f"libc6 (>= {glibc_floor(app)})" if d == "libc6" else d for d in depends]
    if any(p.name.startswith("libggml-vulkan") for p in app.rglob("*")):
        depends = sorted({*depends, "libvulkan1"})
    control(root, depends, ver, arch)
    target = out / f"carrel_{ver}{suffix}_{arch}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", str(root), str(target)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return target, depends


def biggest(app: Path, n: int = 12) -> list[tuple[str, int]]:
    """The largest parts of the app folder: top-level packages and files in _internal."""
    inner = app / "_internal"
    sizes: dict[str, int] = {}
    for path in inner.rglob("*"):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(inner).parts
            key = rel[0] if len(rel) == 1 else rel[0] + "/"
            if rel[0] == "torch" and len(rel) > 2 and rel[1] == "lib":
                key = "/".join(rel[:3])
            sizes[key] = sizes.get(key, 0) + path.stat().st_size
    return sorted(sizes.items(), key=lambda item: -item[1])[:n]


def du(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "packages")
    parser.add_argument("--without-model", action="store_true")
    parser.add_argument("--with-gemma", action="store_true")
    args = parser.parse_args()
    spec_args = ["--without-model"] * args.without_model + ["--with-gemma"] * args.with_gemma
    suffix = "-nomodel" if args.without_model else "-gemma" if args.with_gemma else ""
    out = args.out.resolve()
    work = out / f"build{suffix}"
    out.mkdir(parents=True, exist_ok=True)
    ver = version()
    started = time.perf_counter()
    app = freeze(work, spec_args)
    stripped = strip_torch(app) if shutil.which("strip") else 0
    frozen_s = time.perf_counter() - started
    missing = [n for n, p in system_libraries(app).items() if not p]
    if missing:
        raise SystemExit(f"the bundle needs libraries this machine lacks: {missing}")
    tar = tarball(app, out, f"carrel-{ver}-linux-{os.uname().machine}{suffix}")
    deb, depends = build_deb(app, work, out, ver, suffix)
    total_s = time.perf_counter() - started
    sums = out / "SHA256SUMS"
    lines = [ln for ln in (sums.read_text().splitlines() if sums.exists() else []) if ln]
    for artifact in (tar, deb):
        digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
        lines = [ln for ln in lines if not ln.endswith("  " + artifact.name)]
        lines.append(f"{digest}  {artifact.name}")
    sums.write_text("\n".join(sorted(lines, key=lambda ln: ln.split()[-1])) + "\n")
    report = {
        "version": ver,
        "variant": suffix or "default",
        "app_bytes": du(app),
        "tarball": {"file": tar.name, "bytes": tar.stat().st_size},
        "deb": {"file": deb.name, "bytes": deb.stat().st_size, "depends": depends},
        "stripped_bytes": stripped,
        "pyinstaller_s": round(frozen_s, 1),
        "total_s": round(total_s, 1),
        "biggest": biggest(app),
    }
    (out / f"build{suffix}.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
