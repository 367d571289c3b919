"""The enterprise's application pages: list, start, the autosaved form, attachments, submit, withdraw, PDF."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certification import application_form, workflow
from certification.models import Application, ApplicationAttachment
from certification.transitions import Action
from enterprises.models import Document
from portal.models import AuditEvent
from tests.certification.conftest import make_program
from tests.certification.workflow_fixtures import FORM, act, add_document, make_round
from tests.enterprises.conftest import xz_enterprise, yunyan_enterprise  # noqa: F401 - personas
from tests.factories import UserFactory
from tests.portal.test_pdf import pdf_text

S = Application.State


def url(app, suffix=""):
    return f"/gz/applications/{app.pk}/{suffix}"


def form_post(data, revision):
    """The form as the browser posts it: "<section>.<field>" names, a ticked checkbox sends "on"."""
    post = {"revision": str(revision)}
    for section in application_form.SECTIONS:
        values = data.get(section.code) or {}
        for f in section.fields:
            value = values.get(f.name)
            if f.kind == "bool":
                if value is True:
                    post[f"{section.code}.{f.name}"] = "on"
            else:
                post[f"{section.code}.{f.name}"] = "" if value is None else str(value)
    return post


def save_json(client, app, data, revision):
    return client.post(
        url(app, "save/"), json.dumps({"data": data, "revision": revision}), content_type="application/json"
    )


def problem_summary(html: str) -> str:
    match = re.search(r'<div[^>]*id="problem-summary".*?</div>', html, re.S)
    assert match, "no problem summary on the page"
    return match.group(0)


def error_shown(html: str, field_id: str) -> str:
    """The message shown by the field ("" when its error box is hidden)."""
    match = re.search(rf'<p class="field-error" id="{field_id}-error"([^>]*)>(.*?)</p>', html, re.S)
    assert match, f"no error box for {field_id}"
    return "" if " hidden" in match.group(1) else match.group(2).strip()


@pytest.fixture
def yunyan_owner(yunyan_enterprise):  # noqa: F811 - the imported fixture
    return yunyan_enterprise.memberships.get().user


@pytest.fixture
def xz_owner(xz_enterprise):  # noqa: F811 - the imported fixture
    return xz_enterprise.memberships.get().user


# --- the list and starting ------------------------------------------------------------------


def test_the_list_shows_the_rounds_open_now_and_not_the_closed_ones(
    client, wf_program, wf_round, acme, owner
):
    program, version = wf_program
    now = timezone.now()
    closed = make_round(
        program, version, name="2025年第二批", opens=now - timedelta(days=60), closes=now - timedelta(days=30)
    )
    client.force_login(owner)
    html = client.get("/gz/applications/").content.decode()
    assert f'data-testid="open-round-{wf_round.pk}"' in html
    assert f'action="/gz/applications/start/{wf_round.pk}/"' in html
    assert f'data-testid="open-round-{closed.pk}"' not in html


def test_starting_creates_a_draft_and_a_second_start_goes_to_it(client, wf_round, acme, owner):
    client.force_login(owner)
    response = client.post(f"/gz/applications/start/{wf_round.pk}/")
    app = Application.objects.get(round=wf_round, enterprise=acme)
    assert app.state == S.DRAFT and app.created_by == owner
    assert response.status_code == 302 and response["Location"] == url(app)
    # the round now offers to continue instead of starting again
    html = client.get("/gz/applications/").content.decode()
    assert f'data-testid="start-{wf_round.pk}"' not in html and f'href="{url(app)}"' in html
    # when
    again = client.post(f"/gz/applications/start/{wf_round.pk}/")
    # then nothing new: the second start leads to the existing draft
    assert again.status_code == 302 and again["Location"] == url(app)
    assert Application.objects.filter(enterprise=acme).count() == 1


def test_starting_a_round_of_another_tenant_is_404(client, acme, owner, xz):
    program, version = make_program(xz, code="xz_round")
    xz_round = make_round(program, version)
    client.force_login(owner)
    assert client.post(f"/gz/applications/start/{xz_round.pk}/").status_code == 404
    assert not Application.objects.exists()


def test_starting_needs_post(client, wf_round, acme, owner):
    client.force_login(owner)
    assert client.get(f"/gz/applications/start/{wf_round.pk}/").status_code == 405
    assert not Application.objects.exists()


def test_the_list_costs_the_same_queries_for_one_application_or_four(client, wf_program, acme, owner, media):
    program, version = wf_program
    rounds = [make_round(program, version, name=f"2026年第{i}批") for i in range(4)]
    workflow.application_start(round_=rounds[0], enterprise=acme, by=owner)
    client.force_login(owner)
    client.get("/gz/applications/")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/gz/applications/").status_code == 200
    for round_ in rounds[1:]:
        workflow.application_start(round_=round_, enterprise=acme, by=owner)
    with CaptureQueriesContext(connection) as four:
        html = client.get("/gz/applications/").content.decode()
    assert html.count('data-testid="application-') == 4
    assert len(four) == len(one)


# --- the form and its autosave --------------------------------------------------------------


def test_the_form_has_every_field_by_its_id_with_the_declaration(client, draft, owner):
    client.force_login(owner)
    html = client.get(url(draft)).content.decode()
    for section in application_form.SECTIONS:
        for f in section.fields:
            fid = application_form.field_id(section.code, f.name)
            assert f'id="{fid}"' in html and f'name="{section.code}.{f.name}"' in html
    assert str(application_form.DECLARATION)[:40] in html
    for anchor in ("basic", "figures", "ip", "attachments", "slot-licence"):
        assert f'id="{anchor}"' in html
    assert 'href="/gz/enterprise/profile/"' in html and 'href="/gz/enterprise/figures/"' in html
    assert 'href="/gz/enterprise/documents/"' in html
    assert 'data-testid="screening-result"' in html
    assert "js/application-form.js" in html and "<script>" not in html


def test_autosave_saves_the_sections_and_bumps_the_revision(client, draft, owner):
    client.force_login(owner)
    response = save_json(client, draft, {"products": {"niche_market": "高速精密轴承"}}, draft.revision)
    assert response.status_code == 200
    body = response.json()
    draft.refresh_from_db()
    assert body["revision"] == draft.revision == 1
    assert body["errors"] == {} and body["saved_at"]
    assert draft.data["products"]["niche_market"] == "高速精密轴承"
    # the next save is based on the new revision
    response = save_json(client, draft, {"products": {"market_rank": "第三"}}, body["revision"])
    assert response.status_code == 200 and response.json()["revision"] == 2


def test_autosave_keeps_a_wrong_value_as_typed_and_names_the_field(client, draft, owner):
    client.force_login(owner)
    body = save_json(client, draft, {"products": {"market_share": "约三成"}}, draft.revision).json()
    assert set(body["errors"]) == {"products.market_share"}
    draft.refresh_from_db()
    assert draft.data["products"]["market_share"] == "约三成"


def test_a_stale_autosave_is_409_and_changes_nothing(client, draft, owner):
    client.force_login(owner)
    # given another window saved first
    assert save_json(client, draft, {"products": {"niche_market": "第一个窗口"}}, 0).status_code == 200
    draft.refresh_from_db()
    before = (draft.revision, draft.data)
    # when this window saves on the revision it loaded
    response = save_json(client, draft, {"products": {"niche_market": "第二个窗口"}}, 0)
    # then it is refused and the first window's text stays
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale"
    assert response.json()["error"]["extra"]["revision"] == before[0]
    draft.refresh_from_db()
    assert (draft.revision, draft.data) == before


def test_autosave_refuses_malformed_requests(client, draft, owner):
    client.force_login(owner)
    bad = client.post(url(draft, "save/"), "{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    assert save_json(client, draft, ["x"], 0).status_code == 400
    assert save_json(client, draft, {"products": {}}, "0").status_code == 400
    draft.refresh_from_db()
    assert draft.revision == 0


def test_the_save_button_keeps_invalid_values_and_shows_the_field_errors(client, draft, owner):
    client.force_login(owner)
    data = {**FORM, "products": {**FORM["products"], "market_share": "百分之十二"}}
    response = client.post(url(draft, "save/"), form_post(data, draft.revision))
    assert response.status_code == 302 and response["Location"] == url(draft)
    draft.refresh_from_db()
    assert draft.data["products"]["market_share"] == "百分之十二"
    assert draft.data["commitment"]["agreed"] is True
    html = client.get(url(draft)).content.decode()
    assert 'value="百分之十二"' in html
    assert error_shown(html, "f-products-market_share")
    assert 'aria-invalid="true"' in html
    assert error_shown(html, "f-products-niche_market") == ""


def test_a_stale_save_button_shows_what_was_typed_and_saves_it_the_second_time(client, draft, owner):
    client.force_login(owner)
    save_json(client, draft, {"products": {"niche_market": "另一个窗口"}}, 0)
    draft.refresh_from_db()
    before = (draft.revision, draft.data)
    data = {**FORM, "products": {**FORM["products"], "niche_market": "这个窗口"}}
    response = client.post(url(draft, "save/"), form_post(data, 0))
    assert response.status_code == 409
    html = response.content.decode()
    assert 'value="这个窗口"' in html
    assert f'name="revision" value="{before[0]}"' in html
    draft.refresh_from_db()
    assert (draft.revision, draft.data) == before
    # pressing save again on that page keeps this window's text
    response = client.post(url(draft, "save/"), form_post(data, before[0]))
    draft.refresh_from_db()
    assert response.status_code == 302 and draft.data["products"]["niche_market"] == "这个窗口"


def test_the_form_costs_the_same_queries_for_few_or_many_documents(client, ready, acme, owner):
    client.force_login(owner)
    client.get(url(ready))
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(ready)).status_code == 200
    for i in range(4):
        doc = add_document(acme, Document.Type.OTHER, name=f"其他{i}.pdf")
        workflow.application_attach(application=ready, slot="other", document=doc, by=owner)
        add_document(acme, Document.Type.QUALIFICATION, name=f"资质{i}.pdf")
    with CaptureQueriesContext(connection) as many:
        html = client.get(url(ready)).content.decode()
    assert html.count('name="detach"') == 3 + 4
    assert len(many) == len(few)


# --- attachments --------------------------------------------------------------------------


def test_attach_and_detach_a_document(client, draft, acme, owner):
    licence = add_document(acme, Document.Type.BUSINESS_LICENCE, name="执照.pdf")
    client.force_login(owner)
    html = client.get(url(draft)).content.decode()
    assert f'<option value="{licence.pk}">' in html
    response = client.post(url(draft, "attachments/"), {"slot": "licence", "document": licence.pk})
    assert response.status_code == 302 and response["Location"] == url(draft) + "#slot-licence"
    attachment = ApplicationAttachment.objects.get(application=draft)
    assert (attachment.slot, attachment.document) == ("licence", licence)
    client.post(url(draft, "attachments/"), {"detach": attachment.pk})
    assert not ApplicationAttachment.objects.exists()


def test_another_enterprises_document_cannot_be_attached(client, draft, owner, yunyan_owner):
    theirs = add_document(yunyan_owner.memberships.get().enterprise, Document.Type.BUSINESS_LICENCE)
    client.force_login(owner)
    client.post(url(draft, "attachments/"), {"slot": "licence", "document": theirs.pk})
    assert not ApplicationAttachment.objects.exists()


def test_a_document_of_the_wrong_type_is_refused(client, draft, acme, owner):
    tax = add_document(acme, Document.Type.TAX_PROOF)
    client.force_login(owner)
    client.post(url(draft, "attachments/"), {"slot": "licence", "document": tax.pk})
    assert not ApplicationAttachment.objects.exists()


# --- submitting -----------------------------------------------------------------------------


def test_submitting_an_incomplete_application_lists_every_problem_with_a_link(client, draft, owner):
    client.force_login(owner)
    problems = workflow.application_problems(draft)
    assert len(problems) > 5  # the profile, the figures, the form and the attachments
    response = client.post(url(draft, "submit/"))
    assert response.status_code == 400
    html = response.content.decode()
    summary = problem_summary(html)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary
    links = re.findall(r'<a href="([^"]+)"', summary)
    assert len(links) == len(problems)
    for problem in problems:
        target = problem.url or f"#{problem.field}"
        assert target in links
        if not problem.url:
            assert f'id="{problem.field}"' in html  # the anchor exists on the page
    assert "#f-products-niche_market" in links and "#f-commitment-signer_position" in links
    assert "#slot-licence" in links and "#slot-financials" in links
    assert "/gz/enterprise/figures/" in links and "/gz/enterprise/profile/" in links
    # the inline messages sit by their fields
    assert error_shown(html, "f-products-niche_market")
    assert error_shown(html, "f-commitment-agreed")
    # and nothing changed
    draft.refresh_from_db()
    assert draft.state == S.DRAFT and not draft.snapshots.exists()
    assert not draft.events.filter(action=Action.SUBMIT).exists()


def test_the_ready_application_is_submitted_from_the_page_with_what_was_typed(client, ready, owner):
    client.force_login(owner)
    data = {**FORM, "products": {**FORM["products"], "market_rank": "全国第五"}}
    response = client.post(url(ready, "submit/"), form_post(data, ready.revision))
    assert response.status_code == 302 and response["Location"] == url(ready)
    ready.refresh_from_db()
    assert ready.state == S.SUBMITTED and ready.current_region.code == "520102"
    snapshot = workflow.latest_snapshot(ready)
    assert snapshot.data["products"]["market_rank"] == "全国第五"
    html = client.get(url(ready)).content.decode()
    assert 'data-testid="status"' in html and "南明区" in html
    assert 'id="application-form"' not in html  # no longer editable
    assert f'href="{url(ready, "application.pdf")}"' in html
    assert 'data-testid="event-submit"' in html
    assert "全国第五" in html  # the snapshot is shown


def test_a_returned_application_shows_the_opinion_and_is_resubmitted(
    client, submitted, owner, nanming_official
):
    act(submitted, Action.RETURN, nanming_official, opinion="请补充近三年审计报告原件扫描件")
    client.force_login(owner)
    html = client.get(url(submitted)).content.decode()
    assert 'data-testid="returned-opinion"' in html
    assert "请补充近三年审计报告原件扫描件" in html
    assert 'data-testid="submit"' in html
    response = client.post(url(submitted, "submit/"))
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == S.SUBMITTED
    assert submitted.events.filter(action=Action.RESUBMIT).exists()
    assert submitted.snapshots.count() == 2


def test_the_timeline_names_levels_not_officials_and_hides_the_experts(
    client, submitted, owner, nanming_official, guiyang_official, province_reviewer, experts
):
    app = act(submitted, Action.RECOMMEND, nanming_official, opinion="县级同意推荐")
    app = act(app, Action.RECOMMEND, guiyang_official, opinion="市级同意推荐")
    workflow.expert_assign(application=app, expert=experts[1], by=province_reviewer)
    client.force_login(owner)
    html = client.get(url(app)).content.decode()
    assert "县级同意推荐" in html and "市级同意推荐" in html
    assert "南明区" in html and "贵阳市" in html
    assert "nanming" not in html and "guiyang" not in html
    assert "expert_b" not in html and 'data-testid="event-assign_expert"' not in html
    assert 'data-testid="withdraw-link"' not in html  # decided on: too late to withdraw


# --- withdrawing ----------------------------------------------------------------------------


def test_withdrawing_needs_a_confirmation(client, submitted, owner):
    client.force_login(owner)
    assert client.get(url(submitted, "withdraw/")).status_code == 200
    response = client.post(url(submitted, "withdraw/"), {"opinion": "重复申报"})
    assert response.status_code == 400
    submitted.refresh_from_db()
    assert submitted.state == S.SUBMITTED
    response = client.post(url(submitted, "withdraw/"), {"confirm": "yes", "opinion": "重复申报"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == S.WITHDRAWN and submitted.current_region is None
    assert submitted.events.get(action=Action.WITHDRAW).opinion == "重复申报"


def test_withdrawing_after_a_decision_is_refused(client, submitted, owner, nanming_official):
    app = act(submitted, Action.RECOMMEND, nanming_official, opinion="同意")
    client.force_login(owner)
    assert 'data-testid="withdraw-refused"' in client.get(url(app, "withdraw/")).content.decode()
    client.post(url(app, "withdraw/"), {"confirm": "yes"})
    app.refresh_from_db()
    assert app.state == S.IN_REVIEW and app.current_region.code == "520100"


# --- who may see it ---------------------------------------------------------------------------


def _every_page(client, app):
    return [
        client.get(url(app)),
        client.get(url(app, "withdraw/")),
        client.get(url(app, "application.pdf")),
        client.post(url(app, "save/"), form_post(FORM, app.revision)),
        client.post(url(app, "save/"), json.dumps({"data": FORM}), content_type="application/json"),
        client.post(url(app, "attachments/"), {"detach": 1}),
        client.post(url(app, "submit/")),
        client.post(url(app, "withdraw/"), {"confirm": "yes"}),
    ]


def test_another_enterprises_member_gets_404_and_changes_nothing(client, submitted, yunyan_owner):
    before = (submitted.state, submitted.revision, submitted.events.count())
    client.force_login(yunyan_owner)
    assert [r.status_code for r in _every_page(client, submitted)] == [404] * 8
    submitted.refresh_from_db()
    assert (submitted.state, submitted.revision, submitted.events.count()) == before


def test_a_user_of_another_tenant_gets_404(client, draft, xz_owner):
    client.force_login(xz_owner)
    assert client.get(f"/xz/applications/{draft.pk}/").status_code == 404
    assert client.post(f"/xz/applications/{draft.pk}/submit/").status_code == 404
    # in this tenant they act for no enterprise: sent away, nothing shown
    response = client.get(url(draft))
    assert response.status_code == 302 and "/gz/applications/" not in response["Location"]
    draft.refresh_from_db()
    assert draft.state == S.DRAFT


def test_officials_and_outsiders_are_sent_away_from_the_enterprise_pages(
    client, submitted, nanming_official, outsider
):
    for user in (nanming_official, outsider):
        client.force_login(user)
        for response in [client.get("/gz/applications/"), *_every_page(client, submitted)]:
            assert response.status_code == 302 and response["Location"] == reverse(
                "dashboard", kwargs={"tenant_code": "gz"}
            )
    submitted.refresh_from_db()
    assert submitted.state == S.SUBMITTED


def test_anonymous_visitors_are_sent_to_sign_in(client, draft):
    response = client.get(url(draft))
    assert response.status_code == 302 and response["Location"].startswith("/gz/login/")


# --- the PDF --------------------------------------------------------------------------------


def test_the_pdf_prints_the_submitted_version(client, submitted, acme, owner, colleague):
    # given the profile changed after submission
    acme.name = "改名后的公司"
    acme.save(update_fields=["name"])
    client.force_login(colleague)
    # when a member downloads the 申报书
    response = client.get(url(submitted, "application.pdf"))
    # then it is the snapshot's
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    uscc = acme.uscc
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''%E7%94%B3%E6%8A%A5%E4%B9%A6-{uscc}-{submitted.pk}.pdf" in disposition
    text = pdf_text(response.content)
    assert "贵州黔芯精密机械有限公司" in text and "改名后的公司" not in text
    assert uscc in text and "精密轴承" in text and "张三" in text
    assert "0" * 64 in text.replace("\n", "")  # the attachments' SHA-256
    assert AuditEvent.objects.filter(
        action="application.pdf_downloaded", object_id=str(submitted.pk), actor=colleague
    ).exists()


def test_there_is_no_pdf_before_submission(client, draft, owner):
    client.force_login(owner)
    assert client.get(url(draft, "application.pdf")).status_code == 404
    assert (
        'href="/gz/applications/' + str(draft.pk) + '/application.pdf"'
        not in client.get(url(draft)).content.decode()
    )


def test_a_member_without_an_enterprise_role_still_reaches_the_pages(client, draft, acme):
    # A plain member (not an admin) fills in the application too.
    from enterprises.models import Membership

    member = UserFactory(username="clerk")
    Membership.objects.create(enterprise=acme, user=member, role=Membership.Role.MEMBER)
    client.force_login(member)
    assert client.get(url(draft)).status_code == 200
    assert save_json(client, draft, {"products": {"niche_market": "办事员填写"}}, 0).status_code == 200
