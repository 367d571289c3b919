"""Excel export of any list an official uses: one sheet, a header row, one row per object.

Every export is audited (reliability.md L1) by portal.audit_middleware, which finds the title and the
row count on the response: one "export" row per file, whichever view made it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from io import BytesIO
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        # A cell that starts like a formula would run in the reader's Excel (CSV/formula injection).
        return "'" + value
    return value


def xlsx_response(
    *, filename: str, title: str, columns: list[tuple[str, Callable[[Any], Any]]], rows: Iterable[Any]
) -> HttpResponse:
    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = str(title)[:31]
    ws.append([str(label) for label, _get in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    count = 0
    for row in rows:
        ws.append([_cell(get(row)) for _label, get in columns])
        count += 1
    for i, (label, _get) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(12, min(48, len(str(label)) * 2 + 4))
    ws.freeze_panes = "A2"
    buf = BytesIO()
    wb.save(buf)
    response = HttpResponse(buf.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.audit_export = {"title": str(title), "rows": count}
    return response
