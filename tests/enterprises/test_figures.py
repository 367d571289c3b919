from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl import load_workbook

from enterprises import services
from enterprises.figures_excel import COLUMNS, figures_import, figures_workbook
from enterprises.models import AnnualFigures

D = Decimal


def test_figures_check_names_the_field():
    errors, warnings = services.figures_check(
        {
            "revenue": D(100),
            "main_business_revenue": D(120),
            "employees": 5,
            "rd_staff": 9,
            "rd_expense": D(-1),
        }
    )
    assert set(errors) == {"main_business_revenue", "rd_staff", "rd_expense"}


def test_implausible_values_are_warnings_not_errors():
    errors, warnings = services.figures_check(
        {"revenue": D(100), "rd_expense": D(60), "total_assets": D(10), "total_liabilities": D(20)}
    )
    assert errors == {}
    assert len(warnings) == 2


def test_saving_twice_updates_the_same_year_and_refreshes_the_size_class(acme, owner):
    year = timezone.localdate().year - 1
    services.figures_save(
        enterprise=acme,
        by=owner,
        fiscal_year=year,
        values={"revenue": D(500), "employees": 30, "total_assets": D(100)},
    )
    acme.refresh_from_db()
    assert acme.size_class == "small"
    services.figures_save(
        enterprise=acme,
        by=owner,
        fiscal_year=year,
        values={"revenue": D(50000), "employees": 1200, "total_assets": D(9000)},
    )
    acme.refresh_from_db()
    assert AnnualFigures.objects.filter(enterprise=acme).count() == 1
    assert acme.size_class == "large"


def test_a_refused_save_changes_nothing(acme, owner):
    with pytest.raises(ValidationError):
        services.figures_save(
            enterprise=acme,
            by=owner,
            fiscal_year=2025,
            values={"revenue": D(100), "main_business_revenue": D(200)},
        )
    assert not AnnualFigures.objects.exists()


def _template_with(rows):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["header"] * len(COLUMNS))
    ws.append(COLUMNS)
    for row in rows:
        ws.append(row)
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_saves_all_rows(acme, owner):
    content = _template_with(
        [[2023, 800, 700, 40, 60, 1000, 400, 50, 10, 0], [2024, 1000, 900, 50, 80, 1200, 500, 55, 12, 100]]
    )
    result = figures_import(enterprise=acme, by=owner, content=content)
    assert result.errors == [] and result.saved == 2
    assert AnnualFigures.objects.get(enterprise=acme, fiscal_year=2024).equity_financing == D(100)


def test_import_saves_nothing_when_one_row_is_bad(acme, owner):
    content = _template_with(
        [
            [2023, 800, 700, 40, 60, 1000, 400, 50, 10, 0],
            [2024, 1000, 1900, 50, "abc", 1200, 500, 5, 12, 0],
            [2024, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        ]
    )
    result = figures_import(enterprise=acme, by=owner, content=content)
    assert not AnnualFigures.objects.exists()
    text = "\n".join(result.errors)
    assert "4" in text  # row numbers as Excel shows them
    assert len(result.errors) >= 4  # main business > revenue, bad number, rd staff > employees, year twice


def test_import_refuses_a_file_that_is_not_the_template(acme, owner):
    result = figures_import(enterprise=acme, by=owner, content=b"PK\x03\x04 not really")
    assert result.errors and not AnnualFigures.objects.exists()


def test_the_template_round_trips(acme, owner):
    services.figures_save(enterprise=acme, by=owner, fiscal_year=2024, values={"revenue": D("1234.50")})
    content = figures_workbook(acme, with_data=True)
    ws = load_workbook(BytesIO(content)).active
    assert [c.value for c in ws[2]] == COLUMNS
    assert ws.cell(row=3, column=1).value == 2024
    AnnualFigures.objects.all().delete()
    assert figures_import(enterprise=acme, by=owner, content=content).saved == 1
    assert AnnualFigures.objects.get().revenue == D("1234.50")
