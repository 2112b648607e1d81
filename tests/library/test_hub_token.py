"""The Hugging Face token goes into the key store by `carrel models token` and opens gated
repositories; it is never written to a file of ours."""

from pathlib import Path

import pytest

from app.library.errors import GatedRepoError
from app.workbench import Workbench
from tests.support.hub import SMOL_REPO, FakeHub
from tests.support.runners import cli

TOKEN = "hf_carrelTestToken0000wXyZ"
PASSPHRASE = "typed by the person"


def test_token_from_the_vault_opens_a_gated_repo(hub: FakeHub, carrel_home: Path) -> None:
    hub.token = TOKEN
    stdin = f"{PASSPHRASE}\n{PASSPHRASE}\n{TOKEN}\n"  # a new vault asks twice
    code, out, _ = cli("models", "token", "set", "--vault", stdin=stdin)
    assert code == 0 and "…wXyZ" in out

    wb = Workbench.open()
    try:
        with pytest.raises(GatedRepoError):  # the vault is locked: no token is sent
            wb.library.files(SMOL_REPO)
        wb.vault_passphrase = PASSPHRASE
        assert wb.hub_token() == TOKEN
        details, _ = wb.library.files(SMOL_REPO)
        assert details.id == SMOL_REPO
    finally:
        wb.close()
    for file in carrel_home.rglob("*"):
        if file.is_file():  # the vault holds it encrypted; nothing holds it in clear
            assert TOKEN.encode() not in file.read_bytes(), file

    assert cli("models", "token", "clear", "--vault", stdin=f"{PASSPHRASE}\n")[0] == 0
    wb = Workbench.open()
    try:
        wb.vault_passphrase = PASSPHRASE
        assert wb.hub_token() is None
    finally:
        wb.close()
