"""Two `carrel models download` of the same file at once, as two windows or a window and
a shell would start them: the second waits for the first (saying so) and never writes
into its part file; the library's file is the hub's, byte for byte."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.support.hub import SMOL_FILE, SMOL_REPO, FakeHub
from tests.support.runners import Output, start_carrel, wait_until

pytestmark = pytest.mark.slow

# Bytes a second the hub serves until the second download is seen waiting: slow enough that
# the first is still at it however long the second takes to start on a loaded machine.
THROTTLE = 1_000_000


def test_two_downloads_of_one_file_end_with_the_hubs_bytes(
    hub: FakeHub, carrel_home: Path, smollm_path: Path
) -> None:
    hub.throttle = THROTTLE  # the first is still downloading when the second starts
    env = {"CARREL_HOME": str(carrel_home), "HF_ENDPOINT": hub.url}
    first = start_carrel("models", "download", SMOL_REPO, SMOL_FILE, "--json", env=env)
    wait_until(lambda: hub.bytes_served(SMOL_FILE) > 0)
    second = start_carrel("models", "download", SMOL_REPO, SMOL_FILE, env=env)
    err2 = Output(second.stderr)  # type: ignore[arg-type]
    assert err2.wait_for("another Carrel process is downloading"), err2.text
    hub.throttle = None
    out1, err1 = first.communicate(timeout=300)
    out2, _ = second.communicate(timeout=300)
    err2_text = err2.rest()
    assert first.returncode == 0 and second.returncode == 0, (err1, err2_text)
    assert "Traceback" not in err1 + err2_text
    target = carrel_home / "models" / SMOL_FILE
    assert target.read_bytes() == smollm_path.read_bytes()
    assert not (carrel_home / "models" / f"{SMOL_FILE}.part").exists()
    assert json.loads(out1)["joined"] is False
    assert out2.strip() == (
        f"Another Carrel process downloaded {Path(SMOL_FILE).stem} meanwhile; it is in the "
        f"library ({smollm_path.stat().st_size / 1e6:.1f} MB, SHA-256 verified)."
    )
    assert hub.bytes_served(SMOL_FILE) == smollm_path.stat().st_size  # fetched once


def test_a_cancelled_wait_leaves_the_other_download_alone(
    hub: FakeHub, carrel_home: Path, smollm_path: Path
) -> None:
    """Stopping the waiting one (Ctrl-C) neither deletes nor touches the first's part."""
    hub.throttle = THROTTLE
    env = {"CARREL_HOME": str(carrel_home), "HF_ENDPOINT": hub.url}
    part = carrel_home / "models" / f"{SMOL_FILE}.part"
    with start_carrel("models", "download", SMOL_REPO, SMOL_FILE, env=env) as first:
        try:
            wait_until(lambda: hub.bytes_served(SMOL_FILE) > 0)
            with start_carrel("models", "download", SMOL_REPO, SMOL_FILE, env=env) as second:
                err2 = Output(second.stderr)  # type: ignore[arg-type]
                assert err2.wait_for("another Carrel process is downloading"), err2.text
                second.send_signal(signal.SIGINT)
                assert second.wait(timeout=120) == 130
                err2.rest()
            assert part.exists()  # still the first's, still growing
            hub.throttle = None
            first.communicate(timeout=300)
        finally:
            if first.poll() is None:
                first.kill()
    assert first.returncode == 0
    assert (carrel_home / "models" / SMOL_FILE).read_bytes() == smollm_path.read_bytes()
