"""Working days (工作日) in China, for periods counted in working days such as the public notice (公示期).

The `chinese-calendar` package knows the State Council's holidays and adjusted working weekends (调休) for
the years it was released for. A tenant's own table (certification.Holiday) comes first: it covers later
years and local differences. For a year neither knows, Monday to Friday are working days: the portal
never fails on a year the package has not caught up with.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def _package_says(day: date) -> bool | None:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the package does not cover
        return None


def is_workday(day: date, overrides: dict[date, bool] | None = None) -> bool:
    if overrides and day in overrides:
        return overrides[day]
    known = _package_says(day)
    return known if known is not None else day.weekday() < 5


def tenant_overrides(tenant, start: date, end: date) -> dict[date, bool]:
    from certification.models import Holiday

    return dict(
        Holiday.objects.for_tenant(tenant)
        .filter(day__gte=start, day__lte=end)
        .values_list("day", "is_workday")
    )


def period_end(start: date, working_days: int, *, tenant=None) -> date:
    """The last day of a period of `working_days` working days that begins on `start` (or on the first
    working day after it, when `start` is not one)."""
    if working_days < 1:
        raise ValueError("a period has at least one working day")
    overrides = (
        tenant_overrides(tenant, start, start + timedelta(days=working_days * 3 + 30)) if tenant else {}
    )
    day, counted = start, 0
    while True:
        if is_workday(day, overrides):
            counted += 1
            if counted == working_days:
                return day
        day += timedelta(days=1)


def workdays_between(start: date, end: date, *, tenant=None) -> int:
    """Working days from `start` to `end`, both included."""
    overrides = tenant_overrides(tenant, start, end) if tenant else {}
    return sum(is_workday(start + timedelta(days=i), overrides) for i in range((end - start).days + 1))
