"""`carrel models search|files|download|import|info|verify|remove|quantize|catalog`."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.cli.output import human_size, print_json
from app.errors import CarrelError
from app.library.download import DownloadJob
from app.library.service import ModelLibrary
from app.workbench import Workbench


@contextmanager
def _library() -> Iterator[ModelLibrary]:
    wb = Workbench.open()
    try:
        yield wb.library
    finally:
        wb.close()


def register_actions(sub: Any) -> None:
    """Add the library's actions to the `models` subparsers object."""

    def add(name: str, help_: str, handler: Callable[[argparse.Namespace], int]) -> Any:
        p = sub.add_parser(name, help=help_)
        p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(handler=handler)
        return p

    p = add("search", "search the hub for GGUF models", search)
    p.add_argument("query")
    p.add_argument("--sort", choices=["downloads", "likes", "recent"], default="downloads")
    p.add_argument("--limit", type=int, default=20)
    p = add("files", "list a repository's GGUF files by quant, with fit", files)
    p.add_argument("repo")
    p.add_argument("--ctx", type=int, default=4096, help="context length for the fit")
    p = add("download", "download a GGUF file (resumes a stopped download)", download)
    p.add_argument("repo")
    p.add_argument("file")
    p.add_argument("--revision")
    p = add("import", "import a GGUF file or folder", import_)
    p.add_argument("path", type=Path)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--copy", action="store_true", help="copy into the library (default)")
    mode.add_argument("--link", action="store_true", help="reference the file in place")
    p = add("info", "show everything known about a model", info)
    p.add_argument("name")
    p.add_argument("--ctx", type=int, default=4096)
    p = add("verify", "re-check a model's header and SHA-256", verify)
    p.add_argument("name")
    p = add("remove", "delete a model from the library", remove)
    p.add_argument("name")
    p = add("quantize", "quantize a model with llama.cpp", quantize)
    p.add_argument("name")
    p.add_argument("--to", required=True, metavar="LEVEL", dest="level")
    p.add_argument(
        "--no-measure", action="store_true", help="skip timing tokens/s of source and result"
    )
    add("catalog", "the curated list of recommended models", catalog)
    p = sub.add_parser("token", help="store or clear the Hugging Face token (gated models)")
    p.add_argument("action", choices=["set", "clear"])
    p.add_argument("--vault", action="store_true", help="use the encrypted key vault")
    p.set_defaults(handler=token)


def token(args: argparse.Namespace) -> int:
    """The hub token lives in the keyring like the endpoints' keys, never in a file; it is
    read from the terminal without echo (or one line of standard input)."""
    from app.cli.remote import KeySession, read_secret, with_key_session
    from app.workbench import HUB_TOKEN_ACCOUNT

    def body(s: KeySession, a: argparse.Namespace) -> int:
        keys = s.keys(a.vault, create=a.action == "set")
        if a.action == "clear":
            gone = keys.clear(HUB_TOKEN_ACCOUNT)
            print("Deleted the Hugging Face token." if gone else "There was no token.")
            return 0
        value = read_secret("Hugging Face token: ")
        if not value.strip():
            raise CarrelError("The token was empty; nothing was stored.")
        print(
            f"Stored the Hugging Face token ({keys.set(HUB_TOKEN_ACCOUNT, value)}) in {keys.where}."
        )
        return 0

    return with_key_session(args, body)


def search(args: argparse.Namespace) -> int:
    with _library() as lib:
        found = lib.search(args.query, args.sort, args.limit)
    if args.json:
        print_json([r.as_dict() for r in found])
        return 0
    for r in found:
        gated = "  gated" if r.gated else ""
        print(f"{r.id:<60} {r.downloads:>10,} downloads {r.likes:>6,} likes{gated}")
    if not found:
        print("No GGUF repositories match.")
    return 0


def files(args: argparse.Namespace) -> int:
    with _library() as lib:
        details, choices = lib.files(args.repo, args.ctx)
    if args.json:
        print_json([c.as_dict() for c in choices])
        return 0
    print(f"{details.id} @ {details.revision[:12]}  licence: {details.license or '?'}")
    for c in choices:
        fit = c.fit.describe() if c.fit else "fit unknown"
        print(f"  {c.file.quant:<8} {human_size(c.file.size):>9}  {c.file.name}\n      {fit}")
    return 0


