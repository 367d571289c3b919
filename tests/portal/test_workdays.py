"""Working days (portal.workdays): the State Council's holidays and adjusted working weekends (调休) from
the chinese-calendar package, the tenant's own Holiday rows above them, weekdays for unknown years."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from certification.models import Holiday
from portal.workdays import is_workday, period_end, workdays_between


def test_five_working_days_from_the_28th_of_september_2026_skip_golden_week():
    # 9-28, 9-29, 9-30, then the National Day holiday 10-1 … 10-7, then 10-8, 10-9
    assert period_end(date(2026, 9, 28), 5) == date(2026, 10, 9)


def test_the_saturday_after_golden_week_2026_is_a_working_day_and_counts():
    # given: the package says Saturday 10-10 is worked (调休) and Sunday 10-11 is not
    assert chinese_calendar.is_workday(date(2026, 10, 10))
    assert not chinese_calendar.is_workday(date(2026, 10, 11))
    # when / then: 10-8, 10-9, 10-10 (Saturday, worked), 10-12, 10-13
    assert period_end(date(2026, 10, 8), 5) == date(2026, 10, 13)
    assert workdays_between(date(2026, 10, 8), date(2026, 10, 11)) == 3


def test_the_sunday_before_mid_autumn_and_national_day_2026_is_a_working_day():
    # Sunday 9-20 is worked; the Mid-autumn holiday runs from Friday 9-25 to Sunday 9-27.
    assert is_workday(date(2026, 9, 20))
    assert period_end(date(2026, 9, 19), 1) == date(2026, 9, 20)
    assert period_end(date(2026, 9, 24), 2) == date(2026, 9, 28)


def test_a_seven_day_period_across_the_spring_festival_2026():
    # 2-12, 2-13, 2-14 (Saturday, worked), the holiday 2-15 … 2-23, then 2-24, 2-25, 2-26, 2-27
    assert is_workday(date(2026, 2, 14))
    assert period_end(date(2026, 2, 12), 7) == date(2026, 2, 27)
    assert workdays_between(date(2026, 2, 12), date(2026, 2, 27)) == 7


def test_a_period_starting_on_a_holiday_begins_on_the_next_working_day():
    assert period_end(date(2026, 10, 1), 1) == date(2026, 10, 8)


def test_a_year_the_package_does_not_know_counts_monday_to_friday():
    # given: the package refuses 2027
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))
    # when / then: New Year's Day 2027 (a Friday) counts, the weekend does not, and nothing raises
    assert is_workday(date(2027, 1, 1))
    assert not is_workday(date(2027, 1, 2))
    assert period_end(date(2027, 1, 1), 3) == date(2027, 1, 5)
    assert workdays_between(date(2027, 1, 1), date(2027, 1, 10)) == 6


def test_a_period_running_from_a_known_year_into_an_unknown_one():
    # 12-28 … 12-31 2026 from the package, then 2027-01-01 (Friday) and 01-04, 01-05 as weekdays
    assert period_end(date(2026, 12, 28), 7) == date(2027, 1, 5)


@pytest.mark.django_db
def test_a_tenant_holiday_in_an_unknown_year_is_skipped(gz):
    # given: 贵州 declares New Year's Day 2027 a holiday
    Holiday.objects.create(tenant=gz, day=date(2027, 1, 1), name="元旦")
    # when / then
    assert period_end(date(2027, 1, 1), 2, tenant=gz) == date(2027, 1, 5)
    assert period_end(date(2027, 1, 1), 2) == date(2027, 1, 4)  # without the tenant: a weekday
    assert workdays_between(date(2027, 1, 1), date(2027, 1, 8), tenant=gz) == 5


@pytest.mark.django_db
def test_a_tenant_workday_on_a_saturday_in_an_unknown_year_counts(gz):
    # given: Saturday 2027-01-09 is worked in 贵州
    Holiday.objects.create(tenant=gz, day=date(2027, 1, 9), is_workday=True, name="调休上班")
    # when / then: 1-8 (Friday), 1-9 (Saturday, worked)
    assert period_end(date(2027, 1, 8), 2, tenant=gz) == date(2027, 1, 9)
    assert period_end(date(2027, 1, 8), 2) == date(2027, 1, 11)
    assert workdays_between(date(2027, 1, 4), date(2027, 1, 10), tenant=gz) == 6


@pytest.mark.django_db
def test_tenant_rows_override_the_package_and_stay_in_their_tenant(gz, xz):
    # given: 贵州 takes 2026-10-08 off and works Sunday 10-11; 西藏 declares nothing
    Holiday.objects.create(tenant=gz, day=date(2026, 10, 8), name="地方假日")
    Holiday.objects.create(tenant=gz, day=date(2026, 10, 11), is_workday=True, name="调休上班")
    # when / then: 10-9, 10-10, 10-11, 10-12, 10-13 in 贵州
    assert period_end(date(2026, 10, 8), 5, tenant=gz) == date(2026, 10, 13)
    assert workdays_between(date(2026, 10, 8), date(2026, 10, 11), tenant=gz) == 3
    # 西藏 follows the package: 10-8, 10-9, 10-10, 10-12, 10-13
    assert period_end(date(2026, 10, 8), 5, tenant=xz) == date(2026, 10, 13)
    assert workdays_between(date(2026, 10, 8), date(2026, 10, 11), tenant=xz) == 3
    assert period_end(date(2026, 10, 8), 1, tenant=gz) == date(2026, 10, 9)
    assert period_end(date(2026, 10, 8), 1, tenant=xz) == date(2026, 10, 8)


def test_workdays_between_counts_both_ends_and_is_zero_for_an_empty_span():
    assert workdays_between(date(2026, 9, 28), date(2026, 9, 28)) == 1
    assert workdays_between(date(2026, 9, 28), date(2026, 10, 9)) == 5
    assert workdays_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert workdays_between(date(2026, 10, 9), date(2026, 10, 8)) == 0


def test_a_period_needs_at_least_one_working_day():
    with pytest.raises(ValueError):
        period_end(date(2026, 9, 28), 0)
