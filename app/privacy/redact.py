"""Redaction before a request leaves: personal data becomes placeholders (`[EMAIL_1]`),
mapped back to the originals locally when the answer arrives.

The recognizers (`app.privacy.recognize`) each find one kind of value; overlapping finds
become one replacement (the union, named after the longest), so a value is replaced whole
or not at all. The same original gets the same placeholder for a whole request, and a
placeholder that was already in the text before redaction is never handed out, so
restoring cannot turn it into someone's address.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from stdnum import luhn

from app.privacy.recognize.bank import CardRecognizer, IbanRecognizer
from app.privacy.recognize.bank import iban_ok as _iban_ok
from app.privacy.recognize.email import EmailRecognizer
from app.privacy.recognize.names import NAME_KINDS, NamesRecognizer
from app.privacy.recognize.network import IpRecognizer
from app.privacy.recognize.own import TermsRecognizer
from app.privacy.recognize.phone import PhoneRecognizer, guess_region
from app.privacy.recognize.scan import Scan
from app.privacy.recognize.spans import Recognizer, Span, resolve

if TYPE_CHECKING:
    from app.privacy.policy import PrivacyPolicy

BUILTIN_KINDS = ("EMAIL", "IBAN", "CARD", "IP", "PHONE")
KINDS = ("TERM", "CUSTOM", *BUILTIN_KINDS, "NAME", "PLACE", "ORG")

_PLACEHOLDER = re.compile(r"\[(" + "|".join(KINDS) + r")_(\d+)\]")
# The longest tail of a stream that may still become a placeholder: "[CUSTOM_99999]".
_MAX_PLACEHOLDER = 16

NO_NAMES = (
    "Names of people, places and organisations are not detected: add the ones that "
    "matter as your own terms (Settings → Redaction), or import a names model there."
)
NO_REGION = (
    "Phone numbers written without their country code are not detected: set your region "
    "in Settings → Redaction."
)


def luhn_ok(digits: str) -> bool:
    return luhn.is_valid(digits)


def iban_ok(text: str) -> bool:
    return _iban_ok(re.sub(r"[^0-9A-Za-z]", "", text).upper())


@dataclass(frozen=True)
class Redaction:
    """One thing hidden: its kind, the placeholder sent instead, and the original."""

    kind: str
    placeholder: str
    original: str


@dataclass
class RedactionMap:
    """The placeholders of one request (or conversation) and the originals they stand for;
    it never leaves the device."""

    by_original: dict[str, Redaction] = field(default_factory=dict)
    by_placeholder: dict[str, Redaction] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    # How many spans were replaced, counting repeats of the same original.
    hits: int = 0
    # Placeholder-shaped strings that were in the text before redaction: never handed out.
    reserved: set[str] = field(default_factory=set)

    def reserve(self, texts: Iterable[str]) -> None:
        """Note every placeholder-shaped string already in `texts` (call before redacting
        any of them), so none is handed out and none is "restored"."""
        for text in texts:
            if "[" in text:
                self.reserved.update(m.group(0) for m in _PLACEHOLDER.finditer(text))

    def placeholder_for(self, kind: str, original: str) -> str:
        self.hits += 1
        known = self.by_original.get(original)
        if known is not None:
            return known.placeholder
        n = self.counts.get(kind, 0)
        while True:
            n += 1
            placeholder = f"[{kind}_{n}]"
            if placeholder not in self.reserved:
                break
        self.counts[kind] = n
        r = Redaction(kind, placeholder, original)
        self.by_original[original] = r
        self.by_placeholder[r.placeholder] = r
        return r.placeholder

    @property
    def redactions(self) -> list[Redaction]:
        return list(self.by_placeholder.values())

    def restore(self, text: str) -> str:
        """Put the originals back where the answer quotes a placeholder."""
        if not self.by_placeholder:
            return text

        def back(m: re.Match[str]) -> str:
            r = self.by_placeholder.get(m.group(0))
            return r.original if r is not None else m.group(0)

        return _PLACEHOLDER.sub(back, text)


class Restorer:
    """Restores placeholders in a stream of chunks, holding back a tail that may be the
    start of a placeholder split between two chunks."""

    def __init__(self, mapping: RedactionMap) -> None:
        self._map = mapping
        self._tail = ""

    def feed(self, chunk: str) -> str:
        text = self._tail + chunk
        cut = text.rfind("[")
        if cut != -1 and "]" not in text[cut:] and len(text) - cut < _MAX_PLACEHOLDER:
            self._tail = text[cut:]
            text = text[:cut]
        else:
            self._tail = ""
        return self._map.restore(text)

    def flush(self) -> str:
        text, self._tail = self._tail, ""
        return self._map.restore(text)


class Redactor:
    """Finds personal data in text and swaps it for placeholders.

    `terms` are the person's own words (names, projects), matched whole and regardless of
    case; `patterns` are their regular expressions. Built-in kinds can be switched off.
    `region` is the country whose national phone format the person writes (None: guessed
    from the locale); `names_model` a named-entity pipeline folder they imported.
    """

    def __init__(
        self,
        terms: Iterable[str] = (),
        patterns: Iterable[str] = (),
        kinds: Iterable[str] = BUILTIN_KINDS,
        *,
        region: str | None = None,
        names_model: Path | None = None,
    ) -> None:
        self.kinds = frozenset(kinds) | ({"TERM", "CUSTOM"})
        self.region = guess_region() if region is None else region
        own = TermsRecognizer(terms, patterns)
        recognizers: list[Recognizer] = [] if own.empty else [own]
        if "EMAIL" in self.kinds:
            recognizers.append(EmailRecognizer())
        if "IBAN" in self.kinds:
            recognizers.append(IbanRecognizer())
        if "CARD" in self.kinds:
            recognizers.append(CardRecognizer())
        if "IP" in self.kinds:
            recognizers.append(IpRecognizer())
        if "PHONE" in self.kinds:
            recognizers.append(PhoneRecognizer(self.region))
        self.names_model = names_model
        if names_model is not None:
            self.kinds |= NAME_KINDS
            recognizers.append(NamesRecognizer(names_model))
        self._recognizers = recognizers

    @classmethod
    def for_policy(cls, policy: PrivacyPolicy) -> Redactor:
        """The redactor the person's privacy settings describe."""
        return cls(
            policy.redact_terms,
            policy.redact_patterns,
            policy.redact_kinds,
            region=policy.phone_region or None,
            names_model=Path(policy.names_model) if policy.names_model else None,
        )

    @property
    def notices(self) -> list[str]:
        """What this redactor does not look for, in words for the consent preview."""
        out = []
        if self.names_model is None:
            out.append(NO_NAMES)
        if "PHONE" in self.kinds and not self.region:
            out.append(NO_REGION)
        return out

    def find(self, text: str) -> list[Span]:
        """The spans that redaction replaces, in order, none overlapping."""
        scan = Scan(text)
        return resolve(s for r in self._recognizers for s in r.find(scan))

    def redact(self, text: str, mapping: RedactionMap) -> str:
        mapping.reserve([text])
        spans = self.find(text)
        if not spans:
            return text
        out: list[str] = []
        at = 0
        for span in spans:
            out.append(text[at : span.start])
            out.append(mapping.placeholder_for(span.kind, text[span.start : span.end]))
            at = span.end
        out.append(text[at:])
        return "".join(out)
