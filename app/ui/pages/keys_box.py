"""`KeysBox`: where API keys are kept (the system keyring, or Carrel's encrypted vault
unlocked by a typed passphrase) and the key of the selected endpoint: set, replace, clear.

Every keyring call runs in a worker: the vault derives its key from the passphrase each
time (about 0.6 s here) and the system keyring talks over D-Bus. A key is shown only as
its last four characters, and the field it was typed in is emptied once it is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.privacy.errors import KeyringUnavailableError
from app.privacy.keys import Keys
from app.ui.workers import TaskWorker, WorkerSet
from app.workbench import Workbench

NO_KEYRING = (
    "No system keyring is available on this machine ({detail}), so API keys cannot be "
    "kept there. Carrel can keep them in an encrypted vault file instead, unlocked by a "
    "passphrase you type here; the passphrase is kept in memory only, never written down."
)
VAULT_LOCKED = "Keys are kept in Carrel's encrypted vault. Type its passphrase to unlock it."
VAULT_NEW = (
    "Keys will be kept in Carrel's encrypted vault. Choose its passphrase and type it twice; "
    "it is never written down."
)


class KeysBox(QGroupBox):
    """The key store and the selected endpoint's key.

    Signals: `ready(str)` when the key store is open (saying where keys are kept),
    `unavailable(str)` when there is no system keyring (the message shown),
    `hints(dict)` with each endpoint's hint after the store opened or the list changed,
    `key_changed(str, str)` with the endpoint and its new hint after a set or clear,
    `failed(str)` with a message for a person.
    """

    ready = Signal(str)
    unavailable = Signal(str)
    hints = Signal(dict)
    key_changed = Signal(str, str)
    failed = Signal(str)

    def __init__(self, wb: Workbench, workers: WorkerSet, parent: QWidget | None = None) -> None:
        super().__init__("API keys", parent)
        self.wb = wb
        self._workers = workers
        self._keys: Keys | None = None
        self._busy = False
        self._then: Callable[[Any], None] | None = None
        self.endpoint = ""
        self.where = QLabel("Opening the key store…", self)
        self.where.setWordWrap(True)
        self.passphrase = QLineEdit(self)
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("Vault passphrase")
        self.passphrase.returnPressed.connect(self.unlock)
        # A new vault asks twice: a mistyped passphrase would lock its keys away for good.
        self.repeat = QLineEdit(self)
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat.setPlaceholderText("Repeat the passphrase")
        self.repeat.returnPressed.connect(self.unlock)
        self.unlock_button = QPushButton("Unlock vault", self)
        self.unlock_button.clicked.connect(self.unlock)
        self.use_vault_button = QPushButton("Use the encrypted vault instead", self)
        self.use_vault_button.clicked.connect(self.show_vault)
        vault_row = QHBoxLayout()
        vault_row.addWidget(self.passphrase, 1)
        vault_row.addWidget(self.repeat, 1)
        vault_row.addWidget(self.unlock_button)
        self.vault_row = QWidget(self)
        self.vault_row.setLayout(vault_row)
        vault_row.setContentsMargins(0, 0, 0, 0)

        self.hint = QLabel("Pick an endpoint above to set its key.", self)
        self.key = QLineEdit(self)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("Paste the API key")
        self.key.returnPressed.connect(self.set_key)
        self.set_button = QPushButton("Set key", self)
        self.set_button.clicked.connect(self.set_key)
        self.clear_button = QPushButton("Clear key", self)
        self.clear_button.clicked.connect(self.clear_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.set_button)
        key_row.addWidget(self.clear_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.where)
        layout.addWidget(self.vault_row)
        layout.addWidget(self.use_vault_button)
        layout.addWidget(self.hint)
        layout.addLayout(key_row)
        self.vault_row.hide()
        self.use_vault_button.hide()
        self._update()

    # opening the store -------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._keys is not None

    def start(self) -> None:
        """Open the store the policy names: the vault if its passphrase is known this
        session, else ask for it; or the system keyring, saying so plainly if there is
        none."""
        if self.wb.privacy.uses_vault:
            if self.wb.privacy.passphrase is not None:
                self._open_vault(self.wb.privacy.passphrase)
            else:
                self.show_vault()
            return

        def probe() -> Keys | KeyringUnavailableError:
            try:
                return self.wb.privacy.keys()
            except KeyringUnavailableError as exc:
                return exc

        self._run(probe, self._on_probed)

    def _on_probed(self, found: Keys | KeyringUnavailableError) -> None:
        if isinstance(found, Keys):
            self._opened(found)
            self.use_vault_button.show()
            return
        detail = str(found.__cause__ or "no Secret Service") or "no Secret Service"
        message = NO_KEYRING.format(detail=detail.splitlines()[0][:120])
        self.where.setText(message)
        self._show_vault_row()
        self.unavailable.emit(message)

    @property
    def new_vault(self) -> bool:
        return not self.wb.privacy.has_vault

    def show_vault(self) -> None:
        self.where.setText(VAULT_NEW if self.new_vault else VAULT_LOCKED)
        self.use_vault_button.hide()
        self._show_vault_row()
        self.passphrase.setFocus()

    def _show_vault_row(self) -> None:
        self.repeat.setVisible(self.new_vault)
        self.unlock_button.setText("Create vault" if self.new_vault else "Unlock vault")
        self.vault_row.show()

    def unlock(self) -> None:
        """Open the vault with the typed passphrase; a new one needs it twice, and an empty
        one is refused, the key store left as it was."""
        passphrase = self.passphrase.text()
        if not passphrase:
            self.failed.emit("Type a passphrase first; an empty one cannot lock the vault.")
            return
        if self.new_vault and self.repeat.text() != passphrase:
            self.repeat.clear()
            self.failed.emit("The two passphrases differ; no vault was created. Type it again.")
            return
        self._open_vault(passphrase)

    def _open_vault(self, passphrase: str) -> None:
        privacy = self.wb.privacy
        # Opening checks the passphrase; the policy switches to the vault once it opened.
        self._run(lambda: privacy.unlock_vault(passphrase), self._on_vault_opened)

    def _on_vault_opened(self, keys: Keys) -> None:
        self.passphrase.clear()
        self.repeat.clear()
        self.vault_row.hide()
        self._opened(keys)

    def _opened(self, keys: Keys) -> None:
        self._keys = keys
        self.where.setText(f"Keys are kept in {keys.where}.")
        self._update()
        self.ready.emit(keys.where)
        self.refresh_hints()

    def refresh_hints(self) -> None:
        """Read each endpoint's hint (last four characters) in a worker."""
        keys = self._keys
        if keys is None:
            return
        names = [e.name for e in self.wb.privacy.endpoints()]
        self._run(lambda: {n: keys.hint(n) for n in names}, self.hints.emit)

    # the selected endpoint's key ---------------------------------------------------------

    def select(self, endpoint: str, hint: str = "") -> None:
        self.endpoint = endpoint
        if not endpoint:
            self.hint.setText("Pick an endpoint above to set its key.")
        else:
            self.hint.setText(f"Key of {endpoint}: {hint or 'not read yet'}")
        self._update()

    def set_key(self) -> None:
        keys, name, key = self._keys, self.endpoint, self.key.text().strip()
        if keys is None or not name:
            return
        if not key:
            self.failed.emit("Paste the key first; to delete it, press Clear key.")
            return
        self.key.clear()
        privacy = self.wb.privacy
        self._run(lambda: (name, privacy.set_key(name, key, keys)), self._on_key_changed)

    def clear_key(self) -> None:
        if self.endpoint:
            self.forget_key(self.endpoint)

    def forget_key(self, name: str) -> None:
        """Delete the key of `name` (also of an endpoint that was removed) when the store
        is open."""
        keys, privacy = self._keys, self.wb.privacy
        if keys is not None:
            self._run(
                lambda: (name, (privacy.clear_key(name, keys), "(no key)")[1]), self._on_key_changed
            )

    def _on_key_changed(self, changed: tuple[str, str]) -> None:
        name, hint = changed
        if name == self.endpoint:
            self.hint.setText(f"Key of {name}: {hint}")
        self.key_changed.emit(name, hint)

    # plumbing ----------------------------------------------------------------------------

    def _run(self, fn: Callable[[], Any], on_result: Callable[[Any], None]) -> None:
        if self._busy:
            self.failed.emit("The key store is still busy; try again in a moment.")
            return
        self._busy = True
        self._then = on_result
        self._update()
        worker = TaskWorker(fn)
        # Bound methods of this widget: Qt queues the calls to the GUI thread.
        worker.result.connect(self._on_result)
        worker.failed.connect(self._on_failed)
        self._workers.start(worker)

    def _on_result(self, value: Any) -> None:
        then, self._then = self._then, None
        self._idle()  # first: the handler may start the next call
        if then is not None:
            then(value)

    def _on_failed(self, message: str) -> None:
        self._then = None
        self._idle()
        self.failed.emit(message)

    def _idle(self) -> None:
        self._busy = False
        self._update()

    @property
    def busy(self) -> bool:
        return self._busy

    def _update(self) -> None:
        idle = not self._busy
        can = idle and self._keys is not None and bool(self.endpoint)
        for w in (self.key, self.set_button, self.clear_button):
            w.setEnabled(can)
        self.unlock_button.setEnabled(idle)
        self.use_vault_button.setEnabled(idle)
