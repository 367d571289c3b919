"""The dashboard's tables and charts, built from the cached numbers (reports.aggregates).

One `Table` per block: the page renders it (a chart of one column, then the table), the Excel export writes
it (`?table=<name>`), the development report prints it. A chart is drawn from the same rows and the same
formatted values as its table, so the two cannot disagree.

No database access here: labels are translated in the reader's language, values come from the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from certification.models import Program
from funding import money
from reports.aggregates import FUNNEL
from reports.metrics import STATUS_LABELS, Progress
from reports.models import Target

INT, TEXT, MONEY, PERCENT, DATE = "int", "text", "money", "percent", "date"


def fmt(value: Any, kind: str) -> str:
    """How a cell reads on the page, in the chart and in the PDF (Excel gets the raw value)."""
    if value is None or value == "":
        return "—"
    if kind == MONEY:
        return money.yuan(value)
    if kind == PERCENT:
        return f"{value}%"
    if kind == DATE and isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class Column:
    key: str
    label: str
    kind: str = INT


@dataclass
class Row:
    label: str
    cells: dict[str, Any]
    key: str = ""  # a stable key (region code, stage, programme id): data-key on the page
    url: str = ""  # drill-down to this row's region
    note: str = ""  # e.g. a target's source, shown under the label


@dataclass
class Chart:
    column: str  # the column whose values the bars show
    title: str
    description: str
    maximum: Decimal | int | None = None  # the scale; the largest value when None (100 for percentages)


@dataclass
class Table:
    name: str
    title: str
    label: str  # the heading of the first column (the rows' labels)
    columns: list[Column]
    rows: list[Row]
    total: Row | None = None
    chart: Chart | None = None
    empty: str = ""
    notes: list[str] = field(default_factory=list)

    def texts(self, row: Row) -> list[tuple[Column, str]]:
        return [(c, fmt(row.cells.get(c.key), c.kind)) for c in self.columns]

    @property
    def body(self) -> list[tuple[Row, list[tuple[Column, str]]]]:
        return [(row, self.texts(row)) for row in self.rows]

    @property
    def footer(self) -> list[tuple[Column, str]] | None:
        return self.texts(self.total) if self.total is not None else None

    @property
    def svg(self) -> dict | None:
        return bar_chart(self)

    def excel_columns(self) -> list[tuple[str, Any]]:
        columns = [(self.label, lambda r: r.label)]
        for c in self.columns:
            columns.append((c.label, lambda r, key=c.key: r.cells.get(key)))
        return columns

    def excel_rows(self) -> list[Row]:
        return [*self.rows, *([self.total] if self.total is not None else [])]


# --- charts --------------------------------------------------------------------------------------

LABEL_W, TRACK_W, ROW_H, BAR_H, VALUE_W = 200, 360, 30, 18, 140


def _number(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))


def bar_chart(table: Table) -> dict | None:
    """Geometry of a horizontal bar chart of one column (server-side SVG): a bar per row on one scale, the
    value written after it exactly as the table writes it."""
    chart = table.chart
    if chart is None or not table.rows:
        return None
    column = next(c for c in table.columns if c.key == chart.column)
    values = [_number(r.cells.get(chart.column)) for r in table.rows]
    scale = Decimal(chart.maximum) if chart.maximum is not None else max(values, default=Decimal(0))
    bars = []
    for i, (row, value) in enumerate(zip(table.rows, values, strict=True)):
        top = i * ROW_H + 6
        share = min(value / scale, Decimal(1)) if scale > 0 else Decimal(0)
        label = row.label if len(row.label) <= 14 else row.label[:13] + "…"
        bars.append(
            {
                "key": row.key,
                "label": label,
                "full_label": row.label,
                "value": fmt(row.cells.get(chart.column), column.kind),
                "y": top,
                "text_y": top + 14,
                "width": round(float(share) * TRACK_W, 1),
            }
        )
    return {
        "id": f"chart-{table.name}",
        "title": chart.title,
        "description": chart.description,
        "bars": bars,
        "width": LABEL_W + 10 + TRACK_W + VALUE_W,
        "height": len(bars) * ROW_H + 10,
        "bar_x": LABEL_W + 10,
        "track_w": TRACK_W,
        "bar_h": BAR_H,
        "value_x": LABEL_W + 10 + TRACK_W + 8,
    }


# --- labels --------------------------------------------------------------------------------------


def funnel_labels() -> dict[str, str]:
    return {
        "draft": _("Drafts"),
        "county": _("Waiting at a county"),
        "prefecture": _("Waiting at a prefecture"),
        "province": _("Waiting at the province"),
        "returned": _("Returned for correction"),
        "approved": _("Approved"),
        "in_notice": _("In public notice"),
        "published": pgettext("funnel stage", "Certified"),
        "rejected": _("Rejected"),
        "withdrawn": _("Withdrawn"),
    }


def metric_label(metric: str, program: str = "") -> str:
    if metric == Target.Metric.PROGRAMME and program:
        return _("certified in %(programme)s") % {"programme": program}
    try:
        return str(Target.Metric(metric).label)
    except ValueError:
        return metric


# --- the tables ----------------------------------------------------------------------------------


def funnel_stages(rows: list[dict]) -> dict[str, int]:
    """The funnel rows [{child, state, level, n}] summed into the stages of aggregates.FUNNEL."""
    counts = {key: 0 for key, _s, _l in FUNNEL}
    for row in rows:
        for key, state, level in FUNNEL:
            if (state is not None and row["state"] == state) or (
                level is not None and row["state"] in ("submitted", "in_review") and row["level"] == level
            ):
                counts[key] += row["n"]
    return counts


def funnel_table(data: dict) -> Table:
    counts = funnel_stages(data["funnel"])
    labels = funnel_labels()
    year = data["year"]
    return Table(
        name="funnel",
        title=_("Applications to the rounds of %(year)s, by stage") % {"year": year},
        label=pgettext("funnel", "Stage"),
        columns=[Column("n", _("Applications"))],
        rows=[Row(labels[key], {"n": counts[key]}, key=key) for key, _s, _l in FUNNEL],
        total=Row(pgettext("report", "Total"), {"n": sum(counts.values())}, key="total"),
        chart=Chart(
            "n",
            _("Applications by stage, %(year)s") % {"year": year},
            _("One bar per stage of the review chain."),
        ),
    )


def programmes_table(data: dict) -> Table:
    tiers = dict(Program.Tier.choices)
    return Table(
        name="programmes",
        title=_("Certified enterprises by programme (certifications in force)"),
        label=_("Programme"),
        columns=[Column("tier", _("Tier"), TEXT), Column("n", _("Certified enterprises"))],
        rows=[
            Row(p["name"], {"tier": str(tiers.get(p["tier"], p["tier"])), "n": p["n"]}, key=str(p["pk"]))
            for p in data["by_program"]
        ],
        total=Row(
            _("Enterprises with any certification"), {"tier": "", "n": data["certified_total"]}, key="total"
        ),
        chart=Chart(
            "n",
            _("Certified enterprises by programme"),
            _("One bar per programme; an enterprise certified in two programmes counts in each."),
        ),
        empty=_("No certification in force."),
    )


def _child_rows(data: dict) -> list[tuple[dict, dict]]:
    return [(child, data["by_child"].get(child["path"], {})) for child in data["children"]]


def _applications_by_child(data: dict) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for row in data["funnel"]:
        entry = out.setdefault(row["child"], {"applications": 0, "waiting": 0, "published": 0})
        if row["state"] != "draft":
            entry["applications"] += row["n"]
        if row["state"] in ("submitted", "in_review"):
            entry["waiting"] += row["n"]
        if row["state"] == "published":
            entry["published"] += row["n"]
    return out


def regions_table(data: dict, *, link=None) -> Table:
    """Per child region (the county itself on a county's dashboard), with a drill-down link."""
    year = data["year"]
    apps = _applications_by_child(data)
    rows = []
    for child, certified in _child_rows(data):
        a = apps.get(child["path"], {})
        rows.append(
            Row(
                child["name"],
                {
                    "n": certified.get("n", 0),
                    "new": certified.get("new", 0),
                    "applications": a.get("applications", 0),
                    "waiting": a.get("waiting", 0),
                    "published": a.get("published", 0),
                },
                key=child["code"],
                url=link(child["code"]) if link and child["code"] != data["region"]["code"] else "",
            )
        )
    total = Row(
        pgettext("report", "Total"),
        {k: sum(r.cells[k] for r in rows) for k in ("n", "new", "applications", "waiting", "published")},
        key="total",
    )
    return Table(
        name="regions",
        title=_("Certified enterprises and applications by region, %(year)s") % {"year": year},
        label=_("Region"),
        columns=[
            Column("n", _("Certified enterprises")),
            Column("new", _("Newly certified in %(year)s") % {"year": year}),
            Column("applications", _("Applications submitted")),
            Column("waiting", _("Waiting for review")),
            Column("published", pgettext("applications", "Certified")),
        ],
        rows=rows,
        total=total,
        chart=Chart(
            "n",
            _("Certified enterprises by region"),
            _("One bar per region below this one; choose a region in the table to see its own dashboard."),
        ),
        empty=_("No region below this one."),
    )


def industries_table(data: dict) -> Table:
    return Table(
        name="industries",
        title=_("Certifications in force by industry section (GB/T 4754)"),
        label=_("Industry section"),
        columns=[Column("n", _("Certifications in force"))],
        rows=[
            Row(f"{s['code']} {s['name']}".strip(), {"n": s["n"]}, key=s["code"]) for s in data["by_section"]
        ],
        chart=Chart(
            "n",
            _("Certifications in force by industry section"),
            _("One bar per industry section; an enterprise certified in two programmes counts twice."),
        ),
        empty=_("No certification in force."),
    )


def years_table(data: dict) -> Table:
    return Table(
        name="years",
        title=_("Certifications in force by the year they were issued"),
        label=_("Year issued"),
        columns=[Column("n", _("Certifications in force"))],
        rows=[Row(str(y["year"]), {"n": y["n"]}, key=str(y["year"])) for y in data["by_year"]],
        chart=Chart("n", _("Certifications in force by year issued"), _("One bar per year of issue.")),
        empty=_("No certification in force."),
    )


def target_progress(target: dict, today: date) -> Progress:
    return Progress(value=target["value"], count=target["count"], deadline=target["deadline"], today=today)


def targets_table(data: dict) -> Table:
    today = data["today"]
    rows = []
    for t in data["targets"]:
        p = target_progress(t, today)
        rows.append(
            Row(
                f"{t['region_name']} · {metric_label(t['metric'], t['program'])}",
                {
                    "value": t["value"],
                    "count": t["count"],
                    "percent": p.percent,
                    "remaining": p.remaining,
                    "counts_from": t["counts_from"],
                    "deadline": t["deadline"],
                    "pace": p.pace_per_year,
                    "status": str(STATUS_LABELS[p.status]),
                    "baseline": t["baseline"],
                },
                key=str(t["pk"]),
                note=t["source"],
            )
        )
    return Table(
        name="targets",
        title=_("Progress against the targets"),
        label=_("Target"),
        columns=[
            Column("value", _("Target")),
            Column("count", _("Reached")),
            Column("percent", _("Reached (%)"), PERCENT),
            Column("remaining", _("Remaining")),
            Column("counts_from", _("Counted from"), DATE),
            Column("deadline", _("Deadline"), DATE),
            Column("pace", _("Needed per year")),
            Column("status", _("Status"), TEXT),
            Column("baseline", _("Starting point")),
        ],
        rows=rows,
        chart=Chart(
            "percent",
            _("Targets reached, in per cent"),
            _("One bar per target, full at 100%; the table also gives what remains and the pace needed."),
            maximum=100,
        ),
        empty=_("No target is recorded for this region or below it."),
    )


def quotas_table(data: dict) -> Table:
    rows = []
    for q in data["quotas"]:
        remaining = None if q["maximum"] is None else max(q["maximum"] - q["used"], 0)
        shortfall = None if q["minimum"] is None else max(q["minimum"] - q["used"], 0)
        rows.append(
            Row(
                f"{q['round__name']} · {q['region__name']}",
                {
                    "used": q["used"],
                    "maximum": q["maximum"],
                    "remaining": remaining,
                    "minimum": q["minimum"],
                    "shortfall": shortfall,
                },
                key=str(q["pk"]),
            )
        )
    return Table(
        name="quotas",
        title=_("Quotas of the rounds of %(year)s: fulfilment and shortfall") % {"year": data["year"]},
        label=_("Round and region"),
        columns=[
            Column("used", _("Recommended")),
            Column("maximum", _("Maximum")),
            Column("remaining", _("Places left")),
            Column("minimum", _("Expected minimum")),
            Column("shortfall", _("Shortfall")),
        ],
        rows=rows,
        chart=Chart(
            "used",
            _("Recommendations against the quotas"),
            _("One bar per quota: what the region recommended."),
        ),
        empty=_("No quota in the rounds of this year."),
    )


def attention_table(data: dict, *, link=None) -> Table:
    attention = data["attention"]
    overdue: dict[str, int] = {}
    for row in attention["overdue"]:
        overdue[row["child"]] = overdue.get(row["child"], 0) + row["n"]
    rows = []
    keys = ("overdue", "expiring", "warnings", "visits")
    region = data["region"]
    child_paths = {c["path"] for c in data["children"]}
    # Reviews waiting at the region's own level fall under no child: a row of their own.
    own = sum(n for path, n in overdue.items() if path not in child_paths)
    if own and region["level"] != "county":
        rows.append(
            Row(
                _("%(region)s (its own level)") % {"region": region["name"]},
                {"overdue": own, "expiring": 0, "warnings": 0, "visits": 0},
                key=region["code"],
            )
        )
    for child in data["children"]:
        path = child["path"]
        rows.append(
            Row(
                child["name"],
                {
                    "overdue": overdue.get(path, 0),
                    "expiring": attention["expiring"].get(path, 0),
                    "warnings": attention["warnings"].get(path, 0),
                    "visits": attention["visits"].get(path, 0),
                },
                key=child["code"],
                url=link(child["code"]) if link and child["code"] != region["code"] else "",
            )
        )
    return Table(
        name="attention",
        title=_("What needs attention"),
        label=_("Region"),
        columns=[
            Column("overdue", _("Reviews past their deadline")),
            Column("expiring", _("Certifications expiring within 90 days")),
            Column("warnings", _("Open monitoring warnings")),
            Column("visits", _("Commissioner visits overdue")),
        ],
        rows=rows,
        total=Row(pgettext("report", "Total"), {k: sum(r.cells[k] for r in rows) for k in keys}, key="total"),
        empty=_("No region below this one."),
    )


def awards_table(data: dict) -> Table:
    a = data["awards"]
    year = data["year"]
    return Table(
        name="awards",
        title=_("Awards to the region's enterprises, budgets of %(year)s") % {"year": year},
        label=_("Awards"),
        columns=[Column("n", _("Awards")), Column("amount", _("Amount (yuan)"), MONEY)],
        rows=[
            Row(
                _("Approved (budget committed, paid included)"),
                {"n": a["approved_n"], "amount": a["approved_sum"]},
                key="approved",
            ),
            Row(_("Paid"), {"n": a["paid_n"], "amount": a["paid_sum"]}, key="paid"),
            Row(
                _("Waiting for review (any year)"),
                {"n": a["pending_n"], "amount": a["pending_sum"]},
                key="pending",
            ),
        ],
        chart=Chart("amount", _("Awards in yuan"), _("Approved, paid and waiting awards, on one scale.")),
    )


def budgets_table(data: dict) -> Table:
    rows = []
    for b in data["budgets"]:
        used = (
            (Decimal(b["committed"]) * 100 / Decimal(b["amount"])).quantize(Decimal("0.1"))
            if b["amount"]
            else None
        )
        rows.append(
            Row(
                b["policy__name"],
                {
                    "region": b["policy__region__name"],
                    "amount": b["amount"],
                    "committed": b["committed"],
                    "paid": b["paid"],
                    "used": used,
                },
                key=str(b["pk"]),
            )
        )
    return Table(
        name="budgets",
        title=_("Budgets of %(year)s paid by the region and below") % {"year": data["year"]},
        label=_("Award policy"),
        columns=[
            Column("region", _("Paying region"), TEXT),
            Column("amount", _("Budget (yuan)"), MONEY),
            Column("committed", _("Committed (yuan)"), MONEY),
            Column("paid", _("Paid (yuan)"), MONEY),
            Column("used", _("Budget used (%)"), PERCENT),
        ],
        rows=rows,
        chart=Chart("used", _("Budget used, in per cent"), _("Committed share of each budget."), maximum=100),
        empty=_("No budget of this year."),
    )


def dashboard_tables(data: dict, *, link=None) -> list[Table]:
    """Every table of the dashboard, in page order. `link(code)` makes a drill-down URL."""
    return [
        funnel_table(data),
        targets_table(data),
        programmes_table(data),
        regions_table(data, link=link),
        industries_table(data),
        years_table(data),
        quotas_table(data),
        attention_table(data, link=link),
        awards_table(data),
        budgets_table(data),
    ]


TABLE_NAMES = (
    "funnel",
    "targets",
    "programmes",
    "regions",
    "industries",
    "years",
    "quotas",
    "attention",
    "awards",
    "budgets",
)
