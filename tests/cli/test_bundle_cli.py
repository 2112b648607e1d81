"""`carrel bundle export|import` from the command line: a name the library already has
needs --replace or --skip, and a refused bundle ends with one line and status 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.config import Paths
from app.workbench import Workbench

SMOL = "SmolLM2-135M-Instruct.Q4_1"


@pytest.mark.slow
def test_export_then_import_with_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source"
    monkeypatch.setenv("CARREL_HOME", str(source))
    wb = Workbench.open(Paths.under(source))
    quantized, _ = wb.library.quantize(SMOL, "Q8_0", measure=False)
    wb.close()
    out = tmp_path / "carry.tar"
    assert main(["bundle", "export", "--models", quantized.name, "--out", str(out)]) == 0
    assert "SHA-256" in capsys.readouterr().out

    monkeypatch.setenv("CARREL_HOME", str(tmp_path / "target"))
    assert main(["bundle", "import", str(out)]) == 0
    assert f"imported model '{quantized.name}'" in capsys.readouterr().out
    # The same name with other bytes: the import must be told what to do.
    placed = Paths.under(tmp_path / "target").models_dir / f"{quantized.name}.gguf"
    original = placed.read_bytes()
    with placed.open("ab") as f:
        f.write(b"\0")
    assert main(["bundle", "import", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("carrel: This library already has model") and "--replace" in err
    assert main(["bundle", "import", str(out), "--skip"]) == 0
    assert "kept your model" in capsys.readouterr().out
    assert placed.read_bytes() == original + b"\0"
    assert main(["bundle", "import", str(out), "--replace", "--json"]) == 0
    assert placed.read_bytes() == original

    whole = out.read_bytes()
    out.write_bytes(whole[: len(whole) // 2])
    assert main(["bundle", "import", str(out)]) == 1
    assert f"cut short (inside models/{quantized.name}.gguf)" in capsys.readouterr().err
    out.write_bytes(whole[:-4096])  # only tar's closing zeros lost: its .sha256 tells
    assert main(["bundle", "import", str(out)]) == 1
    assert "its .sha256 file says" in capsys.readouterr().err