def _print_progress(job: DownloadJob) -> None:
    p = job.progress()
    eta = f"{p.eta:.0f} s" if p.eta is not None else "?"
    print(
        f"\r{job.name}: {human_size(p.done)} of {human_size(p.total)} "
        f"({100 * p.fraction:.0f} %), {human_size(int(p.rate))}/s, ETA {eta}   ",
        end="",
        file=sys.stderr,
        flush=True,
    )


def download(args: argparse.Namespace) -> int:
    with _library() as lib:
        job = lib.prepare_download(args.repo, args.file, args.revision)
        last = [0.0]

        def show(j: DownloadJob) -> None:
            now = time.monotonic()
            if now - last[0] > 0.5 and not args.json:
                last[0] = now
                _print_progress(j)

        job.listeners.append(show)
        try:
            job.run()  # in the foreground; Ctrl-C keeps the part file for a resume
        except KeyboardInterrupt:
            job.pause()
            raise
        if job.error is not None:
            raise job.error
    record = job.result
    assert record is not None
    if args.json:
        print_json(record.as_dict())  # type: ignore[attr-defined]
    else:
        print(f"\nDownloaded {job.name} ({human_size(job.total)}), SHA-256 verified.")
    return 0


def import_(args: argparse.Namespace) -> int:
    with _library() as lib:
        records = lib.import_path(args.path, link=args.link)
    if args.json:
        print_json([r.as_dict() for r in records])
        return 0
    for r in records:
        how = "linked" if r.linked else "copied"
        print(f"Imported {r.name} ({how}, {human_size(r.size)}, sha256 {r.sha256[:16]}…)")
    return 0


def info(args: argparse.Namespace) -> int:
    with _library() as lib:
        data = lib.info(args.name, args.ctx)
    if args.json:
        print_json(data)
        return 0
    for key in (
        "name", "architecture", "n_params", "context_length", "quant", "has_chat_template",
        "license", "card_license", "size", "sha256", "source", "path", "library_disk_usage",
    ):  # fmt: skip
        print(f"{key:<20} {data.get(key)}")
    if "fit" in data:
        print(f"{'fit':<20} {data['fit']['summary']}")
    return 0


def verify(args: argparse.Namespace) -> int:
    with _library() as lib:
        record = lib.verify(args.name)
    if args.json:
        print_json({"name": record.name, "ok": True, "sha256": record.sha256})
    else:
        print(f"{record.name}: header valid, SHA-256 {record.sha256[:16]}… matches.")
    return 0


def remove(args: argparse.Namespace) -> int:
    with _library() as lib:
        lib.remove(args.name)
    if args.json:
        print_json({"removed": args.name})
    else:
        print(f"Removed {args.name}.")
    return 0


def quantize(args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        if not args.json:
            print(f"\rquantizing: tensor {done}/{total}   ", end="", file=sys.stderr, flush=True)

    def phase(name: str) -> None:
        if not args.json:
            print("\rmeasuring tokens/s of source and result…   ", end="", file=sys.stderr)

    with _library() as lib:
        job, warning = lib.start_quantize(
            args.name, args.level, progress, measure=not args.no_measure, on_phase=phase
        )
        if warning:
            print(f"Warning: {warning}", file=sys.stderr)
        parent = lib.model(args.name).name
        try:
            record = lib.finish_quantize(job, parent)
        except KeyboardInterrupt:
            job.cancel()
            raise
    compared = record.comparison()
    if args.json:
        print_json({**record.as_dict(), "warning": warning, "comparison": compared})
        return 0
    print(f"\nWrote {record.name} ({human_size(record.size)}) from {parent}.")
    if compared is not None and record.tokens_per_s:
        print(f"{'':<10} {'size':>10} {'tokens/s':>9}")
        for label, size, tps in (
            ("source", record.parent_size, record.parent_tokens_per_s),
            ("result", record.size, record.tokens_per_s),
        ):
            print(f"{label:<10} {human_size(size):>10} {tps:>9.1f}")
    return 0


def catalog(args: argparse.Namespace) -> int:
    with _library() as lib:
        entries = lib.catalog()
    if args.json:
        print_json([e.as_dict() for e in entries])
        return 0
    for e in entries:
        print(f"{e.name:<36} {e.category:<17} {e.license:<14} {', '.join(e.use)}")
    return 0
