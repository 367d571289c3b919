import pytest
from django.core.management import CommandError, call_command

from portal.models import AuditEvent, Notification, Post, Region, Tenant, User
from tests.demo_snapshot import demo_portal


def _counts():
    return {m.__name__: m.objects.count() for m in (Tenant, Region, User, Post, AuditEvent, Notification)}


def test_seed_demo_creates_the_three_tenants_is_idempotent_and_prints_every_account(
    db, settings, django_capture_on_commit_callbacks, capsys
):
    # The first seeding of the run, or its rows restored (tests/demo_snapshot.py seeds with the same command).
    demo_portal()
    first = _counts()
    assert set(Tenant.objects.values_list("code", flat=True)) == {"gz", "xz", "xj"}
    assert Tenant.objects.get(code="gz").root_region.code == "520000"
    bortala = Region.objects.get(tenant__code="xj", code="652700")
    assert set(bortala.children.values_list("code", flat=True)) >= {"652701", "652702", "652722", "652723"}
    assert Region.objects.filter(tenant__code="gz", level="county").count() >= 80
    assert User.objects.filter(is_superuser=True).exists()
    # everyone has a welcome message in the inbox (the demo applications notify people too)
    welcome = Notification.objects.filter(subject__startswith="欢迎使用")
    assert welcome.count() == first["Post"]

    settings.DEBUG = True
    capsys.readouterr()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    assert _counts() == first
    out = capsys.readouterr().out
    for username in ("platform_admin", "gz_county", "xz_prefecture", "xj_admin"):
        assert username in out
    assert "Demo-srdi-2026" in out


def test_seed_demo_refuses_when_debug_is_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert Tenant.objects.count() == 0
