"""Loading GB/T 4754-2017 into the Industry table from enterprises/data/gbt4754_2017.csv (source: data/README.md)."""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "gbt4754_2017.csv"


def industry_rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def industries_load(industry_model) -> int:
    """Create or update every code; parents come first in the file. Returns the number of rows."""
    rows = industry_rows()
    existing = {i.code: i for i in industry_model.objects.all()}
    new, changed = [], []
    for row in rows:
        item = existing.get(row["code"])
        if item is None:
            new.append(
                industry_model(
                    code=row["code"], name=row["name"], level=row["level"], parent_id=row["parent"] or None
                )
            )
        elif (item.name, item.level, item.parent_id) != (row["name"], row["level"], row["parent"] or None):
            item.name, item.level, item.parent_id = row["name"], row["level"], row["parent"] or None
            changed.append(item)
    # Parents precede children in the file, so inserting in file order satisfies the foreign key.
    industry_model.objects.bulk_create(new, batch_size=500)
    industry_model.objects.bulk_update(changed, ["name", "level", "parent"], batch_size=500)
    return len(rows)
