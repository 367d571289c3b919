"""Money is Decimal yuan, two places, rounded half up (四舍五入); a float never gets in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from funding import services
from funding.account_numbers import mask_account_number
from funding.models import AwardLevel, Budget, LedgerEntry
from funding.money import MoneyIsNotAFloat, money, wan, yuan
from funding.services import AmountSpec
from tests.funding.conftest import make_policy

D = Decimal


@pytest.mark.parametrize(
    "given, expected",
    [
        (D("1.005"), D("1.01")),  # half up, where banker's rounding would give 1.00
        (D("1.015"), D("1.02")),
        (D("2.675"), D("2.68")),
        (D("-1.005"), D("-1.01")),
        (2000000, D("2000000.00")),
        (" 2,000,000.50 ", D("2000000.50")),
        ("0.004", D("0.00")),
    ],
)
def test_money_rounds_half_up_to_the_fen(given, expected):
    assert money(given) == expected
    assert money(given).as_tuple().exponent == -2


@pytest.mark.parametrize("bad", [0.1, 1e6, float("nan")])
def test_money_refuses_a_float(bad):
    with pytest.raises(MoneyIsNotAFloat):
        money(bad)


@pytest.mark.parametrize("bad", ["abc", "1e", "NaN", "Infinity"])
def test_money_refuses_text_that_is_not_an_amount(bad):
    with pytest.raises(ValidationError):
        money(bad)


def test_money_refuses_other_types():
    with pytest.raises(TypeError):
        money(True)
    with pytest.raises(TypeError):
        money([1])


def test_amounts_print_in_yuan_and_in_wan():
    assert yuan(D("1500000")) == "1,500,000.00"
    assert wan(D("2000000")) == "200"
    assert wan(D("125000")) == "12.5"


def test_a_float_is_refused_by_the_services_and_by_the_model_field(gz):
    # the services: a budget, an award amount
    policy = make_policy(gz, "520100", budget=None)
    year = timezone.localdate().year
    with pytest.raises(MoneyIsNotAFloat):
        services.budget_allocate(policy=policy, year=year, amount=1000000.0, by=None)
    with pytest.raises(MoneyIsNotAFloat):
        services.award_policy_save(policy=policy, amounts=[AmountSpec(AwardLevel.SRDI, 0.5)], by=None)
    # the field itself, on save and in a lookup: nothing was written
    budget = Budget(tenant=gz, policy=policy, year=year, amount=12.5)
    with pytest.raises(MoneyIsNotAFloat), transaction.atomic():
        budget.save()
    with pytest.raises(MoneyIsNotAFloat):
        Budget.objects.filter(amount=12.5).exists()
    assert not Budget.objects.filter(policy=policy).exists()
    assert not LedgerEntry.objects.exists()
    assert policy.amounts.count() == 4  # the schedule is as it was


def test_amounts_read_back_as_decimals_with_two_places(gz):
    policy = make_policy(gz, "520100", covers_from=date(2023, 1, 1), budget="1234567.891")
    budget = Budget.objects.get(policy=policy)
    assert isinstance(budget.amount, Decimal) and budget.amount == D("1234567.89")


@pytest.mark.parametrize(
    "number, masked",
    [
        ("6222021234561234", "6222 **** **** 1234"),
        ("6222 0212 3456 7890 123", "6222 **** **** **** 0123"),
        ("12345678", "**** 5678"),
        ("", ""),
    ],
)
def test_account_numbers_are_masked(number, masked):
    assert mask_account_number(number) == masked
