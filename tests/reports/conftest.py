"""A small 贵州 of rows behind the dashboard (style.md 22), written straight into the tables.

Regions: 贵阳市 (520100) with 南明区 (520102) and 云岩区 (520103); 遵义市 (520300) with 红花岗区 (520302).
Officials: the province (a provincial reviewer), 贵阳 (a prefecture reviewer), 南明 (a county reviewer),
遵义 (another prefecture), a funding officer of the province, 西藏's administrator (another tenant).

Certifications come from certification's `Certifier` (rows, not the publication services: statuses and dates
the services would take years to reach); applications, stages, quotas, warnings, commissioners, awards,
external certifications and designations are rows too. The tests count the same things again in Python
from the rows they fetch, and compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from certification.models import (
    Application,
    Certification,
    CommissionerAssignment,
    MonitoringWarning,
    QuotaUse,
    ReviewEvent,
    RoundQuota,
    RoundStage,
    Visit,
)
from enterprises.models import AnnualFigures
from funding.models import AwardLevel, Budget, Entitlement, ExternalCertification
from portal.models import Post
from reports.models import Designation, Target
from tests.certification.conftest import make_program
from tests.certification.test_directory import Certifier
from tests.certification.workflow_fixtures import (  # noqa: F401 - personas used by the reports tests
    make_round,
    province_reviewer,
    zunyi_official,
)
from tests.conftest import official, region
from tests.enterprises.conftest import make_enterprise, owner  # noqa: F401 - a member, not an official
from tests.factories import UserFactory
from tests.funding.conftest import make_policy

S = Application.State


@pytest.fixture
def gz_funding(gz):
    return official(gz, "520000", Post.Role.FUNDING_OFFICER, username="gz_funding")


@pytest.fixture
def expert(gz):
    return official(gz, "520000", Post.Role.EXPERT, username="an_expert")


@dataclass
class World:
    tenant: object
    programs: dict
    enterprises: dict = field(default_factory=dict)
    certifications: dict = field(default_factory=dict)
    applications: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)
    round: object = None
    certifier: object = None


def _years_ago(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def build_world(gz) -> World:
    today = timezone.localdate()
    srdi, version = make_program(gz, code="rep_srdi")
    innovative, _v = make_program(gz, code="rep_cxx")
    innovative.tier, innovative.name = "innovative", "测试创新型"
    innovative.save()
    giant, _v = make_program(gz, code="rep_xjr")
    giant.tier, giant.name = "little_giant", "测试小巨人"
    giant.save()
    world = World(gz, {"srdi": srdi, "innovative": innovative, "giant": giant})
    certifier = Certifier(gz, srdi, version)
    world.certifier = certifier

    def enterprise(key, county, serial, industry):
        world.enterprises[key] = make_enterprise(
            gz, county, serial, name=f"报表测试{serial}有限公司", industry=industry
        )
        return world.enterprises[key]

    e1 = enterprise("e1", "520102", 901, "C3484")
    e2 = enterprise("e2", "520102", 902, "I6513")
    e3 = enterprise("e3", "520103", 903, "C3841")
    e4 = enterprise("e4", "520302", 904, "A0141")
    e5 = enterprise("e5", "520302", 905, "C3484")
    for key in ("e6", "e7", "e8", "e9", "e10"):
        enterprise(key, "520102" if key != "e9" else "520302", 900 + int(key[1:]) + 10, "C2612")
    c = world.certifications
    c["e1_srdi"] = certifier.certify(e1, issued_on=date(today.year - 1, 3, 1))
    c["e1_cxx"] = certifier.certify(e1, issued_on=date(today.year - 2, 5, 1), program=innovative)
    # e2's certification ends within 90 days.
    c["e2_srdi"] = certifier.certify(e2, issued_on=_years_ago(today, 3) + timedelta(days=30))
    c["e3_giant"] = certifier.certify(e3, issued_on=date(today.year, 2, 1), program=giant)
    c["e3_old"] = certifier.certify(
        e3, issued_on=date(today.year - 5, 1, 10), status=Certification.Status.EXPIRED
    )
    c["e4_revoked"] = certifier.certify(
        e4, issued_on=date(today.year, 1, 15), status=Certification.Status.REVOKED
    )
    c["e5_srdi"] = certifier.certify(e5, issued_on=date(today.year, 3, 1))
    for enterprise_, revenue in ((e5, "12000"), (e1, "9000")):
        AnnualFigures.objects.create(
            enterprise=enterprise_,
            fiscal_year=today.year - 1,
            revenue=Decimal(revenue),
            main_business_revenue=Decimal(revenue),
        )

    # The applications of a round of this year, in every place of the funnel.
    round_ = make_round(srdi, version, name="报表测试批次")
    world.round = round_
    places = {
        "e6": (S.DRAFT, "", None),
        "e7": (S.SUBMITTED, "county", "520102"),
        "e8": (S.IN_REVIEW, "prefecture", "520100"),
        "e9": (S.IN_REVIEW, "province", "520000"),
        "e10": (S.RETURNED, "", None),
        "e2": (S.REJECTED, "", None),
        "e5": (S.APPROVED, "", None),
    }
    for key, (state, level, current) in places.items():
        world.applications[key] = Application.objects.create(
            tenant=gz,
            round=round_,
            enterprise=world.enterprises[key],
            county=world.enterprises[key].county,
            state=state,
            level=level,
            current_region=region(gz, current) if current else None,
        )
    # The county's and the prefecture's deadlines have passed; the province's has not.
    past = timezone.now() - timedelta(days=2)
    RoundStage.objects.filter(round=round_, level__in=["county", "prefecture"]).update(deadline=past)
    # 贵阳 recommended e8's application this year: once at the county, once at the prefecture for e9's.
    ReviewEvent.objects.create(
        application=world.applications["e8"], action="recommend", level="county", region=region(gz, "520102")
    )
    ReviewEvent.objects.create(
        application=world.applications["e9"],
        action="recommend",
        level="prefecture",
        region=region(gz, "520100"),
    )
    quota = RoundQuota.objects.create(round=round_, region=region(gz, "520100"), maximum=5, minimum=3)
    QuotaUse.objects.create(quota=quota, application=world.applications["e8"])
    RoundQuota.objects.create(round=round_, region=region(gz, "520300"), maximum=2, minimum=None)

    MonitoringWarning.objects.create(
        tenant=gz,
        certification=c["e1_srdi"],
        enterprise=e1,
        fiscal_year=today.year - 1,
        rule="rd",
        label="研发",
    )
    MonitoringWarning.objects.create(
        tenant=gz,
        certification=c["e5_srdi"],
        enterprise=e5,
        fiscal_year=today.year - 1,
        rule="rd",
        label="研发",
        resolved_at=timezone.now(),
    )
    commissioner = UserFactory(username="rep_commissioner")
    for enterprise_, started, visited in ((e1, 200, None), (e2, 200, 10), (e5, 10, None)):
        assignment = CommissionerAssignment.objects.create(
            tenant=gz,
            enterprise=enterprise_,
            commissioner=commissioner,
            started_on=today - timedelta(days=started),
        )
        if visited is not None:
            Visit.objects.create(
                tenant=gz,
                enterprise=enterprise_,
                assignment=assignment,
                commissioner=commissioner,
                visited_on=today - timedelta(days=visited),
                people_met="张三",
            )

    policy = make_policy(gz, "520100")
    budget = Budget.objects.get(policy=policy, year=today.year)

    def entitlement(key, state, amount, with_budget=True):
        cert = c[key]
        return Entitlement.objects.create(
            tenant=gz,
            policy=policy,
            certification=cert,
            enterprise=cert.enterprise,
            stacking_group=policy.stacking_group,
            level=AwardLevel.SRDI,
            basis_date=cert.issued_on,
            level_amount=Decimal("500000.00"),
            amount=Decimal(amount),
            state=state,
            budget=budget if with_budget else None,
        )

    entitlement("e1_srdi", Entitlement.State.PAID, "500000.00")
    entitlement("e2_srdi", Entitlement.State.APPROVED, "300000.00")
    entitlement("e5_srdi", Entitlement.State.PENDING, "500000.00", with_budget=False)
    Budget.objects.filter(pk=budget.pk).update(committed=Decimal("800000.00"), paid=Decimal("500000.00"))

    ExternalCertification.objects.create(
        tenant=gz,
        enterprise=e3,
        level=AwardLevel.LITTLE_GIANT_NATIONAL,
        title="第七批国家级专精特新“小巨人”企业名单",
        certified_on=date(today.year - 1, 7, 1),
    )
    Designation.objects.create(
        tenant=gz, enterprise=e1, kind="demonstration", on=date(today.year - 1, 5, 1), reference="x"
    )

    t = world.targets
    deadline = date(today.year + 1, 12, 31)

    def target(key, code, metric, value, *, counts_from=None, deadline=deadline):
        t[key] = Target.objects.create(
            tenant=gz,
            region=region(gz, code),
            metric=metric,
            value=value,
            counts_from=counts_from,
            deadline=deadline,
            source="测试",
        )

    target("province_srdi", "520000", "srdi", 10)
    target("guiyang_all", "520100", "srdi_all", 4)
    target("nanming_cxx", "520102", "innovative", 2, deadline=date(today.year, 12, 31))
    target("zunyi_revenue", "520300", "srdi_revenue_1e8", 2)
    target("province_national", "520000", "national_little_giant", 3)
    target("province_demo", "520000", "demonstration", 2)
    target("guiyang_recommended", "520100", "recommended", 20, counts_from=date(today.year, 1, 1))
    target(
        "province_new",
        "520000",
        "srdi",
        5,
        counts_from=date(today.year, 1, 1),
        deadline=date(today.year, 12, 31),
    )
    return world


@pytest.fixture
def world(gz):
    return build_world(gz)


@pytest.fixture
def xz_world(xz):
    """Another tenant with a certification of its own: its rows never show up in 贵州's numbers."""
    program, version = make_program(xz, code="xz_rep")
    certifier = Certifier(xz, program, version)
    e = make_enterprise(xz, "540102", 990, name="西藏报表测试有限公司")
    return certifier.certify(e, issued_on=timezone.localdate() - timedelta(days=10))


