"""E-mail: `.eml` and `.mbox`; headers, body, and attachments through the other loaders."""

from __future__ import annotations

import email
import io
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import BinaryIO, cast

from app.errors import CarrelError
from app.rag.errors import DocumentTooLargeError
from app.rag.loaders.base import MAX_WHOLE_FILE_BYTES, Section, paragraphs

MAX_DEPTH = 3
_HEADERS = ("From", "To", "Cc", "Date", "Subject")


def load_eml(data: BinaryIO, name: str, depth: int = 0) -> Iterator[Section]:
    """One message: a header block, its body, then each attachment's text."""
    message = email.message_from_binary_file(data, policy=policy.default)
    yield from _message(message, name, depth, page=None)


def load_mbox(data: BinaryIO, name: str) -> Iterator[Section]:
    """Each message of an mbox in turn; a citation's page is the message's number. A
    message is read whole, so one past `MAX_WHOLE_FILE_BYTES` refuses the mailbox."""
    for number, raw in enumerate(_split_mbox(data, name), start=1):
        message = email.message_from_bytes(raw, policy=policy.default)
        yield from _message(message, name, 0, page=number)


def _split_mbox(data: BinaryIO, name: str) -> Iterator[bytes]:
    current: list[bytes] = []
    size = 0
    previous_blank = True
    for line in data:
        size += len(line)
        if size > MAX_WHOLE_FILE_BYTES:
            limit = MAX_WHOLE_FILE_BYTES / 1e6
            raise DocumentTooLargeError(Path(name), f"a message past {limit:,.0f} MB")
        if line.startswith(b"From ") and previous_blank:
            if current:
                yield b"".join(current)
            current, size = [], 0
            previous_blank = False
            continue
        if line.startswith(b">From "):
            line = line[1:]
        current.append(line)
        previous_blank = not line.strip()
    if current:
        yield b"".join(current)


def _message(message: EmailMessage, name: str, depth: int, page: int | None) -> Iterator[Section]:
    subject = str(message.get("Subject", "") or "").strip() or "(no subject)"
    heading: tuple[str, ...] = (subject,)
    header = "\n".join(f"{h}: {message[h]}" for h in _HEADERS if message.get(h))
    offset = 0
    if header:
        yield Section(header, page=page, heading=heading, start=0)
        offset = len(header) + 2
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        content = body.get_content()
        if isinstance(content, str):
            if body.get_content_subtype() == "html":
                from app.rag.loaders.markup import load_html

                sections = load_html(io.BytesIO(content.encode("utf-8")), "body.html")
                for s in sections:
                    yield Section(s.text, page=page, heading=heading, start=offset + s.start)
            else:
                for sub, para in paragraphs([content]):
                    yield Section(para, page=page, heading=heading, start=offset + sub)
    for part in message.iter_attachments():
        yield from _attachment(part, name, depth, page, heading)


def _attachment(
    part: EmailMessage, name: str, depth: int, page: int | None, heading: tuple[str, ...]
) -> Iterator[Section]:
    from app.rag.loaders import loader_for

    filename = part.get_filename() or ""
    if part.get_content_type() == "message/rfc822":
        filename = filename or "message.eml"
    if not filename:
        return
    where = (*heading, filename)
    if depth >= MAX_DEPTH:
        yield Section("", page=page, heading=where, problem="attachment nested too deeply")
        return
    try:
        loader = loader_for(Path(filename))
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload(0)
            payload = cast(EmailMessage, inner).as_bytes()
        else:
            payload = cast(bytes, part.get_payload(decode=True) or b"")
        stream = io.BytesIO(payload)
        if loader is load_eml:
            sections = load_eml(stream, filename, depth + 1)
        else:
            sections = loader(stream, filename)
        for s in sections:
            # Attachments keep their own page numbers; the heading says where they came from.
            yield Section(
                s.text, page=s.page or page, heading=(*where, *s.heading), start=s.start,
                problem=s.problem,
            )  # fmt: skip
    except CarrelError as exc:
        yield Section("", page=page, heading=where, problem=f"attachment {filename}: {exc}")
