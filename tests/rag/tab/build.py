"""Build the tabular development set's files from installed Debian packages.

python -m tests.rag.tab.build FOLDER   (prints the files it made)

Tables a person keeps as CSV, none written by anyone on the project and nothing
committed: the ISO code lists of `iso-codes` (countries, former countries, country
subdivisions, currencies, languages, scripts; its JSON written out as CSV, one column per
field in the order the data has them) and the time-zone table of `tzdata`
(`zone1970.tab`, its comment lines dropped, its own column names as the header). The
languages table has 7,910 rows and the subdivisions 5,127: the right row has to be
found among thousands of short, alike records.

The build is deterministic for a given package version; `questions.toml` names the files
by the names given here.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from tests.rag.dev2.build import MissingSourceError

ISO = Path("/usr/share/iso-codes/json")
ZONES = Path("/usr/share/zoneinfo/zone1970.tab")
# (file made, JSON file, its list's key, columns in order); the flag emoji is left out.
TABLES = [
    ("countries.csv", "iso_3166-1.json", "3166-1",
     ["alpha_2", "alpha_3", "numeric", "name", "official_name", "common_name"]),
    ("former-countries.csv", "iso_3166-3.json", "3166-3",
     ["alpha_2", "alpha_3", "alpha_4", "numeric", "name", "withdrawal_date", "comment"]),
    ("subdivisions.csv", "iso_3166-2.json", "3166-2", ["code", "name", "type", "parent"]),
    ("currencies.csv", "iso_4217.json", "4217", ["alpha_3", "numeric", "name"]),
    ("languages.csv", "iso_639-3.json", "639-3",
     ["alpha_3", "alpha_2", "bibliographic", "name", "inverted_name", "common_name", "scope",
      "type"]),
    ("scripts.csv", "iso_15924.json", "15924", ["alpha_4", "numeric", "name"]),
]  # fmt: skip
ZONES_NAME = "time-zones.csv"


def build(folder: Path) -> list[Path]:
    """Make every file of the set in `folder` (kept if already there); return them."""
    folder.mkdir(parents=True, exist_ok=True)
    made = [_table(folder / name, ISO / source, key, cols) for name, source, key, cols in TABLES]
    made.append(_zones(folder / ZONES_NAME))
    return made


def _need(source: Path) -> Path:
    if not source.exists():
        raise MissingSourceError(f"{source} is missing: install the Debian packages in .ci/run")
    return source


def _write(target: Path, header: list[str], rows: list[list[str]]) -> Path:
    partial = target.with_suffix(".part")
    with partial.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    partial.replace(target)
    return target


def _table(target: Path, source: Path, key: str, columns: list[str]) -> Path:
    if target.exists():
        return target
    records = json.loads(_need(source).read_text(encoding="utf-8"))[key]
    return _write(target, columns, [[r.get(c, "") for c in columns] for r in records])


def _zones(target: Path) -> Path:
    """zone1970.tab as CSV: its header is the last comment line before the data."""
    if target.exists():
        return target
    lines = _need(ZONES).read_text(encoding="utf-8").splitlines()
    header = ["country-codes", "coordinates", "TZ", "comments"]
    rows = [[*line.split("\t"), ""][:4] for line in lines if line and not line.startswith("#")]
    return _write(target, header, rows)


if __name__ == "__main__":
    for path in build(Path(sys.argv[1])):
        print(path)
