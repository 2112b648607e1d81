"""E-mail addresses, internationalised ones included (`zoë@example.fr`, `info@bücher.de`,
`用户@例子.广告`), each replaced whole (`o'brien@example.ie`, never `o'[EMAIL_1]`).

The scan starts from each `@` (rare in prose, so a text without one costs one `find`),
takes the longest run of address characters on either side, trims what belongs to the
sentence (quotes, brackets, a full stop), and asks email-validator whether the domain is
one mail can be addressed to. The local part is only required to be non-empty and at most
64 characters: people write addresses with typographic apostrophes and hyphens that the
standard does not allow, and such an address is still theirs to hide.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from app.privacy.recognize.scan import Scan
from app.privacy.recognize.spans import Span

# Characters that end a local part, read leftwards from the "@".
_LOCAL_STOP = set(' \t\r\n\u00a0<>()[]{}",;:@\\/|«»“”„')
# Leading characters that are the sentence's, not the address's.
_LOCAL_TRIM = "'‘’`\"-."
_DOMAIN = re.compile(r"[\w\-.]+")
# File names such as icon@2x.png end in an extension, never a top-level domain.
_FILE_SUFFIXES = frozenset(
    ["png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "pdf", "heic", "avif"]
)
_MAX_LOCAL = 64


@functools.lru_cache(maxsize=4096)
def domain_ok(domain: str) -> bool:
    """Whether mail can be addressed to `domain` (IDNA rules, no reserved names such as
    localhost, a top-level label with a letter). Underscores, which DNS allows in labels
    but email-validator does not, are accepted."""
    from email_validator import EmailNotValidError, validate_email

    labels = domain.split(".")
    if len(labels) < 2 or not any(c.isalpha() for c in labels[-1]):
        return False
    if labels[-1].lower() in _FILE_SUFFIXES:
        return False
    try:
        validate_email(
            "a@" + domain.replace("_", "-"),
            check_deliverability=False,
            allow_smtputf8=True,
            globally_deliverable=False,
        )
    except EmailNotValidError:
        return False
    return True


def _local_start(text: str, at: int) -> int:
    i = at
    limit = max(0, at - 2 * _MAX_LOCAL)
    while i > limit and text[i - 1] not in _LOCAL_STOP and not text[i - 1].isspace():
        i -= 1
    while i < at and text[i] in _LOCAL_TRIM:
        i += 1
    return i


def _domain_end(text: str, at: int) -> int:
    m = _DOMAIN.match(text, at + 1)
    if m is None:
        return at + 1
    end = m.end()
    while end > at + 1 and text[end - 1] in ".-_":
        end -= 1
    return end


class EmailRecognizer:
    """Finds e-mail addresses; kind EMAIL."""

    kinds = frozenset({"EMAIL"})

    def find(self, scan: Scan) -> Iterator[Span]:
        text = scan.text
        at = text.find("@")
        while at != -1:
            start = _local_start(text, at)
            end = _domain_end(text, at)
            local, domain = text[start:at], text[at + 1 : end]
            local_ok = 0 < len(local) <= _MAX_LOCAL and any(c.isalnum() for c in local)
            if local_ok and domain and domain_ok(domain):
                yield Span(start, end, "EMAIL")
                at = text.find("@", end)
                continue
            at = text.find("@", at + 1)
