"""The enterprise's bank account: entered by one member, confirmed by another, audited masked."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from funding import services
from funding.models import BankAccount
from funding.services import FundingRefused
from portal.models import AuditEvent, Notification

A = BankAccount.State
NUMBER = "6222 0212 3456 7890 123"
DIGITS = "6222021234567890123"


def propose(enterprise, by, **overrides):
    data = {
        "account_name": enterprise.name,
        "bank_name": "中国工商银行贵阳南明支行",
        "account_number": NUMBER,
    }
    data.update(overrides)
    return services.bank_account_propose(enterprise=enterprise, by=by, **data)


def test_an_account_takes_effect_when_a_second_member_confirms_it(
    acme, owner, colleague, django_capture_on_commit_callbacks
):
    # given: the owner enters the account; the colleague is told
    with django_capture_on_commit_callbacks(execute=True):
        account = propose(acme, owner)
    assert (account.state, account.account_number) == (A.PROPOSED, DIGITS)
    assert services.bank_account_effective(acme) is None
    assert Notification.objects.filter(recipient=colleague).count() == 1
    assert not Notification.objects.filter(recipient=owner).exists()
    # when: the owner tries to confirm it, then the colleague does
    with pytest.raises(FundingRefused) as info:
        services.bank_account_confirm(account=account, by=owner)
    assert info.value.code == "four_eyes"
    account = services.bank_account_confirm(account=account, by=colleague)
    # then
    assert account.state == A.EFFECTIVE and services.bank_account_effective(acme) == account


def test_a_change_supersedes_the_old_account_only_once_confirmed(acme, owner, colleague):
    old = services.bank_account_confirm(account=propose(acme, owner), by=colleague)
    new = propose(acme, colleague, account_number="6228480000000000001")
    assert services.bank_account_effective(acme) == old  # the change waits
    with pytest.raises(FundingRefused) as info:
        propose(acme, owner, account_number="6228480000000000002")
    assert info.value.code == "pending_change"
    services.bank_account_confirm(account=new, by=owner)
    old.refresh_from_db()
    assert (old.state, services.bank_account_effective(acme)) == (A.SUPERSEDED, new)


def test_the_account_must_be_held_by_the_enterprise_itself(acme, owner):
    with pytest.raises(ValidationError) as info:
        propose(acme, owner, account_name="张三", account_number="12ab")
    assert set(info.value.message_dict) == {"account_name", "account_number"}
    assert acme.name in info.value.message_dict["account_name"][0]
    assert not BankAccount.objects.exists()


def test_outsiders_cannot_enter_or_confirm(acme, owner, outsider):
    with pytest.raises(FundingRefused) as info:
        propose(acme, outsider)
    assert info.value.status_code == 404
    account = propose(acme, owner)
    with pytest.raises(FundingRefused):
        services.bank_account_confirm(account=account, by=outsider)
    account.refresh_from_db()
    assert account.state == A.PROPOSED


def test_a_proposal_is_withdrawn_by_its_author_or_rejected_by_another_member(acme, owner, colleague):
    first = services.bank_account_discard(account=propose(acme, owner), by=owner)
    second = services.bank_account_discard(account=propose(acme, owner), by=colleague, reason="不认识此账户")
    assert (first.state, second.state) == (A.WITHDRAWN, A.REJECTED)


def test_the_audit_log_and_the_messages_show_the_number_masked(
    acme, owner, colleague, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.bank_account_confirm(account=propose(acme, owner), by=colleague)
    events = AuditEvent.objects.filter(action__startswith="bank_account.")
    assert {e.action for e in events} == {"bank_account.proposed", "bank_account.confirmed"}
    assert all("6222 **** **** **** 0123" in e.summary for e in events)
    for text in [
        *(e.summary + str(e.changes) for e in events),
        *Notification.objects.values_list("subject", "body"),
    ]:
        assert DIGITS not in str(text)
