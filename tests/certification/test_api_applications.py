"""The API of rounds, applications and review (certification.api_applications).

The whole chain with tokens; refusals that answer with the workflow's reason and change nothing;
every endpoint answers 404 to whoever may not see the application.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from certification import workflow
from certification.models import Application, QuotaUse, Round
from certification.transitions import ALL_ACTIONS, Action
from enterprises.models import Document
from tests.certification.workflow_fixtures import FORM, act, add_document, add_figures, fill
from tests.conftest import region
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

S = Application.State
SCORES = {"specialisation": 20, "refinement": 21, "distinctiveness": 15, "innovation": 25}


class Api:
    """One persona's API client: a token, and a client that enforces CSRF as a browser session would."""

    def __init__(self, user, tenant_code: str = "gz"):
        self.client = Client(enforce_csrf_checks=True)
        self.base = f"/api/v1/{tenant_code}/"
        self.headers = {}
        if user is not None:
            token, _created = Token.objects.get_or_create(user=user)
            self.headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}

    def get(self, path, params=None):
        return self.client.get(self.base + path, params or {}, **self.headers)

    def post(self, path, data=None):
        return self.client.post(self.base + path, data or {}, content_type="application/json", **self.headers)

    def patch(self, path, data):
        return self.client.patch(self.base + path, data, content_type="application/json", **self.headers)

    def delete(self, path):
        return self.client.delete(self.base + path, **self.headers)


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def profile_complete(enterprise) -> None:
    """What the profile pages provide (not this API): the founding date and three years of figures."""
    enterprise.established_date = timezone.localdate().replace(year=2015)
    enterprise.save(update_fields=["established_date"])
    add_figures(enterprise)


def state_of(application: Application) -> tuple:
    """Everything a refused action must leave as it was."""
    application = Application.objects.get(pk=application.pk)
    return (
        application.state,
        application.level,
        application.current_region_id,
        application.revision,
        application.data,
        application.events.count(),
        application.snapshots.count(),
        application.attachments.count(),
        application.expert_assignments.count(),
        QuotaUse.objects.filter(application=application).count(),
    )


def applicant(tenant, serial: int, username: str):
    """Another enterprise of 南明区, ready to apply."""
    user = UserFactory(username=username)
    return make_enterprise(tenant, "520102", serial, name=f"南明第{serial}精密有限公司", admin=user), user


def submit_for(enterprise, user, round_) -> Application:
    application = workflow.application_start(round_=round_, enterprise=enterprise, by=user)
    return act(fill(application, user), Action.SUBMIT, user)


@pytest.fixture
def neighbour(gz):
    """云岩区's enterprise."""
    return make_enterprise(
        gz, "520103", 2, name="云岩企业有限公司", admin=UserFactory(username="yunyan_owner")
    )


@pytest.fixture
def xz_company(xz):
    return make_enterprise(xz, "540102", 3, name="西藏企业有限公司", admin=UserFactory(username="xz_owner"))


@pytest.fixture
def at_province(submitted, nanming_official, guiyang_official):
    """acme's application waiting at the province, where experts are assigned."""
    app = act(submitted, Action.RECOMMEND, nanming_official, opinion="同意")
    return act(app, Action.RECOMMEND, guiyang_official, opinion="同意")


# --- the whole chain ---------------------------------------------------------------------------


