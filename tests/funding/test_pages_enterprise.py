"""The enterprise's funding pages: its awards with their state and amounts (paid ones with the date, what
it must repay), and its bank account (masked, entered by one member and confirmed by another)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from certification import lifecycle
from certification.models import Revocation
from enterprises.models import Membership
from funding import services
from funding.account_numbers import mask_account_number
from funding.models import BankAccount, Entitlement
from tests.conftest import region
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory
from tests.funding.conftest import certify, with_account
from tests.funding.test_pages import assert_csp_clean, get, main, post

A = BankAccount.State
S = Entitlement.State
D = Decimal
NUMBER = "6222021234567890123"


@pytest.fixture
def paid(gz, city_policy, certifier, acme, owner, colleague, guiyang_funding, guiyang_funding2):
    (entitlement,) = certify(certifier, acme)
    services.entitlement_approve(entitlement=entitlement, by=guiyang_funding)
    with_account(acme, owner, colleague, number=NUMBER)
    batch = services.batch_prepare(
        tenant=gz, region=region(gz, "520100"), entitlements=[entitlement], by=guiyang_funding
    )
    batch = services.batch_approve(batch=batch, by=guiyang_funding2)
    services.batch_line_mark_paid(line=batch.lines.get(), bank_reference="ICBC-1", by=guiyang_funding)
    entitlement.refresh_from_db()
    return entitlement


@pytest.fixture
def neighbour(gz):
    """Another enterprise of 南明区, with its own member."""
    member = UserFactory(username="neighbour")
    return make_enterprise(gz, "520102", 55, name="贵阳邻家科技有限公司", admin=member), member


# --- awards ---------------------------------------------------------------------------------------------


def test_the_enterprise_sees_its_paid_award_in_yuan_with_the_date(client, paid, owner):
    response = get(client, owner, "funding_awards")
    assert_csp_clean(response)
    html = main(response)
    row = html.split(f'data-entitlement="{paid.pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-state="paid"' in html
    assert "500,000.00" in row and paid.policy.name in row and "贵阳市" in row
    assert (
        timezone.localtime(paid.paid_at).date().isoformat() in row.split('data-testid="award-paid-on"', 1)[1]
    )
    assert "500,000.00" in html.split('data-testid="total-paid"', 1)[1].split("</dd>", 1)[0]
    # its account, masked
    assert mask_account_number(NUMBER) in html and NUMBER not in response.content.decode()


def test_a_pending_top_up_and_a_covered_award_explain_themselves(
    client, gz, city_policy, certifier, acme, owner, guiyang_funding
):
    (provincial,) = certify(certifier, acme)
    services.entitlement_approve(entitlement=provincial, by=guiyang_funding)
    _external, (national,) = services.external_certification_record(
        enterprise=acme,
        level="little_giant_national",
        title="工业和信息化部第七批专精特新“小巨人”企业名单",
        certified_on=provincial.basis_date,
        by=guiyang_funding,
    )
    html = main(get(client, owner, "funding_awards"))
    row = html.split(f'data-entitlement="{national.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "1,500,000.00" in row and "2,000,000.00" in row  # the top-up, and the level's full award


def test_the_enterprise_sees_what_it_must_repay_after_a_revocation_for_false_information(
    client, paid, owner, province_approver
):
    lifecycle.certification_revoke(
        certification=paid.certification,
        by=province_approver,
        ground=Revocation.Ground.FALSE_INFORMATION,
        reason="经核查，申报材料中的研发费用数据不实。",
    )
    html = main(get(client, owner, "funding_awards"))
    assert 'data-testid="receivables"' in html
    assert "500,000.00" in html.split('data-testid="total-outstanding"', 1)[1].split("</dd>", 1)[0]


def test_an_enterprise_sees_only_its_own_awards(client, paid, neighbour):
    _enterprise, member = neighbour
    html = main(get(client, member, "funding_awards"))
    assert f'data-entitlement="{paid.pk}"' not in html and "500,000.00" not in html


def test_officials_and_outsiders_are_sent_away_from_the_enterprise_pages(
    client, paid, guiyang_funding, outsider
):
    for user in (guiyang_funding, outsider):
        for name in ("funding_awards", "funding_bank_account"):
            response = get(client, user, name, status=302)
            assert response["Location"].endswith("/gz/me/")


# --- the bank account -----------------------------------------------------------------------------------


def test_one_member_enters_the_account_and_another_confirms_it(client, acme, owner, colleague):
    data = {
        "account_name": acme.name,
        "bank_name": "中国工商银行贵阳南明支行",
        "account_number": "6222 0212 3456 7890 123",
    }
    post(client, owner, "funding_bank_account", data)
    account = BankAccount.objects.get(enterprise=acme)
    assert (account.state, account.account_number) == (A.PROPOSED, NUMBER)
    # the member who entered it sees it masked and cannot confirm it
    response = get(client, owner, "funding_bank_account")
    assert_csp_clean(response)
    html = main(response)
    assert mask_account_number(NUMBER) in html and NUMBER not in response.content.decode()
    assert 'data-testid="confirm-reason"' in html and 'data-testid="confirm-account"' not in html
    post(client, owner, "funding_bank_account_confirm", {}, pk=account.pk)
    account.refresh_from_db()
    assert account.state == A.PROPOSED
    # a second member confirms it
    assert 'data-testid="confirm-account"' in main(get(client, colleague, "funding_bank_account"))
    post(client, colleague, "funding_bank_account_confirm", {}, pk=account.pk)
    account.refresh_from_db()
    assert (account.state, account.confirmed_by) == (A.EFFECTIVE, colleague)
    html = main(get(client, owner, "funding_bank_account"))
    assert (
        mask_account_number(NUMBER) in html.split('data-testid="effective-number"', 1)[1].split("</dd>", 1)[0]
    )


def test_the_account_form_names_its_fields(client, acme, owner):
    data = {"account_name": "", "bank_name": "", "account_number": ""}
    html = main(post(client, owner, "funding_bank_account", data, status=400))
    for field in ("account_name", "bank_name", "account_number"):
        assert f'href="#id_{field}"' in html, field
    # the service's rules too: the holder is the enterprise itself; the number has 8 to 32 digits
    data = {"account_name": "别的公司", "bank_name": "中国工商银行", "account_number": "12ab"}
    html = main(post(client, owner, "funding_bank_account", data, status=400))
    assert 'href="#id_account_name"' in html and acme.name in html
    assert 'href="#id_account_number"' in html and 'href="#id_bank_name"' not in html
    assert not BankAccount.objects.exists()


def test_a_proposal_is_withdrawn_by_its_author_or_rejected_by_another_member(client, acme, owner, colleague):
    data = {"account_name": acme.name, "bank_name": "中国工商银行贵阳南明支行", "account_number": NUMBER}
    post(client, owner, "funding_bank_account", data)
    first = BankAccount.objects.get()
    post(client, owner, "funding_bank_account_discard", {}, pk=first.pk)
    first.refresh_from_db()
    assert first.state == A.WITHDRAWN
    post(client, owner, "funding_bank_account", data)
    second = BankAccount.objects.get(state=A.PROPOSED)
    post(client, colleague, "funding_bank_account_discard", {"reason": "不是本公司账户"}, pk=second.pk)
    second.refresh_from_db()
    assert second.state == A.REJECTED
    html = main(get(client, owner, "funding_bank_account"))
    assert f'data-account="{first.pk}"' in html and f'data-account="{second.pk}"' in html


def test_another_enterprise_s_account_is_not_found(client, acme, owner, colleague, neighbour):
    with_account(acme, owner, colleague, number=NUMBER)
    account = BankAccount.objects.get(enterprise=acme)
    enterprise, member = neighbour
    other = UserFactory()
    Membership.objects.create(enterprise=enterprise, user=other)
    for name in ("funding_bank_account_confirm", "funding_bank_account_discard"):
        post(client, member, name, {}, status=404, pk=account.pk)
    assert mask_account_number(NUMBER) not in main(get(client, member, "funding_bank_account"))
    account.refresh_from_db()
    assert account.state == A.EFFECTIVE
