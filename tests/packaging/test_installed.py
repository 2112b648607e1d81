"""The Linux packages as a person gets them (`make package`, then `make package-test`; CI
runs both after `make test`): the .deb installs into a throw-away root and is removed
without a trace, apt would install it here, its `carrel self-check` passes with nothing of
this checkout in the environment, its window comes up under Xvfb (screenshot kept beside
the packages), the unpacked tarball answers a document question under strace without one
connection off loopback, and nothing is ever written into the install folder."""

from __future__ import annotations

import json
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.rag import embedder
from app.rag.openvino_runtime import has_vnni
from app.selfcheck import RUNTIME_NAMES
from tests.packaging.installed import (
    PACKAGES,
    artifact,
    clean_env,
    dpkg_root,
    have,
    screenshot,
    snapshot,
    start_xvfb,
    wait_window,
)
from tests.privacy.test_session import off_device_connects

pytestmark = [
    pytest.mark.slow,
    # The suite's 300 s per test is too short for a frozen app's first document question
    # under strace, or its self-check, on a loaded 2-core machine (each bounded below).
    pytest.mark.timeout(1200),
    pytest.mark.skipif(
        PACKAGES is None, reason="needs built packages: `make package && make package-test`"
    ),
]
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The .deb installed with dpkg into an empty system of its own."""
    folder = dpkg_root(tmp_path_factory.mktemp("root"))
    done = subprocess.run(
        ["dpkg", f"--root={folder}", "--force-depends", "-i", str(artifact("carrel_*.deb"))],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    yield folder


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tarball unpacked where a person might put it."""
    folder = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(artifact("carrel-*-linux-*.tar.gz")) as tar:
        tar.extractall(folder, filter="tar")
    (app,) = folder.iterdir()
    return app


