"""The errors a person can cause or meet, each with a message that says what to do.

Everything that is a `CarrelError` is shown to the person as it is; anything else is a bug,
logged with its traceback and shown as "unexpected error".
"""

from __future__ import annotations

from pathlib import Path


class CarrelError(Exception):
    """Base of every failure whose message is written for a person, not a developer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ModelNotFoundError(CarrelError):
    """A model name or path that points at nothing."""

    def __init__(self, name: str, known: list[str] | None = None) -> None:
        hint = "Run 'carrel models list' to see the installed models"
        if known:
            hint = "Installed models: " + ", ".join(known)
        super().__init__(f"No model called '{name}'. {hint}.")
        self.name = name


class NotAGGUFError(CarrelError):
    """A file that is not a GGUF model at all (empty, text, another format)."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"'{path.name}' is not a GGUF model file ({detail}). "
            "Carrel runs GGUF models; pick a .gguf file from Hugging Face or convert the "
            "model with llama.cpp."
        )
        self.path = path


class TruncatedGGUFError(CarrelError):
    """A GGUF file shorter than its own header says it is: an interrupted copy or download."""

    def __init__(self, path: Path, have: int, need: int | None) -> None:
        if need:
            detail = f"{have:,} of {need:,} bytes ({100.0 * have / need:.0f} %)"
        else:
            detail = f"it ends inside its own header after {have:,} bytes"
        super().__init__(
            f"'{path.name}' is incomplete: {detail}. "
            "The copy or download was interrupted; download or copy it again."
        )
        self.path = path
        self.have = have
        self.need = need


class ModelTooLargeError(CarrelError):
    """A model whose weights and context cannot fit in this machine's free memory."""

    def __init__(self, name: str, need: int, free: int) -> None:
        gib = 1024**3
        super().__init__(
            f"'{name}' needs about {need / gib:.1f} GiB of memory but only {free / gib:.1f} GiB "
            "is free. Close other programs, lower the context length, or pick a smaller "
            "quantization."
        )
        self.need = need
        self.free = free


class ContextExceededError(CarrelError):
    """A prompt that does not fit the model's context even after dropping old turns."""

    def __init__(self, prompt_tokens: int, n_ctx: int) -> None:
        super().__init__(
            f"The message is {prompt_tokens:,} tokens long but the model's context holds "
            f"{n_ctx:,}. Shorten the message or raise the context length in the parameters."
        )
        self.prompt_tokens = prompt_tokens
        self.n_ctx = n_ctx


class ModelLoadError(CarrelError):
    """llama.cpp refused to load a file that looked like a valid GGUF."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"llama.cpp could not load '{path.name}': {detail}. The file may use an "
            "architecture this version of llama.cpp does not know, or be damaged; "
            "verify it or download it again."
        )
        self.path = path


class NoModelLoadedError(CarrelError):
    """A reply was asked for before any model was chosen."""

    def __init__(self) -> None:
        super().__init__("No model is loaded. Pick one in the model list first.")


class ReplyInProgressError(CarrelError):
    """A model switch that would stop the person's reply in progress, asked not to."""

    def __init__(self) -> None:
        super().__init__(
            "A reply in the Carrel window is still being written; the model is switched "
            "once it ends."
        )


class ConversationNotFoundError(CarrelError):
    """A conversation id that is not in the store (deleted, or a typo on the command line)."""

    def __init__(self, conversation_id: int) -> None:
        super().__init__(f"There is no conversation {conversation_id}; it may have been deleted.")


class SettingsError(CarrelError):
    """A settings file that cannot be read; the message names the file and the line."""


class StorageError(CarrelError):
    """The database or a file in the data folder cannot be written (disk full, read-only)."""


class NoSpaceError(StorageError):
    """Not enough free disk space for what is about to be written: said before writing,
    with what is already saved and how much more is needed."""

    def __init__(self, where: Path, need: int, free: int, saved: str = "") -> None:
        mb = 1e6
        more = f"about {max(need / mb, 0.1):,.1f} MB more is needed, " if need > 0 else ""
        text = f"Not enough disk space in {where}: {more}{free / mb:,.1f} MB is free."
        if saved:
            text += f" {saved}"
        super().__init__(f"{text} Free some space and try again.")
        self.where = where
        self.need = need
        self.free = free

    def saying(self, saved: str) -> NoSpaceError:
        """The same error, also saying what was saved before it."""
        return NoSpaceError(self.where, self.need, self.free, saved)