# --- reading the page back ------------------------------------------------------------------------


class _Page(HTMLParser):
    """Tables (by data-testid) as {row data-key: {data-col: text}}, and charts as {bar data-key: value}."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, dict[str, dict[str, str]]] = {}
        self.charts: dict[str, dict[str, str]] = {}
        self._table = self._row = self._col = None
        self._chart = self._bar = None
        self._in_value = False
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("data-testid", "").startswith("table-"):
            self._table = a["data-testid"][6:]
            self.tables[self._table] = {}
        elif tag == "tr" and self._table and "data-key" in a:
            self._row = a["data-key"]
            self.tables[self._table][self._row] = {}
        elif tag == "td" and self._row is not None and "data-col" in a:
            self._col, self._text = a["data-col"], []
        elif tag == "figure" and a.get("data-testid", "").startswith("chart-"):
            self._chart = a["data-testid"][6:]
            self.charts[self._chart] = {}
        elif tag == "g" and self._chart and "data-key" in a:
            self._bar = a["data-key"]
        elif tag == "text" and self._bar is not None and a.get("class") == "bar-value":
            self._in_value, self._text = True, []

    def handle_endtag(self, tag):
        if tag == "td" and self._col is not None:
            self.tables[self._table][self._row][self._col] = "".join(self._text).strip()
            self._col = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "text" and self._in_value:
            self.charts[self._chart][self._bar] = "".join(self._text).strip()
            self._in_value = False
        elif tag == "g":
            self._bar = None
        elif tag == "figure":
            self._chart = None

    def handle_data(self, data):
        if self._col is not None or self._in_value:
            self._text.append(data)


def read_page(response) -> _Page:
    parser = _Page()
    parser.feed(response.content.decode())
    return parser


def number(text: str) -> int:
    return int(text.replace(",", ""))
