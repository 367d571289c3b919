"""Annual figures to and from Excel: the template, the import (all rows or none) and the export."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from enterprises.documents import archive_within_limits
from enterprises.models import AnnualFigures, Enterprise
from enterprises.services import figures_check, figures_save
from portal.models import User

# Column order of the template; the machine-readable keys sit in row 2 so that a translated header still imports.
COLUMNS = ["fiscal_year", *AnnualFigures.FIELDS]
INTEGER_FIELDS = {"fiscal_year", "employees", "rd_staff"}
MAX_ROWS = 20
# The template unpacks to about 20 KB in about 10 members; these leave room for any spreadsheet program.
XLSX_MAX_ENTRIES = 200
XLSX_MAX_UNCOMPRESSED = 20 * 1024 * 1024


def _label(name: str) -> str:
    return str(AnnualFigures._meta.get_field(name).verbose_name)


def figures_workbook(enterprise: Enterprise, *, with_data: bool) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("Annual figures")[:31]
    ws.append([_label(n) for n in COLUMNS])
    ws.append(COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for cell in ws[2]:
        cell.font = Font(color="888888", size=8)
        cell.fill = PatternFill("solid", fgColor="EEEEEE")
    if with_data:
        for row in enterprise.figures.order_by("fiscal_year"):
            ws.append([getattr(row, n) for n in COLUMNS])
    validation = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    validation.error = _("Enter a number (万元), not negative.")
    ws.add_data_validation(validation)
    validation.add("B3:D200")
    ws.freeze_panes = "A3"
    for i, name in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = max(14, len(_label(name)) * 2)
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


@dataclass
class ImportResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "Row 4, revenue: …"
    warnings: list[str] = field(default_factory=list)
    saved: int = 0


def _parse_cell(name: str, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if name in INTEGER_FIELDS:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not text.isdigit():
            raise ValueError(_("a whole number is expected"))
        return int(text)
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(_("a number is expected")) from None
    if not number.is_finite():
        raise ValueError(_("a number is expected"))
    return number.quantize(Decimal("0.01"))


def figures_parse(content: bytes) -> ImportResult:
    result = ImportResult()
    # An .xlsx is a ZIP: its declared sizes are checked before openpyxl inflates anything (reliability.md F4).
    if not archive_within_limits(
        BytesIO(content), max_entries=XLSX_MAX_ENTRIES, max_uncompressed=XLSX_MAX_UNCOMPRESSED
    ):
        result.errors.append(_("The file could not be read as an Excel workbook."))
        return result
    try:
        wb = load_workbook(BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        result.errors.append(_("The file could not be read as an Excel workbook."))
        return result
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(min_row=1, max_row=MAX_ROWS + 3, values_only=True))
    if len(rows) < 2 or [str(c).strip() if c else "" for c in rows[1][: len(COLUMNS)]] != COLUMNS:
        result.errors.append(_("This is not the annual-figures template: download it again and fill it in."))
        return result
    years_seen = set()
    for excel_row, values in enumerate(rows[2:], start=3):
        if not any(v not in (None, "") for v in values):
            continue
        parsed: dict[str, Any] = {}
        for name, value in zip(COLUMNS, values, strict=False):
            try:
                parsed[name] = _parse_cell(name, value)
            except ValueError as exc:
                result.errors.append(
                    _("Row %(row)d, %(field)s: %(error)s.")
                    % {"row": excel_row, "field": _label(name), "error": exc}
                )
        year = parsed.get("fiscal_year")
        if year is None or not 1990 <= year <= 2100:
            result.errors.append(
                _("Row %(row)d, %(field)s: give a year such as 2025.")
                % {"row": excel_row, "field": _label("fiscal_year")}
            )
        elif year in years_seen:
            result.errors.append(
                _("Row %(row)d: the year %(year)d appears twice.") % {"row": excel_row, "year": year}
            )
        years_seen.add(year)
        field_errors, warnings = figures_check(parsed)
        for name, messages in field_errors.items():
            for message in messages:
                result.errors.append(
                    _("Row %(row)d, %(field)s: %(error)s")
                    % {"row": excel_row, "field": _label(name), "error": message}
                )
        result.warnings += [
            _("Row %(row)d: %(warning)s") % {"row": excel_row, "warning": w} for w in warnings
        ]
        result.rows.append(parsed)
    if len(rows) > MAX_ROWS + 2:
        result.errors.append(_("At most %(n)d years can be imported at once.") % {"n": MAX_ROWS})
    if not result.rows and not result.errors:
        result.errors.append(_("The file holds no figures."))
    return result


def figures_import(*, enterprise: Enterprise, by: User, content: bytes, request=None) -> ImportResult:
    """Save every row, or none if any row has an error."""
    result = figures_parse(content)
    if result.errors:
        return result
    with transaction.atomic():
        for row in result.rows:
            values = {n: row.get(n) for n in AnnualFigures.FIELDS}
            figures_save(
                enterprise=enterprise, by=by, fiscal_year=row["fiscal_year"], values=values, request=request
            )
            result.saved += 1
    return result
