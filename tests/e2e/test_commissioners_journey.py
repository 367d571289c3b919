"""Issue 7 in a real browser, the service commissioners (服务专员): the county assigns a commissioner to a
certified enterprise; the commissioner logs a visit; the enterprise raises a request (诉求); the
commissioner replies; the enterprise reads the reply; the county sees its visit coverage."""

from __future__ import annotations

import pytest
from django.utils import timezone

from certification.models import CommissionerAssignment, ServiceRequest, Visit
from portal.models import AuditEvent, Post
from tests.certification.conftest import make_program
from tests.certification.test_directory import Certifier
from tests.conftest import make_tenant, official
from tests.e2e.conftest import screenshot
from tests.e2e.test_review_journey import sign_in
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(transactional_db):
    gz = make_tenant("gz", "贵州省", "520000")
    program, version = make_program(gz, code="journey_srdi")
    owner = UserFactory(username="qianxin")
    enterprise = make_enterprise(gz, "520102", 7, name="贵州黔芯精密机械有限公司", admin=owner)
    Certifier(gz, program, version).certify(enterprise)
    return {
        "enterprise": enterprise,
        "county": official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming"),
        "commissioner": official(
            gz,
            "520102",
            Post.Role.SERVICE_COMMISSIONER,
            username="nanming_commissioner",
            display_name="王立军",
            phone="13985001234",
        ),
        "owner": owner,
    }


def test_assign_visit_request_reply_in_the_browser(page, world):
    enterprise, commissioner = world["enterprise"], world["commissioner"]
    try:
        # the county reviewer assigns the commissioner
        sign_in(page, "nanming")
        page.goto("/gz/commissioners/")
        row = page.locator(f'[data-testid="assignments-table"] tr[data-enterprise="{enterprise.pk}"]')
        assert "贵州黔芯精密机械有限公司" in row.inner_text()
        with page.expect_navigation():
            page.locator(f'[data-testid="assign-{enterprise.pk}"]').click()
        page.locator("#id_commissioner").select_option(str(commissioner.pk))
        with page.expect_navigation():
            page.locator('[data-testid="assign-submit"]').click()
        assert "王立军" in page.locator('[data-testid="current-commissioner"]').inner_text()
        assert CommissionerAssignment.objects.get(enterprise=enterprise).commissioner == commissioner

        # the commissioner finds the enterprise on their list and logs a visit
        sign_in(page, "nanming_commissioner")
        page.goto("/gz/commissioner/")
        with page.expect_navigation():
            page.locator(
                f'[data-testid="caseload-table"] tr[data-enterprise="{enterprise.pk}"] a'
            ).first.click()
        page.locator("#id_visited_on").fill(timezone.localdate().isoformat())
        page.locator("#id_kind").select_option("onsite")
        page.locator("#id_people_met").fill("张伟（总经理）、李娜（财务负责人）")
        page.locator("#id_problems").fill("新产线技改资金缺口约800万元。")
        page.locator("#id_follow_up").fill("两周内安排银企对接。")
        with page.expect_navigation():
            page.locator('[data-testid="visit-submit"]').click()
        assert "张伟（总经理）" in page.locator('[data-testid="visits-table"]').inner_text()
        assert Visit.objects.filter(enterprise=enterprise, commissioner=commissioner).count() == 1
        screenshot(page, "commissioners-enterprise")

        # the enterprise sees its commissioner and raises a request
        sign_in(page, "qianxin")
        page.goto("/gz/service-requests/")
        card = page.locator('[data-testid="commissioner-card"]').inner_text()
        assert "王立军" in card and "13985001234" in card
        with page.expect_navigation():
            page.locator('[data-testid="new-request"]').click()
        page.locator("#id_category").select_option("financing")
        page.locator("#id_subject").fill("申请专精特新信用贷款推荐函")
        page.locator("#id_body").fill("银行要求提供主管部门推荐函，请问如何办理？")
        with page.expect_navigation():
            page.locator('[data-testid="request-submit"]').click()
        service_request = ServiceRequest.objects.get(enterprise=enterprise)
        assert service_request.state == ServiceRequest.State.OPEN

        # the commissioner replies from the enterprise's page
        sign_in(page, "nanming_commissioner")
        page.goto(f"/gz/commissioner/enterprises/{enterprise.pk}/#request-{service_request.pk}")
        page.locator(f"#id_r{service_request.pk}-body").fill("推荐函由县工信局出具，本周四上午可来现场办理。")
        with page.expect_navigation():
            page.locator(f'[data-testid="reply-submit-{service_request.pk}"]').click()
        service_request.refresh_from_db()
        assert service_request.state == ServiceRequest.State.ANSWERED

        # the enterprise reads the reply
        sign_in(page, "qianxin")
        page.goto("/gz/service-requests/")
        with page.expect_navigation():
            page.get_by_role("link", name="申请专精特新信用贷款推荐函").click()
        thread = page.locator('[data-testid="thread"]').inner_text()
        assert "本周四上午可来现场办理" in thread and "王立军" in thread
        screenshot(page, "commissioners-journey")

        # the county reviewer sees its county covered
        sign_in(page, "nanming")
        page.goto("/gz/commissioners/coverage/")
        row = page.locator('[data-testid="coverage-table"] tr[data-region="520102"]')
        assert row.locator('[data-col="visited"]').inner_text() == "1"
        assert row.locator('[data-col="visited_percent"]').inner_text() == "100"
        assert page.locator('[data-testid="coverage-chart"] rect[data-segment="visited"]').count() == 1
        screenshot(page, "commissioners-coverage")
    except Exception:
        screenshot(page, "commissioners-journey-failure")
        raise
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "commissioner.assigned",
        "visit.logged",
        "service_request.opened",
        "service_request.answered",
    } <= actions
