"""The yearly circular (通报) on the sub-regions: a ranking of the children of a region.

Seed 000 三、（一）: “每年通报各市（地）‘专精特新’中小企业培育和发展情况”; seed 002 四、（一）: “‘专精特新’中小企业
培育情况要进行年度通报”. The numbers are the dashboard's (reports.aggregates, cached), arranged per child:
certified enterprises, newly certified in the year, applications, certified from the year's rounds, progress
against the child's own targets (the mean percentage of its targets whose deadline falls in the year or
later), reviews past their deadline, open monitoring warnings. Ranked by one of them, highest first (fewest
first for the two that count problems); ties share a rank (1, 2, 2, 4).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from reports.tables import INT, PERCENT, Column, Row, Table, _applications_by_child, target_progress

RANKINGS = ("certified", "new", "progress", "applications", "published", "overdue", "warnings")
LOWER_IS_BETTER = frozenset({"overdue", "warnings"})


def ranking_labels() -> dict[str, str]:
    return {
        "certified": _("Certified enterprises"),
        "new": _("Newly certified"),
        "progress": _("Target progress (%)"),
        "applications": _("Applications submitted"),
        "published": pgettext("applications", "Certified"),
        "overdue": _("Reviews past their deadline"),
        "warnings": _("Open monitoring warnings"),
    }


def _progress(data: dict, child: dict) -> Decimal | None:
    start = date(data["year"], 1, 1)
    percents = [
        target_progress(t, data["today"]).percent
        for t in data["targets"]
        if t["region_path"] == child["path"] and t["deadline"] >= start
    ]
    if not percents:
        return None
    return (sum(percents) / len(percents)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def circular_table(data: dict, *, by: str = "certified", link=None) -> Table:
    by = by if by in RANKINGS else "certified"
    apps = _applications_by_child(data)
    overdue: dict[str, int] = {}
    for row in data["attention"]["overdue"]:
        overdue[row["child"]] = overdue.get(row["child"], 0) + row["n"]
    rows = []
    for child in data["children"]:
        path = child["path"]
        certified = data["by_child"].get(path, {})
        a = apps.get(path, {})
        rows.append(
            Row(
                child["name"],
                {
                    "rank": None,
                    "certified": certified.get("n", 0),
                    "new": certified.get("new", 0),
                    "progress": _progress(data, child),
                    "applications": a.get("applications", 0),
                    "published": a.get("published", 0),
                    "overdue": overdue.get(path, 0),
                    "warnings": data["attention"]["warnings"].get(path, 0),
                },
                key=child["code"],
                url=link(child["code"]) if link and child["code"] != data["region"]["code"] else "",
            )
        )
    sign = 1 if by in LOWER_IS_BETTER else -1
    ranked = [r for r in rows if r.cells[by] is not None]
    ranked.sort(key=lambda r: (sign * r.cells[by], r.key))
    previous, rank = None, 0
    for position, row in enumerate(ranked, start=1):
        if row.cells[by] != previous:
            rank, previous = position, row.cells[by]
        row.cells["rank"] = rank
    unranked = sorted((r for r in rows if r.cells[by] is None), key=lambda r: r.key)
    labels = ranking_labels()
    year = data["year"]
    return Table(
        name="circular",
        title=_("Circular on the regions below %(region)s, %(year)s, ranked by %(by)s")
        % {"region": data["region"]["name"], "year": year, "by": labels[by]},
        label=_("Region"),
        columns=[
            Column("rank", _("Rank")),
            Column("certified", labels["certified"]),
            Column("new", _("Newly certified in %(year)s") % {"year": year}),
            Column("progress", labels["progress"], PERCENT),
            Column("applications", labels["applications"]),
            Column("published", labels["published"]),
            Column("overdue", labels["overdue"], INT),
            Column("warnings", labels["warnings"], INT),
        ],
        rows=[*ranked, *unranked],
        empty=_("No region below this one."),
    )
