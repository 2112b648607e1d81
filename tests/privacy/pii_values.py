"""Values for the measured redaction set: personal data of each kind, written the ways
people write it, and look-alikes (dates, versions, reference numbers, prices…) that must be
left alone. Every value is drawn from a `random.Random` the caller seeds.

Ground truth comes from the standards, not from Carrel: a phone number is one that
libphonenumber's metadata calls valid for its country, an IBAN has the country's length and
format from the SWIFT registry with ISO 7064 check digits, a card number has a real issuer
prefix and length and passes Luhn, an address has a registrable domain.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import phonenumbers as pn
from phonenumbers import PhoneNumberFormat as Fmt
from stdnum import iban as std_iban
from stdnum import luhn


@dataclass(frozen=True)
class Value:
    """One written value: its text, its kind ("" for a look-alike), the person's phone
    region when it matters, and the family it was drawn from (for the report)."""

    text: str
    kind: str
    family: str
    region: str = "US"
    # How the value sits in the sentence: "<{v}>", "{v}:8080"; the span is the value alone.
    wrap: str = "{v}"


# --- e-mail ------------------------------------------------------------------------------

FIRST = [
    "ada",
    "jörg",
    "zoë",
    "josé",
    "łukasz",
    "søren",
    "chloé",
    "müller",
    "björn",
    "ines",
    "hana",
    "olaf",
    "marta",
    "niamh",
]
FIRST += ["pieter", "agnieszka", "françois", "émile", "kai"]
LAST = [
    "lovelace",
    "brandt",
    "o'brien",
    "dupont",
    "kowalski",
    "nørgaard",
    "garcía",
    "rossi",
    "de-vries",
    "svensson",
]
LAST += ["müller", "ólafsson", "nakamura", "smith", "jääskeläinen"]
DOMAINS = [
    "example.com",
    "example.org",
    "firma.de",
    "bücher.de",
    "example.fr",
    "mail.co.uk",
    "sub.example.net",
    "universität-wien.at",
    "correo.es",
    "posta.it",
    "kpn-mail.nl",
    "poczta.pl",
    "företag.se",
    "example.technology",
    "xn--bcher-kva.de",
    "dept.uni.edu",
    "sub_domain.example.com",
    "münchen.example",
    "例子.广告",
    "пример.рф",
]
EMAIL_WRAPS = [
    "{v}",
    "<{v}>",
    "({v})",
    "mailto:{v}",
    '"{v}"',
    "{v}.",
    "{v},",
    "[{v}]",
    "{v};",
    "'{v}'",
]


def email(rng: random.Random) -> Value:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice(
        [
            f"{first}.{last}",
            f"{first[0]}.{last}",
            f"{first}_{last}",
            f"{first}{rng.randint(1, 99)}",
            f"{first}+{rng.choice(['news', 'work', 'x'])}",
            last,
            f"{first}-{last}",
            f"{first}.{last}{rng.randint(70, 99)}",
            "info",
            "用户",
            "jean‐luc",
            "o'brien",
        ]
    )
    address = f"{local}@{rng.choice(DOMAINS)}"
    if rng.random() < 0.15:
        address = address.upper() if address.isascii() else address.title()
    return Value(
        address, "EMAIL", "idn" if not address.isascii() else "ascii", wrap=rng.choice(EMAIL_WRAPS)
    )


# --- phone numbers -----------------------------------------------------------------------

REGIONS = [
    "US",
    "GB",
    "DE",
    "FR",
    "ES",
    "IT",
    "NL",
    "PL",
    "SE",
    "CH",
    "AT",
    "BE",
    "IN",
    "BR",
    "AU",
    "JP",
    "CA",
    "IE",
    "DK",
    "NO",
]
TYPES = [pn.PhoneNumberType.FIXED_LINE, pn.PhoneNumberType.MOBILE]


def _valid_number(rng: random.Random, region: str) -> pn.PhoneNumber:
    while True:
        example = pn.example_number_for_type(region, rng.choice(TYPES))
        if example is None:
            continue
        digits = str(example.national_number)
        keep = max(2, len(digits) - rng.randint(3, 6))
        new = digits[:keep] + "".join(str(rng.randint(0, 9)) for _ in digits[keep:])
        number = pn.PhoneNumber(country_code=example.country_code, national_number=int(new))
        if pn.is_valid_number(number) and pn.region_code_for_number(number) == region:
            return number


def _regroup(text: str, sep: str) -> str:
    return re.sub(r"(?<=\d) (?=\d)", sep, text)


def phone(rng: random.Random) -> Value:
    region = rng.choice(REGIONS)
    number = _valid_number(rng, region)
    intl = pn.format_number(number, Fmt.INTERNATIONAL)
    national = pn.format_number(number, Fmt.NATIONAL)
    cc = number.country_code
    nsn = pn.national_significant_number(number)
    forms: list[tuple[str, bool]] = [  # (text, written nationally)
        (intl, False),
        (pn.format_number(number, Fmt.E164), False),
        (pn.format_number(number, Fmt.RFC3966), False),  # "tel:+49-30-…": the span drops "tel:"
        (_regroup(intl, "-"), False),
        (_regroup(intl, "."), False),
        (f"00{intl[1:]}", False),
        (national, True),
        (re.sub(r"[\s\-]", "", national), True),
        (_regroup(national, "-"), True),
    ]
    if region in ("DE", "AT", "CH", "GB", "NL", "IT", "BE", "FR"):
        trunk = national.split(" ")[0]
        if trunk.startswith("0") and " " in national:
            rest = national[len(trunk) :].strip()
            forms.append((f"+{cc} (0){trunk[1:]} {rest}", False))
            forms.append((f"{trunk}/{rest.replace(' ', '')}", True))
            forms.append((f"({trunk}) {rest}", True))
    if region == "FR":
        forms.append((_regroup(national, "."), True))
    if region in ("US", "CA"):
        forms.append((f"{nsn[:3]}.{nsn[3:6]}.{nsn[6:]}", True))
        forms.append((f"1-{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}", True))
    text, is_national = rng.choice(forms)
    person = region if is_national else rng.choice(REGIONS)
    family = "national" if is_national else "international"
    if text.startswith("tel:"):
        return Value(text[4:], "PHONE", family, person, wrap="tel:{v}")
    return Value(text, "PHONE", family, person)


# --- IBANs -------------------------------------------------------------------------------

_IBAN_FORMATS: dict[str, str] = {}
with Path(std_iban.__file__).with_name("iban.dat").open(encoding="utf-8") as _f:
    for _line in _f:
        _m = re.match(r'([A-Z]{2}) country="[^"]*" bban="([^"]+)"', _line)
        if _m:
            _IBAN_FORMATS[_m.group(1)] = _m.group(2)
IBAN_COUNTRIES = sorted(_IBAN_FORMATS)
_CHARS = {
    "n": "0123456789",
    "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
}


def iban_compact(rng: random.Random, country: str) -> str:
    bban = ""
    for count, kind in re.findall(r"(\d+)!([nac])", _IBAN_FORMATS[country]):
        bban += "".join(rng.choice(_CHARS[kind]) for _ in range(int(count)))
    number = std_iban.calc_check_digits(country + "00" + bban)
    return country + number + bban


def iban_spaced(compact: str) -> str:
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def iban(rng: random.Random) -> Value:
    compact = iban_compact(rng, rng.choice(IBAN_COUNTRIES))
    style = rng.choice(["compact", "spaced", "spaced", "lower", "dashed", "lower-compact"])
    text = {
        "compact": compact,
        "spaced": iban_spaced(compact),
        "lower": iban_spaced(compact).lower(),
        "dashed": iban_spaced(compact).replace(" ", "-"),
        "lower-compact": compact.lower(),
    }[style]
    return Value(text, "IBAN", style)


# --- card numbers ------------------------------------------------------------------------

# (brand, prefixes, lengths, grouping of the most common length)
BRANDS: list[tuple[str, list[str], list[int], list[int]]] = [
    ("visa", ["4"], [16, 13, 19], [4, 4, 4, 4]),
    ("mastercard", ["51", "52", "53", "54", "55", "2221", "2500", "2720"], [16], [4, 4, 4, 4]),
    ("amex", ["34", "37"], [15], [4, 6, 5]),
    ("discover", ["6011", "65", "644"], [16], [4, 4, 4, 4]),
    ("jcb", ["3528", "3550", "3589"], [16], [4, 4, 4, 4]),
    ("diners", ["36", "38", "300"], [14], [4, 6, 4]),
    ("unionpay", ["62"], [16, 19], [4, 4, 4, 4]),
    ("maestro", ["6759", "5018", "6304"], [16, 19], [4, 4, 4, 4]),
]


def card(rng: random.Random) -> Value:
    brand, prefixes, lengths, groups = rng.choice(BRANDS)
    length = rng.choice(lengths)
    body = rng.choice(prefixes)
    body += "".join(str(rng.randint(0, 9)) for _ in range(length - len(body) - 1))
    digits = body + luhn.calc_check_digit(body)
    if sum(groups) != length:
        groups = [4] * (length // 4) + ([length % 4] if length % 4 else [])
    parts, i = [], 0
    for g in groups:
        parts.append(digits[i : i + g])
        i += g
    sep = rng.choice([" ", " ", "-", "", " - ", "\u00a0"])
    return Value(sep.join(parts), "CARD", brand)


# --- IP addresses ------------------------------------------------------------------------


def ipv4(rng: random.Random) -> Value:
    octets = [rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)]
    style = rng.choice(["plain", "plain", "padded", "port", "cidr"])
    if style == "padded":
        return Value(".".join(f"{o:03d}" for o in octets), "IP", "v4-padded")
    wrap = {"port": "{v}:8443", "cidr": "{v}/24"}.get(style, "{v}")
    return Value(".".join(map(str, octets)), "IP", f"v4-{style}", wrap=wrap)


def ipv6(rng: random.Random) -> Value:
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    style = rng.choice(
        ["full", "padded", "compressed", "upper", "mapped", "zone", "loopback", "doc"]
    )
    if style == "full":
        text = ":".join(groups)
    elif style == "padded":
        text = ":".join(g.zfill(4) for g in groups)
    elif style == "compressed":
        text = ":".join(groups[:3]) + "::" + ":".join(groups[6:])
    elif style == "upper":
        text = (":".join(groups[:2]) + "::" + groups[7]).upper()
    elif style == "mapped":
        v4 = [rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)]
        text = "::ffff:" + ".".join(map(str, v4))
    elif style == "zone":
        text = (
            f"fe80::{groups[5]}:{groups[6]}%{rng.choice(['eth0', 'en0', 'wlan0', '12', 'ens33'])}"
        )
    elif style == "loopback":
        text = rng.choice(["::1", "0:0:0:0:0:0:0:1"])
    else:
        text = f"2001:db8:{groups[2]}::{groups[7]}"
    wrap = "[{v}]:443" if style in ("compressed", "doc") and rng.random() < 0.4 else "{v}"
    return Value(text, "IP", f"v6-{style}", wrap=wrap)


def ip(rng: random.Random) -> Value:
    return ipv4(rng) if rng.random() < 0.5 else ipv6(rng)


KINDS: dict[str, Callable[[random.Random], Value]] = {
    "EMAIL": email,
    "PHONE": phone,
    "IBAN": iban,
    "CARD": card,
    "IP": ip,
}
