import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection

from enterprises import services
from enterprises.models import Enterprise, Invitation, Membership
from portal.models import AuditEvent
from tests.conftest import region, require_postgres
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory


def _fields(gz, **over):
    from enterprises.demo import demo_uscc
    from enterprises.models import Industry

    return {
        "uscc": demo_uscc("520102", 77),
        "name": "新注册企业有限公司",
        "county": region(gz, "520102"),
        "address": "一号路",
        "industry": Industry.objects.get(pk="C3484"),
        "legal_representative": "王五",
        "contact_person": "赵六",
        "contact_phone": "13912345678",
        "contact_email": "new@example.cn",
        **over,
    }


def test_registration_creates_account_enterprise_and_admin_and_sends_verification(
    gz, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user, enterprise = services.enterprise_register(
            tenant=gz, username="newco", password="Long-password-1", **_fields(gz)
        )
    assert Membership.objects.get(enterprise=enterprise).user == user
    assert Membership.objects.get(enterprise=enterprise).role == "admin"
    assert not enterprise.email_verified
    assert services.enterprise_can_submit(enterprise) is not None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.cn"]
    token = services.email_verification_token(enterprise)
    assert token in mail.outbox[0].body
    services.email_verify(tenant=gz, token=token)
    enterprise.refresh_from_db()
    assert enterprise.email_verified and services.enterprise_can_submit(enterprise) is None
    assert (
        AuditEvent.objects.filter(action="enterprise.registered", object_id=str(enterprise.pk)).count() == 1
    )


def test_a_uscc_already_registered_in_the_tenant_is_refused_without_details(gz, acme):
    # given acme, registered with this code
    with pytest.raises(ValidationError) as info:
        services.enterprise_register(
            tenant=gz, username="second", password="Long-password-1", **_fields(gz, uscc=acme.uscc)
        )
    message = info.value.message_dict["uscc"][0]
    assert "already registered" in message or "已" in message
    assert acme.name not in message and acme.contact_email not in message
    # then nothing was created
    assert not Enterprise.objects.filter(name="新注册企业有限公司").exists()
    assert not type(acme.memberships.first().user).objects.filter(username="second").exists()


def test_the_same_uscc_may_register_in_another_tenant(gz, xz, acme):
    from enterprises.models import Industry

    user, enterprise = services.enterprise_register(
        tenant=xz,
        username="tibet",
        password="Long-password-1",
        **_fields(gz, uscc=acme.uscc, county=region(xz, "540102"), industry=Industry.objects.get(pk="C3484")),
    )
    assert enterprise.tenant == xz


def test_a_county_of_another_tenant_is_refused(gz, xz):
    with pytest.raises(ValidationError) as info:
        services.enterprise_register(
            tenant=gz, username="x1", password="Long-password-1", **_fields(gz, county=region(xz, "540102"))
        )
    assert "county" in info.value.message_dict


def test_an_old_verification_link_fails_after_the_email_changed(gz, acme, owner):
    token = services.email_verification_token(acme)
    services.enterprise_update_profile(enterprise=acme, by=owner, data={"contact_email": "other@example.cn"})
    with pytest.raises(ValidationError):
        services.email_verify(tenant=gz, token=token)


def test_a_tampered_verification_link_fails(gz, acme):
    with pytest.raises(ValidationError):
        services.email_verify(tenant=gz, token=services.email_verification_token(acme) + "x")


def test_profile_changes_are_audited_with_the_diff(acme, owner):
    services.enterprise_update_profile(
        enterprise=acme, by=owner, data={"address": "二号路", "niche_years": 4}
    )
    event = AuditEvent.objects.get(action="enterprise.profile_changed")
    assert event.changes["address"] == ["创新大道1号", "二号路"]
    assert event.changes["niche_years"] == [None, "4"]
    assert event.actor == owner


def test_uscc_and_county_are_locked_once_an_application_was_submitted(acme, owner, gz, monkeypatch):
    # The certification app registers this lock when applications arrive; here a lock stands in for it.
    monkeypatch.setattr(services, "IDENTITY_LOCKS", [lambda e: "an application was submitted."])
    with pytest.raises(ValidationError) as info:
        services.enterprise_update_profile(enterprise=acme, by=owner, data={"county": region(gz, "520103")})
    assert "county" in info.value.message_dict
    acme.refresh_from_db()
    assert acme.county.code == "520102"
    # other fields still change
    services.enterprise_update_profile(enterprise=acme, by=owner, data={"address": "三号路"})


def test_invitation_flow(acme, owner, outsider, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.member_invite(
            enterprise=acme, by=owner, email="Outsider@Example.cn", role="member"
        )
    assert invitation.email == "outsider@example.cn"
    assert invitation.token in mail.outbox[0].body
    member = services.invitation_accept(token=invitation.token, user=outsider)
    assert member.role == "member"
    with pytest.raises(ValidationError):  # used once
        services.invitation_accept(token=invitation.token, user=UserFactory())


def test_an_expired_invitation_is_refused(acme, owner, outsider):
    from datetime import timedelta

    from django.utils import timezone

    invitation = services.member_invite(enterprise=acme, by=owner, email="x@example.cn", role="admin")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError):
        services.invitation_accept(token=invitation.token, user=outsider)
    assert not Membership.objects.filter(user=outsider).exists()


def test_the_last_admin_cannot_leave_or_be_demoted(acme, owner):
    admin = Membership.objects.get(enterprise=acme, user=owner)
    with pytest.raises(ValidationError):
        services.member_remove(membership=admin, by=owner)
    with pytest.raises(ValidationError):
        services.member_set_role(membership=admin, by=owner, role="member")
    assert Membership.objects.get(pk=admin.pk).role == "admin"


def test_an_admin_can_leave_once_another_admin_exists(acme, owner, colleague):
    other = Membership.objects.get(enterprise=acme, user=colleague)
    services.member_set_role(membership=other, by=owner, role="admin")
    services.member_remove(membership=Membership.objects.get(enterprise=acme, user=owner), by=owner)
    assert list(acme.memberships.values_list("user__username", flat=True)) == ["colleague"]


@pytest.mark.django_db(transaction=True)
def test_two_admins_leaving_at_once_leave_one_admin(gz):
    require_postgres()
    first, second = UserFactory(username="a1"), UserFactory(username="a2")
    enterprise = make_enterprise(gz, "520102", 9, admin=first)
    Membership.objects.create(enterprise=enterprise, user=second, role="admin")
    barrier = threading.Barrier(2)
    outcomes = []

    def leave(user):
        try:
            membership = Membership.objects.get(enterprise=enterprise, user=user)
            barrier.wait()
            services.member_remove(membership=membership, by=user)
            outcomes.append("left")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=leave, args=(u,)) for u in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["left", "refused"]
    assert Membership.objects.filter(enterprise=enterprise, role="admin").count() == 1
