"""`carrel models search|files|download|token`: the Hugging Face hub from the command
line (online only while the command runs; the token lives in the key store)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from app.cli.output import ProgressLine, print_json
from app.cli.session import open_keys, read_secret, workbench
from app.library.download import DownloadJob
from app.units import human_size
from app.workbench import HUB_TOKEN_ACCOUNT

Adder = Callable[[str, str, Callable[[argparse.Namespace], int]], Any]
# The download's progress line is redrawn at most this often.
PROGRESS_S = 0.5


def register_actions(sub: Any, add: Adder) -> None:
    """Add the hub's actions to the `models` subcommands (`add` gives each `--json`)."""
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
    p = sub.add_parser("token", help="store or clear the Hugging Face token (gated models)")
    p.add_argument("action", choices=["set", "clear"])
    p.add_argument("--vault", action="store_true", help="use the encrypted key vault")
    p.set_defaults(handler=token)


def token(args: argparse.Namespace) -> int:
    """The hub token lives in the key store like the endpoints' keys, never in a file; it
    is read from the terminal without echo (or one line of standard input)."""
    with workbench() as wb:
        keys = open_keys(wb, args.vault, create=args.action == "set")
        if args.action == "clear":
            gone = wb.privacy.clear_key(HUB_TOKEN_ACCOUNT, keys)
            print("Deleted the Hugging Face token." if gone else "There was no token.")
            return 0
        value = read_secret("Hugging Face token: ")
        shown = wb.privacy.set_key(HUB_TOKEN_ACCOUNT, value, keys)
        print(f"Stored the Hugging Face token ({shown}) in {keys.where}.")
        return 0


def search(args: argparse.Namespace) -> int:
    with workbench() as wb:
        found = wb.library.search(args.query, args.sort, args.limit)
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
    with workbench() as wb:
        details, choices = wb.library.files(args.repo, args.ctx)
    if args.json:
        print_json([c.as_dict() for c in choices])
        return 0
    print(f"{details.id} @ {details.revision[:12]}  licence: {details.license or '?'}")
    for c in choices:
        fit = c.fit.describe() if c.fit else "fit unknown"
        print(f"  {c.file.quant:<8} {human_size(c.file.size):>9}  {c.file.name}\n      {fit}")
    return 0


def download(args: argparse.Namespace) -> int:
    with workbench() as wb:
        job = wb.library.prepare_download(args.repo, args.file, args.revision)
        last = [0.0]
        line = ProgressLine()

        def show(j: DownloadJob) -> None:
            now = time.monotonic()
            if now - last[0] > PROGRESS_S and not args.json:
                last[0] = now
                line(f"{j.name}: {j.progress().describe()}")

        job.listeners.append(show)
        try:
            job.run()  # in the foreground; Ctrl-C keeps the part file for a resume
        except KeyboardInterrupt:
            job.pause()
            raise
        finally:
            line.end()
        if job.error is not None:
            raise job.error
    record = job.result
    assert record is not None
    if args.json:
        print_json({**record.as_dict(), "joined": job.joined})  # type: ignore[attr-defined]
    elif job.joined:
        print(
            f"Another Carrel process downloaded {job.name} meanwhile; it is in the library "
            f"({human_size(job.total)}, SHA-256 verified)."
        )
    else:
        print(f"Downloaded {job.name} ({human_size(job.total)}), SHA-256 verified.")
    return 0