def test_the_deb_is_what_a_desktop_needs(root: Path) -> None:
    deb = artifact("carrel_*.deb")
    fields = subprocess.run(
        ["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    assert "Package: carrel\n" in fields and "Depends: " in fields
    # The llama.cpp build set-up chose (packaging/llama_build.py) is the one shipped: every
    # ggml backend library of the venv's llama_cpp, and libvulkan1 for the Vulkan build.
    import llama_cpp

    ggml = sorted(p.name for p in (Path(llama_cpp.__file__).parent / "lib").glob("libggml*.so"))
    shipped = root / "opt/carrel/_internal/llama_cpp/lib"
    assert sorted(p.name for p in shipped.glob("libggml*.so")) == ggml
    vulkan = any(shipped.glob("libggml-vulkan*"))
    assert ("libvulkan1" in fields) == vulkan
    link = root / "usr" / "bin" / "carrel"
    assert link.is_symlink() and link.resolve() == (root / "opt" / "carrel" / "carrel")
    desktop = (root / "usr/share/applications/carrel.desktop").read_text()
    assert "Exec=carrel\n" in desktop and "Icon=carrel\n" in desktop
    for size in ICON_SIZES:
        assert (root / f"usr/share/icons/hicolor/{size}x{size}/apps/carrel.png").is_file()
    assert (root / "usr/share/icons/hicolor/scalable/apps/carrel.svg").is_file()
    if have("desktop-file-validate"):
        subprocess.run(
            ["desktop-file-validate", str(root / "usr/share/applications/carrel.desktop")],
            check=True,
        )


@pytest.mark.skipif(not have("apt-get"), reason="not a Debian system")
def test_apt_would_install_it_here() -> None:
    done = subprocess.run(
        [
            "apt-get",
            "install",
            "--simulate",
            "-o",
            "Debug::NoLocking=1",
            str(artifact("carrel_*.deb")),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Inst carrel" in done.stdout or "carrel is already" in done.stdout


def test_self_check_of_the_installed_app(root: Path, tmp_path: Path) -> None:
    before = snapshot(root / "opt" / "carrel")
    carrel = root / "usr" / "bin" / "carrel"
    env = clean_env(tmp_path / "home")
    version = subprocess.run([str(carrel), "--version"], env=env, capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("carrel ")
    done = subprocess.run(
        [str(carrel), "self-check"], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 7 and all(line.startswith("ok ") for line in lines[:6])
    # The embedder's runtimes made it into the build: the one "auto" picks on this
    # processor, then the others it can run, asked for by name.
    picked = embedder.auto_engines()[0]
    assert f"({RUNTIME_NAMES[picked]})" in done.stdout
    print(done.stdout)
    others = ["onnx-int8", "openvino"] + (["openvino-int8"] if has_vnni() else [])
    for runtime in [r for r in others if r != picked]:
        again = subprocess.run(
            [str(carrel), "self-check"],
            env=dict(env, CARREL_EMBEDDER_RUNTIME=runtime),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"({RUNTIME_NAMES[runtime]})" in again.stdout, again.stdout
    if has_vnni():  # OpenVINO int8's network, kept in the person's cache, not the install
        assert list((tmp_path / "home").rglob("minilm-int8-*.xml"))
    # The model's digest too (app.rag.digest), naming the installed model's own folder,
    # and OpenVINO's compiled network in a folder named after the shipped one.
    [memo] = (tmp_path / "home").rglob("model-digests.json")
    assert [Path(k).is_relative_to(root.resolve()) for k in json.loads(memo.read_text())] == [True]
    assert list((tmp_path / "home").rglob("minilm-ov-*/*.blob"))
    assert snapshot(root / "opt" / "carrel") == before  # nothing written into the install


@pytest.mark.skipif(not have("Xvfb", "xdotool"), reason="needs Debian's xvfb and xdotool")
def test_the_window_comes_up(root: Path, tmp_path: Path) -> None:
    before = snapshot(root / "opt" / "carrel")
    xvfb, display = start_xvfb()
    try:
        started = time.monotonic()
        app = subprocess.Popen(
            [str(root / "usr" / "bin" / "carrel")],
            env=clean_env(tmp_path / "home", DISPLAY=display),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            window, shown = wait_window(display, "Carrel", timeout=120)
            print(f"first window {shown - started:.2f} s after start")
            time.sleep(3)  # let it paint and load the model: an external process, no signal
            assert PACKAGES is not None
            shot = PACKAGES / "installed-window.png"
            width, _height, colours = screenshot(display, shot)
            assert width >= 800 and colours > 20, f"the screen looks empty ({colours} colours)"
            print(f"screenshot: {shot}")
            x = {"env": {"DISPLAY": display, "PATH": "/usr/bin:/bin"}, "check": True}
            # No window manager here: give it the keyboard, then Ctrl+Q as a person types it.
            subprocess.run(["xdotool", "windowfocus", "--sync", window], **x)  # type: ignore[call-overload]
            subprocess.run(["xdotool", "key", "ctrl+q"], **x)  # type: ignore[call-overload]
            output, _ = app.communicate(timeout=60)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
        assert app.returncode == 0, output
        assert "Traceback" not in output, output
    finally:
        xvfb.kill()
        xvfb.wait()
    assert snapshot(root / "opt" / "carrel") == before


@pytest.mark.skipif(not have("strace"), reason="Debian's strace is not installed")
def test_a_document_question_connects_nowhere(unpacked: Path, tmp_path: Path) -> None:
    before = snapshot(unpacked)
    notes = tmp_path / "harbour.md"
    notes.write_text(
        "# Harbour\n\nThe harbour master is Ingrid Solberg. The ferry leaves at seven.\n",
        encoding="utf-8",
    )
    carrel = unpacked / "carrel"
    script = (
        f"{carrel} docs add {notes} --collection notes && "
        f"{carrel} ask 'Who is the harbour master?' --collection notes"
    )
    trace = tmp_path / "connect.trace"
    done = subprocess.run(
        [
            "strace",
            "-f",
            "-qq",
            "--seccomp-bpf",  # stop only at connect(): torch's and OpenVINO's threads run free
            "-e",
            "trace=connect",
            "-o",
            str(trace),
            "env",
            "-i",
            *(f"{k}={v}" for k, v in clean_env(tmp_path / "home").items()),
            "sh",
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if "ptrace" in done.stderr and done.returncode != 0:
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[1] harbour.md" in done.stdout
    assert off_device_connects(trace.read_text()) == []
    assert snapshot(unpacked) == before


def test_removal_leaves_nothing(root: Path) -> None:
    done = subprocess.run(
        ["dpkg", f"--root={root}", "--purge", "carrel"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    left = [p for p in (root / "opt", root / "usr") for p in p.rglob("*") if not p.is_dir()]
    assert left == []
    assert not (root / "opt" / "carrel").exists()


def test_a_persons_cross_encoder_runs_on_openvino(unpacked: Path, tmp_path: Path) -> None:
    """A reranker the person put in the model library is exported by the installed app (in
    its child process, torch's export with `onnx`) and run by OpenVINO, not torch
    (app.rag.cross_runtime): the network made in the person's cache, nothing in the log
    about falling back, both scores in `carrel search --json`."""
    import shutil

    from app.config import HOME_ENV, Paths
    from app.library.retrieval import snapshot_folder
    from tests.support.tinymodels import save_tiny_cross_encoder

    before = snapshot(unpacked)
    paths = Paths.under(tmp_path / "carrel")
    made = save_tiny_cross_encoder(tmp_path / "ce")
    shutil.copytree(made, snapshot_folder(paths.models_dir, "test/tiny-reranker"))
    notes = tmp_path / "harbour.md"
    notes.write_text("# Harbour\n\nThe harbour master is Ingrid Solberg.\n", encoding="utf-8")
    env = clean_env(tmp_path / "home", **{HOME_ENV: str(tmp_path / "carrel")})
    carrel = str(unpacked / "carrel")
    for args in (
        ["docs", "add", str(notes), "--collection", "notes"],
        ["retrieval", "reranker", "notes", "test/tiny-reranker"],
    ):
        done = subprocess.run([carrel, *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run(
        [carrel, "search", "Who is the harbour master?", "--collection", "notes", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [hit] = json.loads(done.stdout)[:1]
    assert hit["score"] is not None and hit["rerank_score"] is not None
    logs = "".join(p.read_text(errors="replace") for p in paths.logs_dir.rglob("*.log*"))
    assert "could not run on" not in logs and "runs on torch" not in logs, logs[-2000:]
    assert list((paths.cache_dir / "onnx" / "openvino").glob("minilm-ov-*.xml"))
    assert snapshot(unpacked) == before
