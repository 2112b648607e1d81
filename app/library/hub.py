"""The Hugging Face hub, asked only while the person browses or downloads.

huggingface_hub is kept offline (its `HF_HUB_OFFLINE` flag); `HubClient.online()` lifts
that for the length of one action (huggingface_hub reads the flag on every request) and
opens the network guard for the hub's host; listeners hear when the app goes online and
back offline (the status bar). Each action is a row in the egress ledger (what it carried:
search words, repository, file), settled with what became of it.

When the person's own environment says `HF_HUB_OFFLINE=1` (read when the client is made,
before any library of Carrel's sets it for itself), every action is refused at once with
`HubOfflineError`, before any socket is opened.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import IO, Any, cast
from urllib.parse import quote, urlsplit

from app.library import http
from app.library import requestlog as rl
from app.library.errors import (
    DownloadCancelledError,
    HubError,
    HubNotFoundError,
    HubOfflineError,
)
from app.library.gguf import GGUFHeader, read_header_from
from app.library.hub_errors import check_reachable, translate
from app.library.hub_switch import hub_flag_offline, hub_flag_online, offline_by_environment
from app.library.quants import QuantFile, RemoteFile, group_files

DEFAULT_ENDPOINT = "https://huggingface.co"
SORTS = {"downloads": "downloads", "likes": "likes", "recent": "last_modified"}
RANGE_CHUNK = 512 * 1024
FIRST_RANGE = 64 * 1024  # the first request is small; each next one doubles up to RANGE_CHUNK
# A remote header read stops reading the metadata past this many bytes (the architecture
# keys come first; a huge tokenizer vocabulary is cut off), and never transfers more than
# HEADER_MAX_TRANSFER, whatever the file holds.
HEADER_BUDGET = 3 * 1024 * 1024
HEADER_MAX_TRANSFER = 4 * 1024 * 1024


@dataclass(frozen=True)
class RepoSummary:
    """A search result: one repository with its popularity figures."""

    id: str
    downloads: int
    likes: int
    last_modified: str
    gated: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "downloads": self.downloads,
            "likes": self.likes,
            "last_modified": self.last_modified,
            "gated": self.gated,
        }


@dataclass
class RepoDetails:
    """One repository: its commit, licence from the card, gated status, GGUF models."""

    id: str
    revision: str
    license: str
    gated: bool
    files: list[QuantFile] = field(default_factory=list)

    def file(self, name: str) -> QuantFile:
        for q in self.files:
            if name in (q.name, q.name.rsplit("/", 1)[-1]) or any(p.path == name for p in q.parts):
                return q
        raise HubNotFoundError(f"file '{name}' in '{self.id}'")


class HubClient:
    """Search, list files, read remote headers; every call goes online only while it runs.

    `log` receives a row per action (the egress ledger); `offline` refuses every action
    (None: as `HF_HUB_OFFLINE` says now)."""

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | Callable[[], str | None] | None = None,
        allow: http.Allow | None = None,
        log: rl.RequestLog | None = None,
        offline: bool | None = None,
    ) -> None:
        self.endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self._token = token
        self._allow = allow
        self.log = log
        self.offline = offline_by_environment() if offline is None else offline
        hub_flag_offline()
        self.listeners: list[Callable[[bool], None]] = []
        self._active = 0
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint).hostname or ""

    @property
    def is_online(self) -> bool:
        return self._active > 0

    def token(self) -> str | None:
        return self._token() if callable(self._token) else self._token

    def allow(self, host: str) -> AbstractContextManager[None]:
        return self._allow(host) if self._allow is not None else nullcontext()

    def check_online(self) -> None:
        """Raise `HubOfflineError` when the hub is switched off (nothing is opened), and
        `HubUnreachableError` at once when its name cannot be looked up."""
        if self.offline:
            raise HubOfflineError
        parts = urlsplit(self.endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        check_reachable(self.endpoint, self.host, port)

    @contextmanager
    def online(self, carried: str, repo: str = "") -> Iterator[None]:
        """Online for one action: the hub flag lifted, the guard open for the hub, and a
        ledger row saying what the action carries, settled when it ends."""
        self.check_online()
        if self.token():
            carried += " · with your access token"
        entry = (
            self.log.open_hub_request(self.endpoint, self.host, repo, carried) if self.log else None
        )
        try:
            with ExitStack() as stack:
                stack.enter_context(self.allow(self.host))
                stack.enter_context(hub_flag_online())
                self._set_active(+1)
                stack.callback(self._set_active, -1)
                yield
        except BaseException as exc:
            if self.log is not None and entry is not None:
                if isinstance(exc, DownloadCancelledError):
                    self.log.settle(entry, rl.SENT, "paused" if exc.paused else "cancelled")
                else:
                    self.log.settle(entry, *rl.outcome_of(exc))
            raise
        if self.log is not None and entry is not None:
            self.log.settle(entry, rl.SENT)

    def _set_active(self, delta: int) -> None:
        with self._lock:
            before = self._active
            self._active += delta
            changed = (before == 0) != (self._active == 0)
        if changed:
            for listener in list(self.listeners):
                listener(self._active > 0)

    def _api(self) -> Any:
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint, token=self.token() or False)

    def _translate(self, exc: Exception, what: str, repo: str) -> HubError:
        return translate(exc, self.endpoint, what, repo)

    def search(self, query: str, sort: str = "downloads", limit: int = 20) -> list[RepoSummary]:
        """GGUF repositories matching `query`, most downloaded (or liked, or recent) first."""
        with self.online(f"search words: {query!r} (GGUF models, by {sort})"):
            try:
                found = list(
                    self._api().list_models(
                        search=query or None,
                        filter="gguf",
                        sort=SORTS.get(sort, "downloads"),
                        limit=limit,
                    )
                )
            except Exception as exc:
                raise self._translate(exc, f"results for '{query}'", query) from exc
        return [
            RepoSummary(
                id=m.id,
                downloads=int(m.downloads or 0),
                likes=int(m.likes or 0),
                last_modified=m.last_modified.isoformat() if m.last_modified else "",
                gated=bool(m.gated),
            )
            for m in found
        ]

    def repo(self, repo: str, revision: str | None = None) -> RepoDetails:
        """The repository's GGUF files grouped by quant, each with size and LFS SHA-256."""
        at = f" at {revision}" if revision else ""
        with self.online(f"file list of {repo}{at}", repo):
            try:
                info = self._api().model_info(repo, revision=revision, files_metadata=True)
            except Exception as exc:
                raise self._translate(exc, f"repository '{repo}'", repo) from exc
        files = [
            RemoteFile(
                s.rfilename,
                int(s.lfs.size if s.lfs else (s.size or 0)),
                s.lfs.sha256 if s.lfs else "",
            )
            for s in info.siblings or []
        ]
        card = info.card_data
        license_ = ""
        if card is not None:
            license_ = str(getattr(card, "license", None) or card.get("license", "") or "")
        return RepoDetails(
            id=info.id,
            revision=info.sha or revision or "main",
            license=license_,
            gated=bool(info.gated),
            files=group_files(files),
        )

    def snapshot_files(
        self, repo: str, revision: str | None = None
    ) -> tuple[str, str, list[tuple[RemoteFile, str]]]:
        """Every file of a repository, for a snapshot: (commit, licence, [(file with size
        and LFS SHA-256, git blob id)]); a file kept outside LFS has no SHA-256 from the
        hub and is checked by its git blob id instead."""
        at = f" at {revision}" if revision else ""
        with self.online(f"file list of {repo}{at} (a retrieval model's snapshot)", repo):
            try:
                info = self._api().model_info(repo, revision=revision, files_metadata=True)
            except Exception as exc:
                raise self._translate(exc, f"repository '{repo}'", repo) from exc
        card = info.card_data
        license_ = str(getattr(card, "license", None) or "") if card is not None else ""
        files = [
            (
                RemoteFile(
                    s.rfilename,
                    int(s.lfs.size if s.lfs else (s.size or 0)),
                    s.lfs.sha256 if s.lfs else "",
                ),
                str(s.blob_id or ""),
            )
            for s in info.siblings or []
        ]
        return info.sha or revision or "main", license_, files

    def resolve_url(self, repo: str, revision: str, path: str) -> str:
        return f"{self.endpoint}/{repo}/resolve/{quote(revision, safe='')}/{quote(path)}"

    def remote_header(self, repo: str, revision: str, path: str) -> tuple[GGUFHeader, int]:
        """Read a remote GGUF's header with Range requests; returns it and bytes fetched.

        At most `HEADER_MAX_TRANSFER` bytes: a header too large for `HEADER_BUDGET` comes
        back cut after its architecture keys (`complete=False`, no tensor table)."""
        url = self.resolve_url(repo, revision, path)
        reader = RangeReader(self, repo, url, path, limit=HEADER_MAX_TRANSFER)
        with self.online(f"header of {path} in {repo} (byte ranges)", repo):
            try:
                header = read_header_from(cast(IO[bytes], reader), path, budget=HEADER_BUDGET)
            except (ValueError, EOFError) as exc:
                raise HubError(
                    f"The header of '{path}' in '{repo}' cannot be read as GGUF "
                    f"({exc or 'it ends too soon'}); pick another file."
                ) from exc
        return header, reader.transferred


