"""The measured redaction set: generated sentences carrying personal data (with the exact
span of each value) and sentences carrying only look-alikes, in two splits.

- `dev`, seed 1501: what the recognizers were developed and adjusted on.
- `test`, seed 2602: what BENCHMARKS.md reports. It is drawn with another seed, its
  sentences come from the other half of the sentence frames, and its reference-number
  labels are words the dev split never uses (`pii_lookalikes.LABELS`). The value formats
  themselves (how a phone number or an IBAN is written) are shared: each split must cover
  every format.

    python -m tests.privacy.pii_set   # rewrites tests/privacy/data/pii_{dev,test}.jsonl

`tests/privacy/test_pii_set.py` checks that the files are what this generator makes.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.privacy import pii_lookalikes as looks
from tests.privacy import pii_values as values

DATA = Path(__file__).parent / "data"
SEEDS = {"dev": 1501, "test": 2602}
# Per split: strings per kind of personal data, and look-alike strings.
PER_KIND = 130
LOOKALIKES = 380

# Sentence frames in several languages; {v} is where the value goes. Even-numbered frames
# belong to the dev split, odd-numbered ones to the test split.
FRAMES = [
    "Please get in touch: {v}",
    "Bitte melden Sie sich unter {v} bei uns.",
    "Vous pouvez nous joindre au {v} du lundi au vendredi.",
    "Puede contactarnos en {v} para más información.",
    "Per informazioni: {v} (orario d'ufficio).",
    "Neem contact op via {v} als u vragen heeft.",
    "W razie pytań prosimy o kontakt: {v}.",
    "Kontakta oss på {v} om du har frågor.",
    "As discussed, the details are {v} - let me know if anything changes.",
    "Laut Vertrag gilt Folgendes: {v}; bitte prüfen.",
    "{v} — c'est noté dans le dossier.",
    "Nota: {v}\nSaludos,\nMarta",
    "Riferimento interno {v}, vedi allegato.",
    "In de bijlage staat {v} vermeld.",
    "Dane: {v} (zob. załącznik)",
    "Se bifogad fil: {v}",
    "- {v}",
    "| {v} | confirmed |",
    "Subject: follow-up\n\n{v}\n",
    "[{v}]",
    "The log line read: {v} at startup",
    "Zur Info ({v}) – danke!",
    "Merci de vérifier {v} avant vendredi.",
    "«{v}»",
]
SPLIT_FRAMES = {"dev": FRAMES[0::2], "test": FRAMES[1::2]}


@dataclass
class Item:
    """One string of the set: its text, the values in it that must be replaced (start,
    end, kind), the person's phone region, and what it was drawn from."""

    text: str
    spans: list[dict[str, object]] = field(default_factory=list)
    region: str = "US"
    family: str = ""

    @property
    def lookalike(self) -> bool:
        return not self.spans


def _place(frame: str, v: values.Value) -> Item:
    written = v.wrap.replace("{v}", v.text)
    start = frame.index("{v}") + written.index(v.text)
    text = frame.replace("{v}", written)
    span = {"start": start, "end": start + len(v.text), "kind": v.kind}
    return Item(text, [span], v.region, f"{v.kind.lower()}:{v.family}")


def _iban_followers(rng: random.Random) -> str:
    return rng.choice(
        [
            " BIC GKCCBEBB",
            " EUR",
            " SWIFT DEUTDEFF",
            f" {rng.randint(2019, 2030)}",
            f" ({rng.randint(2019, 2030)})",
            "",
            "",
        ]
    )


def generate(split: str) -> list[Item]:
    rng = random.Random(SEEDS[split])
    frames = SPLIT_FRAMES[split]
    items: list[Item] = []
    for kind, make in values.KINDS.items():
        for _ in range(PER_KIND):
            v = make(rng)
            if kind == "IBAN":
                v = values.Value(v.text, v.kind, v.family, v.region, "{v}" + _iban_followers(rng))
            items.append(_place(rng.choice(frames), v))
    families = [*looks.FAMILIES.items(), ("reference", lambda r: looks.reference(r, split))]
    for i in range(LOOKALIKES):
        family, make = families[i % len(families)]
        text, region = make(rng), rng.choice(values.REGIONS)
        items.append(Item(rng.choice(frames).replace("{v}", text), [], region, family))
    return items


def path_of(split: str) -> Path:
    return DATA / f"pii_{split}.jsonl"


def load(split: str) -> list[Item]:
    with path_of(split).open(encoding="utf-8") as f:
        return [Item(**json.loads(line)) for line in f if line.strip()]


def dumps(items: list[Item]) -> str:
    return "".join(json.dumps(asdict(i), ensure_ascii=False) + "\n" for i in items)


def main() -> None:
    DATA.mkdir(exist_ok=True)
    for split in SEEDS:
        items = generate(split)
        path_of(split).write_text(dumps(items), encoding="utf-8")
        positives = sum(1 for i in items if not i.lookalike)
        print(f"{split}: {positives} with personal data, {len(items) - positives} look-alikes")


if __name__ == "__main__":
    main()