def test_the_whole_chain_through_the_api(
    wf_round,
    acme,
    owner,
    nanming_official,
    guiyang_official,
    province_reviewer,
    province_approver,
    experts,
    media,
):
    enterprise, county, prefecture = Api(owner), Api(nanming_official), Api(guiyang_official)

    # The enterprise sees the open round and starts a draft, prefilled from its profile.
    assert wf_round.pk in ids(enterprise.get("rounds/"))
    response = enterprise.post("applications/", {"round": wf_round.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    pk = body["id"]
    assert body["state"] == S.DRAFT and body["revision"] == 0 and body["snapshot"] is None
    assert body["data"]["commitment"]["signer_name"] == acme.legal_representative
    assert set(body["actions"]) == {Action.SUBMIT, Action.RESUBMIT, Action.WITHDRAW}
    assert body["actions"][Action.SUBMIT] is None

    # It fills the form, then attaches the documents each required slot asks for.
    profile_complete(acme)
    response = enterprise.patch(f"applications/{pk}/", {"data": FORM, "revision": 0})
    assert response.status_code == 200, response.content
    assert response.json()["revision"] == 1 and response.json()["field_errors"] == {}
    assert response.json()["data"]["products"]["niche_market"] == FORM["products"]["niche_market"]
    slots = [s for s in response.json()["attachment_slots"] if s["required"]]
    for slot in slots:
        document = add_document(acme, slot["doc_types"][0], name=f"{slot['code']}.pdf")
        response = enterprise.post(
            f"applications/{pk}/attachments/", {"slot": slot["code"], "document": document.pk}
        )
        assert response.status_code == 201, response.content
        assert response.json()["document"] == document.pk
    assert len(enterprise.get(f"applications/{pk}/").json()["attachments"]) == len(slots)

    # Submitted: it waits at 南明区, with a snapshot of what was sent.
    body = enterprise.post(f"applications/{pk}/submit/").json()
    assert body["state"] == S.SUBMITTED and body["waiting_at"]["code"] == "520102"
    assert body["snapshot"]["number"] == 1 and body["verdict"]
    assert pk in ids(county.get("applications/", {"waiting": "true"}))
    official_view = county.get(f"applications/{pk}/").json()
    assert official_view["data"] is None and official_view["snapshot"]["data"]["products"]["niche_market"]
    assert official_view["actions"][Action.RETURN] is None and official_view["actions"][Action.APPROVE]

    # The county returns it with a reason; the enterprise corrects and resubmits.
    body = county.post(f"applications/{pk}/return/", {"opinion": "请补充知识产权证明"}).json()
    assert body["state"] == S.RETURNED and body["waiting_at"] is None
    assert enterprise.get(f"applications/{pk}/").json()["actions"][Action.RESUBMIT] is None
    body = enterprise.post(f"applications/{pk}/resubmit/").json()
    assert body["state"] == S.SUBMITTED and body["snapshot"]["number"] == 2

    # County and prefecture recommend: it reaches the province.
    body = county.post(f"applications/{pk}/recommend/", {"opinion": "同意推荐"}).json()
    assert (body["state"], body["level"], body["waiting_at"]["code"]) == (S.IN_REVIEW, "prefecture", "520100")
    body = prefecture.post(f"applications/{pk}/recommend/", {"opinion": "同意推荐"}).json()
    assert (body["level"], body["waiting_at"]["code"]) == ("province", "520000")

    # Experts are assigned and score.
    reviewer = Api(province_reviewer)
    for expert in experts:
        response = reviewer.post(f"applications/{pk}/experts/", {"expert": expert.pk})
        assert response.status_code == 201, response.content
    summary = reviewer.get(f"applications/{pk}/experts/").json()
    assert len(summary["assignments"]) == 2 and (summary["count"], summary["needed"]) == (0, 2)
    assert {p["expert"]: p["assigned"] for p in summary["pool"]} == {e.pk: True for e in experts}
    for expert, extra in zip(experts, (0, 4), strict=True):
        mine = Api(expert).get("expert/assignments/").json()["results"]
        assert [a["application"] for a in mine] == [pk]
        assert {i["code"] for i in mine[0]["indicators"]} == set(SCORES)
        response = Api(expert).post(
            f"expert/assignments/{mine[0]['id']}/score/",
            {"scores": {**SCORES, "innovation": SCORES["innovation"] + extra}, "opinion": "专业化程度高"},
        )
        assert response.status_code == 200, response.content
        assert response.json()["total"] == f"{81 + extra}.00" and response.json()["submitted_at"]
    summary = reviewer.get(f"applications/{pk}/experts/").json()
    assert (summary["count"], summary["mean"], summary["spread"]) == (2, "83.00", "4.00")

    # The approver approves.
    body = Api(province_approver).post(f"applications/{pk}/approve/", {"opinion": "批准"}).json()
    assert body["state"] == S.APPROVED and body["expert_mean"] == "83.00" and body["waiting_at"] is None
    mine = enterprise.get(f"applications/{pk}/").json()
    assert mine["state"] == S.APPROVED and mine["expert_mean"] is None

    # The timeline: reviewers see the expert steps, the enterprise does not see who the experts were.
    full = [e["action"] for e in reviewer.get(f"applications/{pk}/history/").json()]
    assert full == [
        "start", "submit", "return", "resubmit", "recommend", "recommend",
        "assign_expert", "assign_expert", "expert_score", "expert_score", "approve",
    ]  # fmt: skip
    own = enterprise.get(f"applications/{pk}/history/").json()
    assert [e["action"] for e in own] == [a for a in full if not a.startswith(("assign_", "expert_"))]
    assert own[2]["opinion"] == "请补充知识产权证明" and own[2]["region"]["code"] == "520102"
    # The applicant reads decisions signed by the region, reviewers read the official's name.
    assert own[2]["actor"].startswith("南明区 · ") and str(nanming_official) not in own[2]["actor"]
    assert own[1]["actor"] == str(owner)
    assert reviewer.get(f"applications/{pk}/history/").json()[2]["actor"] == str(nanming_official)
    assert own[1]["snapshot"] == 1 and own[3]["snapshot"] == 2


# --- refusals ------------------------------------------------------------------------------------


def test_an_incomplete_submission_lists_every_problem_and_changes_nothing(draft, owner):
    expected = workflow.problems_by_field(workflow.application_problems(draft))
    before = state_of(draft)

    err = error(Api(owner).post(f"applications/{draft.pk}/submit/"), 400)

    assert err["code"] == "incomplete"
    assert err["fields"] == expected
    assert {"figures", "f-products-niche_market", "f-commitment-agreed", "slot-licence"} <= set(err["fields"])
    assert state_of(draft) == before


@pytest.mark.parametrize(
    "who, action",
    [
        ("guiyang_official", Action.RECOMMEND),  # it waits at the county, not at the prefecture
        ("nanming_official", Action.APPROVE),  # only the last level approves
        ("owner", Action.RETURN),  # an enterprise does not review itself
        ("owner", Action.SUBMIT),  # already submitted
        ("nanming_official", Action.WITHDRAW),  # only the applicant withdraws
    ],
)
def test_a_refused_action_answers_409_with_the_reason_and_changes_nothing(request, submitted, who, action):
    user = request.getfixturevalue(who)
    reason = workflow.application_can(submitted, action, by=user)
    assert reason
    before = state_of(submitted)

    err = error(Api(user).post(f"applications/{submitted.pk}/{action}/", {"opinion": "意见"}), 409)

    assert err["code"] == "not_allowed" and err["message"] == str(reason)
    assert state_of(submitted) == before


def test_return_without_a_reason_is_a_field_error(submitted, nanming_official):
    before = state_of(submitted)
    err = error(Api(nanming_official).post(f"applications/{submitted.pk}/return/", {"opinion": "  "}), 400)
    assert list(err["fields"]) == ["opinion"]
    assert state_of(submitted) == before


def test_approval_waits_for_the_expert_reviews(at_province, province_approver):
    before = state_of(at_province)
    err = error(Api(province_approver).post(f"applications/{at_province.pk}/approve/"), 409)
    assert err["message"] == str(workflow.application_can(at_province, Action.APPROVE, by=province_approver))
    assert state_of(at_province) == before


def test_an_unknown_action_is_not_found(submitted, nanming_official):
    before = state_of(submitted)
    assert Api(nanming_official).post(f"applications/{submitted.pk}/publish/").status_code == 404
    assert state_of(submitted) == before


@pytest.fixture
def quota_of_one(wf_round, gz_admin):
    response = Api(gz_admin).patch(f"rounds/{wf_round.pk}/", {"quotas": [{"region": "520102", "maximum": 1}]})
    assert response.status_code == 200, response.content
    return wf_round


@pytest.fixture
def two_submitted(quota_of_one, acme, owner, media, gz):
    first = submit_for(acme, owner, quota_of_one)
    other, other_owner = applicant(gz, 11, "second_owner")
    return first, submit_for(other, other_owner, quota_of_one)


def test_a_reached_quota_is_a_409_with_its_code(two_submitted, nanming_official, quota_of_one):
    first, second = two_submitted
    county = Api(nanming_official)
    assert county.post(f"applications/{first.pk}/recommend/").status_code == 200
    before = state_of(second)

    err = error(county.post(f"applications/{second.pk}/recommend/"), 409)

    assert err["code"] == "quota_reached"
    assert state_of(second) == before
    quota = county.get(f"rounds/{quota_of_one.pk}/").json()["quotas"]
    assert [(q["region"], q["used"], q["remaining"]) for q in quota] == [("520102", 1, 0)]


def test_bulk_recommendation_is_all_or_nothing(two_submitted, nanming_official, gz_admin, quota_of_one):
    first, second = two_submitted
    county = Api(nanming_official)
    before = [state_of(first), state_of(second)]

    err = error(
        county.post("applications/recommend/", {"ids": [first.pk, second.pk], "opinion": "同意"}), 409
    )

    assert err["code"] == "quota_reached"
    assert [state_of(first), state_of(second)] == before

    # given room for both, both go up together
    Api(gz_admin).patch(f"rounds/{quota_of_one.pk}/", {"quotas": [{"region": "520102", "maximum": 2}]})
    response = county.post("applications/recommend/", {"ids": [first.pk, second.pk], "opinion": "同意"})
    assert response.status_code == 200, response.content
    rows = response.json()["applications"]
    assert sorted(r["id"] for r in rows) == sorted([first.pk, second.pk])
    assert {(r["state"], r["level"]) for r in rows} == {(S.IN_REVIEW, "prefecture")}


def test_bulk_recommendation_does_not_reach_outside_the_callers_regions(
    submitted, yunyan_official, guiyang_official
):
    before = state_of(submitted)
    # 云岩区 does not see it: it is as absent as an id that does not exist.
    err = error(Api(yunyan_official).post("applications/recommend/", {"ids": [submitted.pk]}), 409)
    assert err["code"] == "not_found" and submitted.enterprise.name not in err["message"]
    # 贵阳市 sees it, but it waits at the county: the workflow's reason says so.
    err = error(Api(guiyang_official).post("applications/recommend/", {"ids": [submitted.pk]}), 409)
    assert err["code"] == "not_allowed" and "南明区" in err["message"]
    assert state_of(submitted) == before


# --- the draft -----------------------------------------------------------------------------------


def test_a_stale_draft_save_is_refused_and_keeps_the_newer_text(draft, owner, colleague):
    newer = {"products": {"niche_market": "同事写的"}}
    assert (
        Api(colleague).patch(f"applications/{draft.pk}/", {"data": newer, "revision": 0}).status_code == 200
    )
    before = state_of(draft)

    err = error(Api(owner).patch(f"applications/{draft.pk}/", {"data": FORM, "revision": 0}), 409)

    assert err["code"] == "stale" and err["extra"] == {"revision": 1}
    assert state_of(draft) == before
    assert Application.objects.get(pk=draft.pk).data["products"]["niche_market"] == "同事写的"


def test_a_draft_keeps_wrong_values_and_names_them(draft, owner):
    response = Api(owner).patch(
        f"applications/{draft.pk}/", {"data": {"products": {"market_share": "很多"}}, "revision": 0}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert list(body["field_errors"]) == ["products.market_share"]
    assert body["data"]["products"]["market_share"] == "很多" and body["revision"] == 1


def test_a_draft_save_needs_the_revision(draft, owner):
    before = state_of(draft)
    err = error(Api(owner).patch(f"applications/{draft.pk}/", {"data": FORM}), 400)
    assert list(err["fields"]) == ["revision"]
    assert state_of(draft) == before


def test_attachments_take_the_enterprises_own_documents_of_the_right_type(
    draft, owner, neighbour, nanming_official
):
    api = Api(owner)
    licence = add_document(draft.enterprise, Document.Type.BUSINESS_LICENCE)
    foreign = add_document(neighbour, Document.Type.BUSINESS_LICENCE)
    before = state_of(draft)

    assert list(error(api.post(f"applications/{draft.pk}/attachments/", {"slot": "nope", "document": licence.pk}), 400)["fields"]) == ["slot"]  # fmt: skip
    err = error(
        api.post(f"applications/{draft.pk}/attachments/", {"slot": "licence", "document": foreign.pk}), 400
    )
    assert list(err["fields"]) == ["document"]
    err = error(
        api.post(f"applications/{draft.pk}/attachments/", {"slot": "financials", "document": licence.pk}), 400
    )
    assert list(err["fields"]) == ["document"]
    assert state_of(draft) == before

    attachment = api.post(
        f"applications/{draft.pk}/attachments/", {"slot": "licence", "document": licence.pk}
    )
    assert attachment.status_code == 201
    assert api.delete(f"applications/{draft.pk}/attachments/{attachment.json()['id']}/").status_code == 204
    assert api.delete(f"applications/{draft.pk}/attachments/{attachment.json()['id']}/").status_code == 404
    assert Document.objects.filter(pk=licence.pk).exists()
    assert state_of(draft) == before


def test_a_submitted_application_can_no_longer_be_edited(submitted, owner, nanming_official):
    api = Api(owner)
    document = add_document(submitted.enterprise, Document.Type.OTHER, name="extra.pdf")
    attachment = submitted.attachments.first()
    before = state_of(submitted)

    assert error(api.patch(f"applications/{submitted.pk}/", {"data": FORM, "revision": 1}), 409)["code"] == (
        "not_editable"
    )
    err = error(
        api.post(f"applications/{submitted.pk}/attachments/", {"slot": "other", "document": document.pk}), 409
    )
    assert err["code"] == "not_editable"
    assert error(api.delete(f"applications/{submitted.pk}/attachments/{attachment.pk}/"), 409)["code"] == (
        "not_editable"
    )
    # An official who sees it may not edit the enterprise's form.
    err = error(
        Api(nanming_official).patch(f"applications/{submitted.pk}/", {"data": FORM, "revision": 1}), 403
    )
    assert err["message"]
    assert state_of(submitted) == before


def test_one_active_application_per_round(draft, owner, colleague, nanming_official):
    err = error(Api(colleague).post("applications/", {"round": draft.round_id}), 409)
    assert err["code"] == "duplicate"
    assert error(Api(nanming_official).post("applications/", {"round": draft.round_id}), 403)
    assert list(error(Api(owner).post("applications/", {"round": 999999}), 400)["fields"]) == ["round"]
    assert Application.objects.filter(round_id=draft.round_id).count() == 1


def test_a_closed_round_refuses_new_applications(wf_program, acme, owner, media):
    program, version = wf_program
    from tests.certification.workflow_fixtures import make_round

    now = timezone.now()
    closed = make_round(
        program, version, name="已截止", opens=now - timedelta(days=20), closes=now - timedelta(days=1)
    )
    err = error(Api(owner).post("applications/", {"round": closed.pk}), 409)
    assert err["code"] == "round_closed"
    assert not Application.objects.filter(round=closed).exists()


# --- lists -------------------------------------------------------------------------------------


def test_the_officials_list_filters_and_pages(submitted, nanming_official, guiyang_official):
    county, prefecture = Api(nanming_official), Api(guiyang_official)
    response = county.get("applications/")
    assert {"count", "next", "previous", "results"} <= set(response.json())
    assert ids(response) == [submitted.pk]
    assert ids(county.get("applications/", {"waiting": "true"})) == [submitted.pk]
    # The prefecture sees everything in its region, but nothing waits for it yet.
    assert ids(prefecture.get("applications/")) == [submitted.pk]
    assert ids(prefecture.get("applications/", {"waiting": "true"})) == []
    assert ids(county.get("applications/", {"state": S.RETURNED})) == []
    assert ids(county.get("applications/", {"search": "黔芯", "county": "520102"})) == [submitted.pk]
    assert ids(county.get("applications/", {"round": submitted.round_id, "ordering": "name"})) == [
        submitted.pk
    ]
    assert ids(county.get("applications/", {"search": "不存在"})) == []
    assert "score_min" in error(county.get("applications/", {"score_min": "many"}), 400)["fields"]
    assert "ordering" in error(county.get("applications/", {"ordering": "pk"}), 400)["fields"]


def test_a_page_of_the_list_costs_the_same_for_one_application_as_for_three(
    gz, wf_round, acme, owner, nanming_official, media
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(api):
        with CaptureQueriesContext(connection) as queries:
            assert api.get("applications/").status_code == 200
        return len(queries)

    submit_for(acme, owner, wf_round)
    # The first requests also fill the caches (the tenant, django-guardian's content types).
    cost(Api(owner)), cost(Api(nanming_official))
    one = cost(Api(nanming_official)), cost(Api(owner))
    for serial in (21, 22):
        submit_for(*applicant(gz, serial, f"owner{serial}"), wf_round)
    assert len(ids(Api(nanming_official).get("applications/"))) == 3
    assert (cost(Api(nanming_official)), cost(Api(owner))) == one


def test_drafts_are_the_enterprises_own_business(draft, owner, nanming_official):
    assert ids(Api(owner).get("applications/")) == [draft.pk]
    assert ids(Api(nanming_official).get("applications/")) == []
    assert error(Api(nanming_official).get(f"applications/{draft.pk}/"), 404)["code"] == "not_found"


# --- isolation -----------------------------------------------------------------------------------


@pytest.fixture
def isolated(at_province, province_reviewer, experts):
    """acme's application at the province with an expert assigned: every endpoint has something to find."""
    assignment = workflow.expert_assign(application=at_province, expert=experts[0], by=province_reviewer)
    return at_province, assignment


def outsiders(request) -> dict[str, tuple]:
    return {
        "another enterprise's member": (
            request.getfixturevalue("neighbour").memberships.get().user,
            "gz",
        ),
        "the neighbour county's official": (request.getfixturevalue("yunyan_official"), "gz"),
        "another prefecture's official": (request.getfixturevalue("zunyi_official"), "gz"),
        "another tenant's administrator": (request.getfixturevalue("xz_admin"), "gz"),
        "another tenant's enterprise": (
            request.getfixturevalue("xz_company").memberships.get().user,
            "gz",
        ),
        "another tenant's administrator at home": (request.getfixturevalue("xz_admin"), "xz"),
        "a user with no role": (request.getfixturevalue("outsider"), "gz"),
    }


def test_every_application_endpoint_answers_404_to_those_who_may_not_see_it(request, isolated, experts):
    application, assignment = isolated
    pk = application.pk
    attachment = application.attachments.first()
    before = state_of(application)
    calls = [
        ("get", f"applications/{pk}/", None),
        ("patch", f"applications/{pk}/", {"data": FORM, "revision": application.revision}),
        ("get", f"applications/{pk}/history/", None),
        *(("post", f"applications/{pk}/{action}/", {"opinion": "x"}) for action in ALL_ACTIONS),
        ("post", f"applications/{pk}/attachments/", {"slot": "other", "document": attachment.document_id}),
        ("delete", f"applications/{pk}/attachments/{attachment.pk}/", None),
        ("get", f"applications/{pk}/experts/", None),
        ("post", f"applications/{pk}/experts/", {"expert": experts[1].pk}),
        ("delete", f"applications/{pk}/experts/{assignment.pk}/", None),
        ("post", f"expert/assignments/{assignment.pk}/score/", {"scores": SCORES, "opinion": "x"}),
    ]
    for who, (user, tenant_code) in outsiders(request).items():
        api = Api(user, tenant_code)
        for method, path, data in calls:
            response = getattr(api, method)(path, data) if data is not None else getattr(api, method)(path)
            assert response.status_code == 404, (who, method, path, response.content)
            assert response.json()["error"]["code"] == "not_found"
        assert pk not in ids(api.get("applications/")), who
        assert pk not in ids(api.get("applications/", {"waiting": "false", "search": "黔芯"})), who
        assert assignment.pk not in ids(api.get("expert/assignments/")), who
        err = error(api.post("applications/recommend/", {"ids": [pk]}), 409)
        assert application.enterprise.name not in err["message"], who
    assert state_of(application) == before


def test_the_applicant_county_and_prefecture_see_it(
    isolated, owner, colleague, nanming_official, guiyang_official
):
    application, _assignment = isolated
    for user in (owner, colleague, nanming_official, guiyang_official):
        api = Api(user)
        assert api.get(f"applications/{application.pk}/").status_code == 200
        assert api.get(f"applications/{application.pk}/history/").status_code == 200
        assert application.pk in ids(api.get("applications/"))


def test_an_expert_sees_only_their_own_assignments(isolated, experts):
    application, assignment = isolated
    assigned, other = (Api(e) for e in experts)
    before = state_of(application)

    assert ids(assigned.get("expert/assignments/")) == [assignment.pk]
    assert ids(other.get("expert/assignments/")) == []
    assert (
        other.post(
            f"expert/assignments/{assignment.pk}/score/", {"scores": SCORES, "opinion": "x"}
        ).status_code
        == 404
    )
    assert other.get(f"applications/{application.pk}/").status_code == 404
    # The assigned expert reads the application as submitted, but not the other experts' work.
    view = assigned.get(f"applications/{application.pk}/").json()
    assert view["data"] is None and view["snapshot"]["number"] == 1
    assert assigned.get(f"applications/{application.pk}/experts/").status_code == 404
    assert state_of(application) == before


def test_an_expert_scores_once_with_every_indicator(isolated, experts):
    application, assignment = isolated
    api = Api(experts[0])
    before = state_of(application)
    err = error(
        api.post(f"expert/assignments/{assignment.pk}/score/", {"scores": {"refinement": 99}, "opinion": ""}),
        400,
    )
    assert {"scores.specialisation", "scores.refinement", "opinion"} <= set(err["fields"])
    assert state_of(application) == before
    assert (
        api.post(
            f"expert/assignments/{assignment.pk}/score/", {"scores": SCORES, "opinion": "好"}
        ).status_code
        == 200
    )
    err = error(
        api.post(f"expert/assignments/{assignment.pk}/score/", {"scores": SCORES, "opinion": "再评"}), 409
    )
    assert err["message"]


def test_experts_are_assigned_without_conflicts_and_unassigned_before_scoring(
    isolated, gz, acme, experts, province_reviewer, nanming_official
):
    from tests.certification.workflow_fixtures import make_expert

    application, assignment = isolated
    reviewer = Api(province_reviewer)
    local = make_expert(gz, "expert_local", home_county="520102")
    before = state_of(application)

    err = error(reviewer.post(f"applications/{application.pk}/experts/", {"expert": local.pk}), 409)
    assert err["code"] == "conflict"
    err = error(
        reviewer.post(f"applications/{application.pk}/experts/", {"expert": nanming_official.pk}), 400
    )
    assert list(err["fields"]) == ["expert"]
    # The county may see the application but assigns no experts at the province's level.
    err = error(
        Api(nanming_official).post(f"applications/{application.pk}/experts/", {"expert": experts[1].pk}), 409
    )
    assert err["code"] == "not_allowed"
    assert state_of(application) == before

    assert reviewer.delete(f"applications/{application.pk}/experts/{assignment.pk}/").status_code == 204
    assert not application.expert_assignments.exists()
    assert reviewer.delete(f"applications/{application.pk}/experts/{assignment.pk}/").status_code == 404


# --- authentication ------------------------------------------------------------------------------


def test_anonymous_callers_are_told_to_authenticate(submitted):
    anonymous = Api(None)
    for path in ("rounds/", "applications/", f"applications/{submitted.pk}/", "expert/assignments/"):
        assert error(anonymous.get(path), 401)["code"] == "not_authenticated"
    before = state_of(submitted)
    assert anonymous.post(f"applications/{submitted.pk}/withdraw/").status_code == 401
    bad = Client(enforce_csrf_checks=True)
    assert bad.get("/api/v1/gz/applications/", HTTP_AUTHORIZATION="Token nope").status_code == 401
    assert state_of(submitted) == before


def test_a_session_needs_the_csrf_token_to_change_anything(wf_round, owner, media):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get("/api/v1/gz/applications/").status_code == 200
    response = client.post(
        "/api/v1/gz/applications/", {"round": wf_round.pk}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not Application.objects.exists()


# --- rounds --------------------------------------------------------------------------------------


def round_body(program, version, **overrides):
    closes = timezone.now() + timedelta(days=20)
    return {
        "program": program.code,
        "version": version.pk,
        "name": "2026年第二批",
        "opens_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "closes_at": closes.isoformat(),
        "notes": "请如实填报",
        "stages": [
            {"level": level, "deadline": (closes + timedelta(days=10 * (i + 1))).isoformat()}
            for i, level in enumerate(("county", "prefecture", "province"))
        ],
        "quotas": [{"region": "520100", "maximum": 30, "minimum": 10, "source": "黔工信〔2026〕1号"}],
        **overrides,
    }


def test_rounds_are_opened_by_the_owner_and_administrators(
    wf_program, gz_admin, province_reviewer, nanming_official, owner
):
    program, version = wf_program
    for user in (nanming_official, owner):
        assert error(Api(user).post("rounds/", round_body(program, version)), 403)
    assert not Round.objects.exists()

    response = Api(province_reviewer).post("rounds/", round_body(program, version))
    assert response.status_code == 201, response.content
    body = response.json()
    assert [s["level"] for s in body["stages"]] == ["county", "prefecture", "province"]
    assert body["quotas"] == [
        {
            "region": "520100",
            "region_name": region(program.tenant, "520100").name,
            "maximum": 30,
            "minimum": 10,
            "used": 0,
            "remaining": 30,
            "shortfall": 10,
            "source": "黔工信〔2026〕1号",
        }
    ]
    assert body["is_open"] and body["can_manage"] and body["year"] == timezone.now().year


def test_a_round_with_wrong_settings_lists_every_problem(wf_program, gz_admin):
    program, version = wf_program
    body = round_body(
        program,
        version,
        closes_at=(timezone.now() - timedelta(days=2)).isoformat(),
        stages=[{"level": "county", "deadline": timezone.now().isoformat()}],
        quotas=[{"region": "999999"}],
    )
    err = error(Api(gz_admin).post("rounds/", body), 400)
    assert set(err["fields"]) == {"quotas"}  # unknown codes are caught before the workflow runs
    body["quotas"] = []
    err = error(Api(gz_admin).post("rounds/", body), 400)
    assert {"closes_at", "stages"} <= set(err["fields"])
    assert not Round.objects.exists()


def test_rounds_are_changed_only_by_who_manages_them(
    wf_round, gz_admin, nanming_official, xz_admin, owner, acme
):
    before = Round.objects.values().get(pk=wf_round.pk)
    assert error(Api(nanming_official).patch(f"rounds/{wf_round.pk}/", {"name": "改名"}), 403)
    assert error(Api(owner).patch(f"rounds/{wf_round.pk}/", {"name": "改名"}), 403)
    assert error(Api(xz_admin).patch(f"rounds/{wf_round.pk}/", {"name": "改名"}), 404)
    assert error(Api(xz_admin, "xz").patch(f"rounds/{wf_round.pk}/", {"name": "改名"}), 404)
    assert Round.objects.values().get(pk=wf_round.pk) == before

    response = Api(gz_admin).patch(f"rounds/{wf_round.pk}/", {"name": "2026年第一批（延期）"})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "2026年第一批（延期）"
    assert [s["level"] for s in response.json()["stages"]] == ["county", "prefecture", "province"]


def test_who_sees_which_rounds(wf_program, wf_round, owner, acme, nanming_official, xz_admin, media):
    program, version = wf_program
    from tests.certification.workflow_fixtures import make_round

    now = timezone.now()
    closed = make_round(
        program, version, name="已截止", opens=now - timedelta(days=20), closes=now - timedelta(days=1)
    )
    enterprise, county = Api(owner), Api(nanming_official)

    assert ids(enterprise.get("rounds/")) == [wf_round.pk]
    assert sorted(ids(county.get("rounds/"))) == sorted([wf_round.pk, closed.pk])
    assert ids(Api(xz_admin).get("rounds/")) == []
    assert error(Api(xz_admin).get(f"rounds/{wf_round.pk}/"), 404)
    assert error(enterprise.get(f"rounds/{closed.pk}/"), 404)
    # Enterprises read the chain but not the quotas; officials get the quotas.
    assert enterprise.get(f"rounds/{wf_round.pk}/").json()["quotas"] is None
    assert county.get(f"rounds/{wf_round.pk}/").json()["quotas"] == []


# --- the schema ----------------------------------------------------------------------------------


def test_the_schema_documents_every_endpoint_without_warnings(db):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    ours = [
        m
        for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if "api_applications" in m or "certification/api_urls" in m
    ]
    GENERATOR_STATS.reset()
    assert ours == []
    base = "/api/v1/{tenant_code}/"
    for path in (
        "rounds/",
        "rounds/{id}/",
        "applications/",
        "applications/recommend/",
        "applications/{id}/",
        "applications/{id}/history/",
        "applications/{id}/attachments/{attachment_id}/",
        "applications/{id}/experts/{assignment_id}/",
        *(f"applications/{{id}}/{action}/" for action in ALL_ACTIONS),
        "expert/assignments/{id}/score/",
    ):
        assert base + path in schema["paths"], path
