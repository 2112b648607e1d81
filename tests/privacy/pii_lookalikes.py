"""Look-alikes for the measured redaction set: numbers and strings that resemble personal
data but are not, as they appear in invoices, reports, logs and letters in several
languages. None of them may be replaced.

Reference labels (invoice, order, ticket…) come in two halves: `LABELS[split]`, so the
report's set uses words the development set never showed.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from stdnum import ean as std_ean
from stdnum import isbn as std_isbn

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
}


def date(rng: random.Random) -> str:
    y, m, d = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
    hh, mm, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    lang = rng.choice(list(MONTHS))
    month = MONTHS[lang].split()[m - 1]
    forms = [
        f"{d:02d}.{m:02d}.{y}",
        f"{d}.{m}.{y}",
        f"{d:02d}.{m:02d}.{y % 100:02d}",
        f"{m:02d}/{d:02d}/{y}",
        f"{d:02d}/{m:02d}/{y}",
        f"{m}/{d}/{y % 100:02d}",
        f"{y}-{m:02d}-{d:02d}",
        f"{y}/{m:02d}/{d:02d}",
        f"{d:02d}-{m:02d}-{y}",
        f"{y}{m:02d}{d:02d}",
        f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}",
        f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z",
        f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}.{rng.randint(0, 999):03d}",
        f"{d:02d}.{m:02d}.{y} {hh:02d}:{mm:02d} Uhr",
        f"{d} {month} {y}",
        f"{month} {d}, {y}",
        f"{d:02d}/{m:02d}/{y} {hh:02d}h{mm:02d}",
        f"{y}.{m:02d}.{d:02d}.",
        f"{d:02d}.{m:02d}.–{d + 1:02d}.{m:02d}.{y}",
        f"{d:02d}/{m:02d}/{y} - {d + 1:02d}/{m:02d}/{y}",
    ]
    return rng.choice(forms)


def time_(rng: random.Random) -> str:
    hh, mm, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    forms = [
        f"{hh:02d}:{mm:02d}",
        f"{hh:02d}:{mm:02d}:{ss:02d}",
        f"{hh % 12 + 1}:{mm:02d} pm",
        f"{hh}h{mm:02d}",
        f"{hh:02d}:{mm:02d}–{(hh + 2) % 24:02d}:{mm:02d}",
        f"{hh:02d}:{mm:02d}:{ss:02d},{rng.randint(0, 999):03d}",
        f"T+{hh:02d}:{mm:02d}:{ss:02d}",
    ]
    return rng.choice(forms)


def version(rng: random.Random) -> str:
    a, b, c, d = (
        rng.randint(0, 30),
        rng.randint(0, 30),
        rng.randint(0, 400),
        rng.randint(1000, 30000),
    )
    forms = [
        f"{a}.{b}.{c}",
        f"v{a}.{b}.{c}.{rng.randint(0, 99)}",
        f"10.0.{d}.{rng.randint(1, 4000)}",
        f"{a}.{b}.{c}-rc.{rng.randint(1, 9)}",
        f"Version {a}.{b} (Build {d})",
        f"{a}.{b}.{c}.{d}",
        f"release {rng.randint(2015, 2030)}.{rng.randint(1, 12):02d}.{c}",
        f"lodash@{a}.{b}.{c}",
        f"build {d}{rng.randint(100, 999)}",
    ]
    return rng.choice(forms)


# Reference-number labels; the two halves never meet.
LABELS = {
    "dev": [
        "Invoice no.",
        "Order #",
        "Ticket",
        "Case",
        "Customer no.",
        "Rechnung Nr.",
        "Bestellnummer",
        "Kundennummer",
        "Facture n°",
        "Commande",
        "N.º de pedido",
        "Fattura n.",
        "Factuurnummer",
        "Zamówienie nr",
        "Ärende",
        "Ref.",
        "PO",
        "Claim",
    ],
    "test": [
        "Invoice number",
        "Order no.",
        "Support ticket",
        "Case ID",
        "Customer ID",
        "Rechnungsnummer",
        "Auftragsnummer",
        "Vorgangsnummer",
        "Réf. client",
        "Dossier n°",
        "Factura nº",
        "Número de cliente",
        "Ordine n.",
        "Klantnummer",
        "Numer faktury",
        "Kundnummer",
        "Reference",
        "Account no.",
    ],
}


def reference(rng: random.Random, split: str) -> str:
    label = rng.choice(LABELS[split])
    y = rng.randint(2015, 2030)
    n = rng.randint(10**5, 10**11)
    forms = [
        f"{label} {n}",
        f"{label} {y}-{rng.randint(1, 99999):05d}",
        f"{label} INV-{y}-{rng.randint(1, 9999):06d}",
        f"{label} {rng.randint(100, 999)}-{rng.randint(10**6, 10**7 - 1)}-"
        f"{rng.randint(10**6, 10**7 - 1)}",
        f"{label} {rng.randint(10**9, 10**10 - 1)}",
        f"{label}: {rng.randint(10**7, 10**8 - 1)}",
        f"{label} {y}/{rng.randint(10, 99)}/{rng.randint(1000, 9999)}",
        f"{label} INC{rng.randint(0, 9999999):07d}",
        f"{label} #{rng.randint(10**4, 10**9)}",
        f"{label} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} {rng.randint(10, 99)}",
    ]
    return rng.choice(forms)


def isbn(rng: random.Random) -> str:
    body = "978" + "".join(str(rng.randint(0, 9)) for _ in range(9))
    number = body + std_ean.calc_check_digit(body)
    return rng.choice(["ISBN ", "ISBN-13: ", ""]) + std_isbn.format(number)


def oid(rng: random.Random) -> str:
    tail = ".".join(str(rng.randint(1, 400)) for _ in range(rng.randint(2, 6)))
    return rng.choice(["1.3.6.1.4.1.", "2.16.840.1.", "1.2.840.113549.1.", "OID 2.5.4."]) + tail


def price(rng: random.Random) -> str:
    whole, cents = rng.randint(1, 9_999_999), rng.randint(0, 99)
    us = f"{whole:,}"
    de = us.replace(",", ".")
    fr = us.replace(",", "\u202f")
    forms = [
        f"${us}.{cents:02d}",
        f"€ {de},{cents:02d}",
        f"{de},{cents:02d} €",
        f"{fr},{cents:02d} €",
        f"CHF {us.replace(',', chr(39))}.{cents:02d}",
        f"£{us}",
        f"{us}.{cents:02d} USD",
        f"{de},– EUR",
        f"zł {fr},{cents:02d}",
        f"{whole} kr",
    ]
    return rng.choice(forms)


def postcode(rng: random.Random) -> str:
    forms = [
        f"{rng.randint(10000, 99999)} Berlin",
        f"SW1A {rng.randint(1, 9)}AA",
        f"{rng.randint(75001, 75020)} Paris",
        f"{rng.randint(1000, 9999)} AB Amsterdam",
        f"{rng.randint(10, 99)}-{rng.randint(100, 999)} Warszawa",
        f"SE-{rng.randint(100, 999)} {rng.randint(10, 99)} Stockholm",
        f"CA {rng.randint(90001, 96162)}",
        f"{rng.randint(28001, 28080)} Madrid",
        f"A-{rng.randint(1010, 1230)} Wien",
        f"{rng.randint(10, 99)}{rng.randint(100, 999)}-{rng.randint(100, 999)} São Paulo",
        f"{rng.randint(100, 999)}-{rng.randint(1000, 9999)} 東京都",
    ]
    return rng.choice(forms)


def other(rng: random.Random) -> str:
    forms = [
        f"{rng.uniform(-90, 90):.4f}, {rng.uniform(-180, 180):.4f}",
        f"p < 0.00{rng.randint(1, 9)}",
        f"pages {rng.randint(1, 400)}-{rng.randint(401, 900)}",
        f"{rng.randint(1900, 2000)}–{rng.randint(2001, 2030)}",
        f"{rng.randint(1, 999)} {rng.randint(100, 999)} {rng.randint(100, 999)} inhabitants",
        f"icon@{rng.randint(2, 3)}x.png",
        f"sha {rng.getrandbits(28):07x}",
        "std::vector<int>",
        f"{rng.randint(1, 16)}:{rng.randint(1, 9)} aspect",
        f"1Z 999 AA1 {rng.randint(10, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
        f"§ {rng.randint(1, 300)} Abs. {rng.randint(1, 9)}",
        f"{rng.randint(1, 99)},{rng.randint(0, 9)} %",
        f"Az. {rng.randint(1, 9)} O {rng.randint(1, 999)}/{rng.randint(10, 30)}",
        f"{rng.randint(100, 999)}.{rng.randint(100, 999)}.{rng.randint(100, 999)} visitors",
        f"docker.io/library/python@sha256:{rng.getrandbits(64):016x}",
        f"@{rng.choice(['ada', 'team', 'carrel'])} mentioned",
        f"scale 1:{rng.choice([25000, 50000, 100000])}",
        f"+{rng.randint(1, 40)} % y/y",
        ".".join(str(rng.randint(1, 9)) for _ in range(5)) + " section",
    ]
    return rng.choice(forms)


FAMILIES: dict[str, Callable[[random.Random], str]] = {
    "date": date,
    "time": time_,
    "version": version,
    "isbn": isbn,
    "oid": oid,
    "price": price,
    "postcode": postcode,
    "other": other,
}