class RangeReader(io.RawIOBase):
    """A read-only, seekable stream over a remote file, fetched in `RANGE_CHUNK` Range
    requests; past `limit` transferred bytes it reads as if the file had ended."""

    def __init__(
        self, client: HubClient, repo: str, url: str, path: str, limit: int | None = None
    ) -> None:
        super().__init__()
        self._client = client
        self._repo = repo
        self._url = url
        self._path = path
        self._buf = b""
        self._pos = 0  # file offset of _buf[0]
        self._limit = limit
        self._chunk = FIRST_RANGE
        self.transferred = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move without fetching: bytes skipped past the buffer are never transferred."""
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self._pos + offset}.get(whence)
        if target is None or target < 0:
            raise OSError("RangeReader seeks from the start or the current position only")
        ahead = target - self._pos
        if 0 <= ahead < len(self._buf):
            self._buf = self._buf[ahead:]
        else:
            self._buf = b""
        self._pos = target
        return target

    def _fetch(self, start: int, length: int) -> bytes:
        resp = http.get(
            self._url,
            what=f"file '{self._path}' in '{self._repo}'",
            repo=self._repo,
            token=self._client.token(),
            range_start=start,
            range_end=start + length - 1,
            allow=self._client.allow,
        )
        try:
            data = resp.body.read(length) if resp.status == 206 else b""
            if resp.status == 200:  # no Range support: take only what we asked for
                data = resp.body.read(start + length)[start:]
        finally:
            resp.close()
        self.transferred += len(data)
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            raise ValueError("RangeReader reads bounded sizes only")
        out = bytearray()
        while len(out) < size:
            if not self._buf:
                want = max(self._chunk, min(size - len(out), 1 << 22))
                self._chunk = min(self._chunk * 2, RANGE_CHUNK)
                if self._limit is not None:
                    want = min(want, self._limit - self.transferred)
                if want <= 0:
                    break
                self._buf = self._fetch(self._pos, want)
                if not self._buf:
                    break
            take = self._buf[: size - len(out)]
            out += take
            self._buf = self._buf[len(take) :]
            self._pos += len(take)
        return bytes(out)
