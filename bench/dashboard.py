"""Benchmark of the regional dashboard (issue 9): `make bench` (or `python -m bench.dashboard --n 20000`).

A synthetic tenant ("rbench", the 贵州 region tree) holds N enterprises (100,000 by default) spread evenly over
the 88 counties and ten industry classes, and 2 × N applications: one per enterprise to a round of last year
(published for three in five, with a certification: in force, expired or revoked, issued over the last three
years; rejected or withdrawn otherwise) and one to a round of this year, in every state of the funnel (drafts,
waiting at each level, returned, approved, in notice, certified, rejected, withdrawn). Three programmes (SRDI,
innovative, little giant) each have a round of each year; the county stage of this year's rounds is past its
deadline. Beside them: quotas for every prefecture, open monitoring warnings, commissioners (half of them
overdue), an award policy with its budget and entitlements in every state, annual figures for the revenue
metric, national little giants, designations and about twenty targets of every family of metrics.

The data set is written with bulk_create straight into the tables, bypassing the services (no history,
snapshots, audit rows, notifications or certificates): only the columns the dashboard reads. Going through the
services would take hours and measure the writes, not the page.

Measured in process, through django.test.Client (no HTTP, no concurrency), for the dashboard of the province,
of a prefecture (贵阳市) and of a county (南明区), each as its own official:

- cold: the tenant's dashboards forgotten before every request (reports.aggregates.bump) and no earlier numbers
  kept, so every number is counted again by the database, in the request (the first view of the day, or no
  Celery worker);
- after a change: a change before every request (bump) that the worker has not counted yet: the page shows the
  numbers counted before it, marked as being updated (stale while revalidate, reports.aggregates), and the
  worker counts; no worker consumes the refresh tasks here, so this is the page's own cost;
- warm: the numbers come from the cache (local memory here; Redis in production).

For each: p50 / p95 over --requests requests (default 20 cold, 5 × as many after a change and warm) after one
warm-up, the number
of SQL queries (CaptureQueriesContext), their total time, and the slowest query with its plan (EXPLAIN QUERY
PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL).

Target (the issue): the provincial dashboard renders in under 300 ms at the 95th percentile. The cold, the
after-a-change and the warm p95 are each reported against it; a miss is reported, not failed. Without REDIS_URL
tasks run in process and there is no worker to count after a change: "after a change" is then counted by the
page too. A page that does not answer 200 with its
tables fails the run.

Database: whatever DATABASE_URL says (the Makefile gives db/bench-dashboard.sqlite3 unless BENCH_DATABASE_URL is
set). The data set is reused when it is there for the same N and generator (--regenerate forces it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.directory import django_setup, fill_industry_sections, log, percentile  # noqa: E402 - the same harness

GENERATOR = 4  # bump when the generator changes: the stored data set is then generated again
TENANT_CODE = "rbench"
ROOT_REGION = "520000"  # 贵州省
PASSWORD = "Bench-dashboard-2026"
PROGRAMS = [
    ("srdi-rep-bench", "专精特新中小企业（报表基准）", "srdi"),
    ("cxx-rep-bench", "创新型中小企业（报表基准）", "innovative"),
    ("xjr-rep-bench", "专精特新“小巨人”（报表基准）", "little_giant"),
]
CRITERIA = "national_2026_srdi"
BATCH = 5000
TARGET_MS = 300.0
MARKER = 'data-testid="table-regions"'
INDUSTRY_CODES = ["C3484", "C3841", "C2612", "C2740", "C3511", "C2041", "I6513", "A0141", "C1492", "C2662"]
OFFICIALS = [
    ("province", "provincial_reviewer", "520000"),
    ("prefecture", "prefecture_reviewer", "520100"),
    ("county", "county_reviewer", "520102"),
]
# This year's applications: (state, level it waits at, weight).
CURRENT = [
    ("draft", "", 10),
    ("submitted", "county", 25),
    ("in_review", "prefecture", 15),
    ("in_review", "province", 10),
    ("returned", "", 5),
    ("approved", "", 5),
    ("in_notice", "", 5),
    ("published", "", 10),
    ("rejected", "", 10),
    ("withdrawn", "", 5),
]


@dataclass(frozen=True)
class Page:
    label: str
    official: str
    region: str


PAGES = [
    Page("province (贵州省)", "province", ""),
    Page("prefecture (贵阳市)", "prefecture", ""),
    Page("county (南明区)", "county", ""),
]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--n", type=int, default=100_000, help="enterprises (applications: twice as many), default 100000"
    )
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument(
        "--requests", type=int, default=20, help="cold requests per page (warm: 5 × as many), default 20"
    )
    p.add_argument(
        "--regenerate", action="store_true", help="delete and generate the data set even if it is there"
    )
    p.add_argument("--output", help="default bench-results/dashboard.json")
    args = p.parse_args(argv)
    args.output = args.output or str(ROOT / "bench-results" / "dashboard.json")
    return args


# --- the data set ------------------------------------------------------------------------------


def setup_tenant():
    """The tenant, its programmes with a round of last year and of this year each, and the officials."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from certification.criteria_catalog import load_spec
    from certification.models import CriteriaVersion, Program, Round, RoundStage
    from certification.services import criteria_version_freeze, criteria_version_save
    from portal.models import Post, Region, Tenant, User
    from portal.regions import regions_load

    tenant, _ = Tenant.objects.get_or_create(
        code=TENANT_CODE, defaults={"name": "报表基准（贵州）", "short_name": "rbench"}
    )
    regions_load(tenant=tenant, root_code=ROOT_REGION)
    tenant.refresh_from_db()
    now = timezone.now()
    rounds = {}
    for code, name, tier in PROGRAMS:
        program, _ = Program.objects.get_or_create(
            tenant=tenant,
            code=code,
            defaults={"name": name, "tier": tier, "owner_region": tenant.root_region},
        )
        version = program.versions.order_by("-effective_from").first()
        if version is None:
            spec = load_spec(CRITERIA)
            version = CriteriaVersion(
                program=program,
                label=spec["version"]["label"][:120],
                effective_from=spec["version"]["effective_from"],
                source=f"bench: {CRITERIA}",
                definition=spec["definition"],
            )
            criteria_version_save(version=version, by=None, actor_label="bench")
            version = criteria_version_freeze(version=version, by=None, actor_label="bench")
        for which, year, opens in (
            ("prev", now.year - 1, now - timedelta(days=400)),
            ("current", now.year, now - timedelta(days=60)),
        ):
            round_, created = Round.objects.get_or_create(
                tenant=tenant,
                program=program,
                name=f"报表基准 {which}",
                defaults={
                    "version": version,
                    "year": year,
                    "opens_at": opens,
                    "closes_at": opens + timedelta(days=30),
                },
            )
            if created:
                for level, days in (("county", -5), ("prefecture", 20), ("province", 40)):
                    # this year's county stage is past its deadline: the overdue reviews are theirs
                    RoundStage.objects.create(round=round_, level=level, deadline=now + timedelta(days=days))
            rounds[(tier, which)] = round_
    officials = {}
    password = None
    for suffix, role, code in OFFICIALS:
        username = f"{TENANT_CODE}_{suffix}"
        user = User.objects.filter(username=username).first()
        if user is None:
            password = password or make_password(PASSWORD)
            user = User.objects.create(username=username, display_name=username, password=password)
        Post.objects.get_or_create(
            tenant=tenant, user=user, region=Region.objects.get(tenant=tenant, code=code), role=role
        )
        officials[suffix] = user
    return tenant, rounds, officials


def _key_back(model, objs, lookup: str, values) -> None:
    """A backend without RETURNING (SQLite before 3.35): read the primary keys back."""
    if not objs or objs[0].pk is not None:
        return
    by_key = dict(model.objects.filter(**{f"{lookup}__in": values}).values_list(lookup, "pk"))
    for obj, value in zip(objs, values, strict=True):
        obj.pk = by_key[value]


def _delete(tenant) -> None:
    from django.apps import apps
    from django.db.models.signals import post_delete

    from certification.directory_cache import certification_saved
    from certification.models import (
        Application,
        Certification,
        CommissionerAssignment,
        MonitoringWarning,
        QuotaUse,
        RoundQuota,
        Visit,
    )
    from enterprises.models import AnnualFigures, Enterprise
    from funding.models import AwardPolicy, Budget, Entitlement, ExternalCertification
    from reports.aggregates import row_changed
    from reports.apps import WATCHED
    from reports.models import Designation, Target

    # The enterprises go too: no need for the per-certification listing signal (a query per row), nor for the
    # dashboards' per-row invalidation (which makes Django delete row by row): one bump at the end does.
    post_delete.disconnect(sender=Certification, dispatch_uid="listing-")
    for label in WATCHED:
        post_delete.disconnect(sender=apps.get_model(label), dispatch_uid=f"reports-{label}-deleted")
    try:
        Entitlement.objects.filter(tenant=tenant).delete()
        Budget.objects.filter(tenant=tenant).delete()
        AwardPolicy.objects.filter(tenant=tenant).delete()
        ExternalCertification.objects.filter(tenant=tenant).delete()
        Designation.objects.filter(tenant=tenant).delete()
        Target.objects.filter(tenant=tenant).delete()
        Visit.objects.filter(tenant=tenant).delete()
        CommissionerAssignment.objects.filter(tenant=tenant).delete()
        MonitoringWarning.objects.filter(tenant=tenant).delete()
        QuotaUse.objects.filter(quota__round__tenant=tenant).delete()
        RoundQuota.objects.filter(round__tenant=tenant).delete()
        Certification.objects.filter(tenant=tenant).delete()
        Application.objects.filter(tenant=tenant).delete()
        AnnualFigures.objects.filter(enterprise__tenant=tenant).delete()
        Enterprise.objects.filter(tenant=tenant).delete()
    finally:
        post_delete.connect(certification_saved, sender=Certification, dispatch_uid="listing-")
        for label in WATCHED:
            post_delete.connect(
                row_changed, sender=apps.get_model(label), dispatch_uid=f"reports-{label}-deleted"
            )


def ensure_data(args, tenant, rounds, officials) -> str:
    from django.db import transaction
    from django.utils import timezone

    from certification.directory_cache import tiers_value
    from certification.models import (
        Application,
        Certification,
        CommissionerAssignment,
        MonitoringWarning,
        Notice,
        Program,
        PublishedList,
        QuotaUse,
        RoundQuota,
        Visit,
    )
    from enterprises.demo import demo_uscc
    from enterprises.models import AnnualFigures, Enterprise, name_folded, name_pinyin
    from funding.models import AwardLevel, AwardPolicy, Budget, Entitlement, ExternalCertification
    from portal.models import Region, User
    from reports.models import Designation, Target

    marker = f"G{GENERATOR}-N{args.n}"
    enterprises_qs = Enterprise.objects.filter(tenant=tenant)
    if (
        not args.regenerate
        and enterprises_qs.count() == args.n
        and enterprises_qs.filter(address__endswith=marker).count() == args.n
        and Application.objects.filter(tenant=tenant).count() == 2 * args.n
    ):
        return "reused"
    started = time.perf_counter()
    _delete(tenant)
    log(f"  deleted the previous data set in {time.perf_counter() - started:.1f} s")

    rng = random.Random(args.seed)
    counties = list(
        Region.objects.filter(tenant=tenant, level=Region.Level.COUNTY)
        .select_related("parent")
        .order_by("code")
    )
    prefectures = list(Region.objects.filter(tenant=tenant, level=Region.Level.PREFECTURE).order_by("code"))
    root = tenant.root_region
    today = timezone.localdate()
    now = timezone.now()
    tiers = ["srdi", "srdi", "srdi", "innovative", "little_giant"]
    weights = [w for _s, _l, w in CURRENT]
    notice, _ = Notice.objects.get_or_create(
        tenant=tenant,
        round=rounds[("srdi", "prev")],
        title="报表基准公示",
        defaults={
            "body": "",
            "how_to_object": "",
            "working_days": 5,
            "starts_on": today - timedelta(days=300),
            "ends_on": today - timedelta(days=290),
            "status": Notice.Status.PUBLISHED,
        },
    )
    published = PublishedList.objects.filter(notice=notice).first() or PublishedList.objects.create(
        tenant=tenant, notice=notice, title="报表基准名单", rows=[]
    )
    quotas = {}
    for tier in ("srdi", "innovative", "little_giant"):
        for prefecture in prefectures:
            quotas[(tier, prefecture.pk)] = RoundQuota.objects.create(
                round=rounds[(tier, "current")],
                region=prefecture,
                maximum=args.n // 40 + 10,
                minimum=args.n // 80 + 5,
            )
    commissioner = officials["county"]
    policy = AwardPolicy.objects.create(
        tenant=tenant,
        code="rbench",
        name="报表基准奖励",
        region=root,
        source="bench",
        stacking_group="rbench",
        covers_from=date(2020, 1, 1),
    )
    budget = Budget.objects.create(
        tenant=tenant, policy=policy, year=today.year, amount=Decimal("1000000000.00")
    )
    committed = paid = Decimal("0.00")
    certified_srdi: list[int] = []
    with transaction.atomic():
        for start in range(0, args.n, BATCH):
            stop = min(start + BATCH, args.n)
            enterprises = []
            for i in range(start, stop):
                county = counties[i % len(counties)]
                name = f"报表基准企业{i:06d}有限公司"
                enterprises.append(
                    Enterprise(
                        tenant_id=tenant.pk,
                        uscc=demo_uscc(county.code, 1000 + i // len(counties)),
                        name=name,
                        name_pinyin=name_pinyin(name),
                        name_folded=name_folded(name),
                        county_id=county.pk,
                        address=f"{county.name}报表路{i % 997 + 1}号 {marker}",
                        industry_id=INDUSTRY_CODES[i % len(INDUSTRY_CODES)],
                        legal_representative="张基准",
                        contact_person="李基准",
                        contact_phone=f"139{i:08d}",
                        contact_email=f"rbench{i}@example.cn",
                        created_at=now,
                    )
                )
            Enterprise.objects.bulk_create(enterprises, batch_size=BATCH)
            _key_back(Enterprise, enterprises, "uscc", [e.uscc for e in enterprises])
            previous, current = [], []
            for i, e in zip(range(start, stop), enterprises, strict=True):
                county = counties[i % len(counties)]
                tier = tiers[i % len(tiers)]
                prev_state = "published" if i % 5 < 3 else ("rejected" if i % 5 == 3 else "withdrawn")
                previous.append(
                    Application(
                        tenant_id=tenant.pk,
                        round_id=rounds[(tier, "prev")].pk,
                        enterprise_id=e.pk,
                        county_id=county.pk,
                        state=prev_state,
                        created_at=now,
                    )
                )
                state, level, _w = rng.choices(CURRENT, weights=weights)[0]
                current_region = {
                    "county": county.pk,
                    "prefecture": county.parent_id,
                    "province": root.pk,
                }.get(level)
                current.append(
                    Application(
                        tenant_id=tenant.pk,
                        round_id=rounds[(tier, "current")].pk,
                        enterprise_id=e.pk,
                        county_id=county.pk,
                        state=state,
                        level=level,
                        current_region_id=current_region,
                        created_at=now,
                    )
                )
            Application.objects.bulk_create(previous + current, batch_size=BATCH)
            if previous[0].pk is None:  # a backend without RETURNING: read the keys back
                ids = {
                    (a_round, a_enterprise): pk
                    for a_round, a_enterprise, pk in Application.objects.filter(
                        tenant=tenant, enterprise_id__in=[e.pk for e in enterprises]
                    ).values_list("round_id", "enterprise_id", "pk")
                }
                for a in previous + current:
                    a.pk = ids[(a.round_id, a.enterprise_id)]
            uses = [
                QuotaUse(
                    quota_id=quotas[(tiers[i % len(tiers)], counties[i % len(counties)].parent_id)].pk,
                    application_id=a.pk,
                )
                for i, a in zip(range(start, stop), current, strict=True)
                if a.level == "province" or a.state in ("approved", "in_notice", "published")
            ]
            QuotaUse.objects.bulk_create(uses, batch_size=BATCH)
            certifications = []
            for i, a in zip(range(start, stop), previous, strict=True):
                if a.state != "published":
                    continue
                issued = today - timedelta(days=rng.randint(0, 3 * 365 - 1))
                if issued.month == 2 and issued.day == 29:
                    issued = issued.replace(day=28)
                status = "active" if i % 20 else ("expired" if i % 40 else "revoked")
                certifications.append(
                    Certification(
                        tenant_id=tenant.pk,
                        number=f"RB-{issued.year}-{i:07d}",
                        program_id=rounds[(tiers[i % len(tiers)], "prev")].program_id,
                        enterprise_id=a.enterprise_id,
                        county_id=a.county_id,  # the enterprise's (Certification.save is bypassed)
                        application_id=a.pk,
                        published_list_id=published.pk,
                        issued_on=issued,
                        valid_until=issued.replace(year=issued.year + 3),
                        status=status,
                        created_at=now,
                    )
                )
            Certification.objects.bulk_create(certifications, batch_size=BATCH)
            _key_back(Certification, certifications, "number", [c.number for c in certifications])
            active = [c for c in certifications if c.status == "active"]
            # bulk_create skips the signal that keeps the directory flag and the tiers in force: set them as
            # listing_refresh would (one certification per enterprise here).
            by_program: dict[int, list[int]] = {}
            for c in active:
                by_program.setdefault(c.program_id, []).append(c.enterprise_id)
            tier_of = dict(Program.objects.filter(pk__in=list(by_program)).values_list("pk", "tier"))
            for program_id, enterprise_ids in by_program.items():
                for start in range(0, len(enterprise_ids), BATCH):
                    Enterprise.objects.filter(pk__in=enterprise_ids[start : start + BATCH]).update(
                        directory_listed=True, tiers_in_force=tiers_value([tier_of[program_id]])
                    )
            MonitoringWarning.objects.bulk_create(
                [
                    MonitoringWarning(
                        tenant_id=tenant.pk,
                        certification_id=c.pk,
                        enterprise_id=c.enterprise_id,
                        fiscal_year=today.year - 1,
                        rule="rd_ratio",
                        label="研发费用占比",
                        resolved_at=now if k % 2 else None,
                    )
                    for k, c in enumerate(active[::15])
                ],
                batch_size=BATCH,
            )
            assignments = [
                CommissionerAssignment(
                    tenant_id=tenant.pk,
                    enterprise_id=c.enterprise_id,
                    commissioner_id=commissioner.pk,
                    started_on=today - timedelta(days=200),
                )
                for c in active[::10]
            ]
            CommissionerAssignment.objects.bulk_create(assignments, batch_size=BATCH)
            _key_back(
                CommissionerAssignment, assignments, "enterprise_id", [a.enterprise_id for a in assignments]
            )
            Visit.objects.bulk_create(
                [
                    Visit(
                        tenant_id=tenant.pk,
                        enterprise_id=a.enterprise_id,
                        assignment_id=a.pk,
                        commissioner_id=commissioner.pk,
                        visited_on=today - timedelta(days=rng.randint(1, 180)),
                        people_met="基准",
                    )
                    for a in assignments[::2]
                ],
                batch_size=BATCH,
            )
            entitlements = []
            for k, c in enumerate(active[::20]):
                state = ["pending", "approved", "paid"][k % 3]
                amount = Decimal("500000.00")
                entitlements.append(
                    Entitlement(
                        tenant_id=tenant.pk,
                        policy_id=policy.pk,
                        certification_id=c.pk,
                        enterprise_id=c.enterprise_id,
                        stacking_group="rbench",
                        level=AwardLevel.SRDI,
                        basis_date=c.issued_on,
                        level_amount=amount,
                        amount=amount,
                        state=state,
                        budget_id=budget.pk if state != "pending" else None,
                    )
                )
                if state != "pending":
                    committed += amount
                if state == "paid":
                    paid += amount
            Entitlement.objects.bulk_create(entitlements, batch_size=BATCH)
            figures = []
            for c in active:
                if c.program_id == rounds[("srdi", "prev")].program_id:
                    certified_srdi.append(c.enterprise_id)
                    revenue = Decimal(rng.randint(2000, 20000))
                    figures.append(
                        AnnualFigures(
                            enterprise_id=c.enterprise_id,
                            fiscal_year=today.year - 1,
                            revenue=revenue,
                            main_business_revenue=revenue,
                        )
                    )
            AnnualFigures.objects.bulk_create(figures, batch_size=BATCH)
            log(f"  {stop:,} / {args.n:,}")
        Budget.objects.filter(pk=budget.pk).update(
            amount=max(committed, Decimal("1.00")) * 2, committed=committed, paid=paid
        )
        ExternalCertification.objects.bulk_create(
            [
                ExternalCertification(
                    tenant_id=tenant.pk,
                    enterprise_id=e,
                    level=AwardLevel.LITTLE_GIANT_NATIONAL,
                    title="国家级专精特新“小巨人”企业名单（基准）",
                    certified_on=today - timedelta(days=100),
                )
                for e in certified_srdi[::200]
            ]
        )
        Designation.objects.bulk_create(
            [
                Designation(
                    tenant_id=tenant.pk,
                    enterprise_id=e,
                    kind=kind,
                    on=today - timedelta(days=50),
                    reference="基准",
                )
                for k, e in enumerate(certified_srdi[::300])
                for kind in (["demonstration", "listed", "recommended_national"][k % 3],)
            ]
        )
        admin = User.objects.get(username=f"{TENANT_CODE}_province")
        start_of_year, end_of_year = date(today.year, 1, 1), date(today.year, 12, 31)
        targets = [
            Target(
                tenant_id=tenant.pk,
                region_id=root.pk,
                metric=metric,
                value=value,
                deadline=deadline,
                counts_from=counts_from,
                source="基准",
                created_by=admin,
            )
            for metric, value, deadline, counts_from in (
                ("srdi", args.n // 2, date(today.year + 2, 12, 31), None),
                ("srdi", args.n // 10, end_of_year, start_of_year),
                ("srdi_all", args.n // 2, date(today.year + 2, 12, 31), None),
                ("innovative", args.n // 5, date(today.year + 2, 12, 31), None),
                ("srdi_revenue_1e8", args.n // 20, date(today.year + 2, 12, 31), None),
                ("national_little_giant", 500, date(today.year + 2, 12, 31), None),
                ("demonstration", 100, date(today.year + 1, 12, 31), None),
                ("listed", 50, date(today.year + 1, 12, 31), None),
            )
        ]
        for prefecture in prefectures:
            targets.append(
                Target(
                    tenant_id=tenant.pk,
                    region_id=prefecture.pk,
                    metric="recommended",
                    value=20,
                    counts_from=start_of_year,
                    deadline=end_of_year,
                    source="基准",
                    created_by=admin,
                )
            )
            targets.append(
                Target(
                    tenant_id=tenant.pk,
                    region_id=prefecture.pk,
                    metric="srdi",
                    value=args.n // 20,
                    deadline=date(today.year + 2, 12, 31),
                    source="基准",
                    created_by=admin,
                )
            )
        Target.objects.bulk_create(targets)
        fill_industry_sections(tenant.pk)
    log(f"  generated in {time.perf_counter() - started:.1f} s")
    return "generated"


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in (
                "certification_certification",
                "certification_application",
                "enterprises_enterprise",
                "portal_region",
                "certification_monitoringwarning",
                "certification_commissionerassignment",
                "certification_visit",
                "funding_entitlement",
                "enterprises_annualfigures",
            ):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


# --- measuring ----------------------------------------------------------------------------------


def explain(sql: str, params) -> list[str]:
    from django.db import DatabaseError, connection

    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    try:
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            return [" | ".join(str(c) for c in row) for row in cursor.fetchall()]
    except DatabaseError as exc:
        return [f"(no plan: {exc})"]


class _Slowest:
    """Records every query's time with its SQL and parameters, for the plan of the slowest (cold) one."""

    def __init__(self):
        self.queries: list[tuple[float, str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((time.perf_counter() - t, sql, params))


def _timed(client, target: str, requests: int, before=None) -> list[float]:
    times = []
    for _ in range(requests):
        if before is not None:
            before()
        t = time.perf_counter()
        client.get(target)
        times.append((time.perf_counter() - t) * 1000)
    return times


def measure(tenant, officials, requests: int) -> dict[str, dict]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from portal.models import Post
    from reports.aggregates import bump, dashboard_key

    url = reverse("region_dashboard", kwargs={"tenant_code": tenant.code})
    out = {}
    for page in PAGES:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(officials[page.official])
        target = f"{url}?region={page.region}" if page.region else url
        response = client.get(target)  # warm-up: templates, the session, the tenant
        ok = response.status_code == 200 and MARKER in response.content.decode()

        region = Post.objects.filter(user=officials[page.official]).values_list("region_id", flat=True).get()
        today = timezone.localdate()

        def forget(region=region, today=today):
            """Counted by the page: a change, and no earlier numbers to show meanwhile (the first view of the
            day, or no worker)."""
            bump(tenant.pk)
            cache.delete(dashboard_key(tenant.pk, region, today.year, today))

        def change():
            """A change the worker has not counted yet: the page shows the last numbers, marked (stale while
            revalidate). Nothing consumes the refresh tasks here: the page never counts for itself."""
            bump(tenant.pk)

        forget()
        slowest = _Slowest()
        # captured_queries reads the connection's log when asked, and the next request clears the log: count now.
        with CaptureQueriesContext(connection) as cold_ctx, connection.execute_wrapper(slowest):
            client.get(target)
        cold_queries = len(cold_ctx.captured_queries)
        with CaptureQueriesContext(connection) as warm_ctx:
            client.get(target)
        warm_queries = len(warm_ctx.captured_queries)
        cold = _timed(client, target, requests, before=forget)
        changed = _timed(client, target, requests * 5, before=change)
        warm = _timed(client, target, requests * 5)
        top = max(slowest.queries, default=(0.0, "", ()))
        out[page.label] = {
            "url": target,
            "status": response.status_code,
            "ok": ok,
            "cold": {
                "queries": cold_queries,
                "sql_ms": round(sum(q[0] for q in slowest.queries) * 1000, 1),
                "p50_ms": round(statistics.median(cold), 1),
                "p95_ms": round(percentile(cold, 95), 1),
                "max_ms": round(max(cold), 1),
                "slowest_ms": round(top[0] * 1000, 1),
                "slowest_sql": top[1][:4000],
                "plan": explain(top[1], top[2]) if top[1] else [],
            },
            "after_change": {
                "p50_ms": round(statistics.median(changed), 1),
                "p95_ms": round(percentile(changed, 95), 1),
                "max_ms": round(max(changed), 1),
            },
            "warm": {
                "queries": warm_queries,
                "p50_ms": round(statistics.median(warm), 1),
                "p95_ms": round(percentile(warm, 95), 1),
                "max_ms": round(max(warm), 1),
            },
        }
        r = out[page.label]
        log(
            f"  {page.label:22} cold: {r['cold']['queries']:2} queries, SQL {r['cold']['sql_ms']:7.1f} ms, "
            f"p50 {r['cold']['p50_ms']:7.1f} ms, p95 {r['cold']['p95_ms']:7.1f} ms (slowest SQL {r['cold']['slowest_ms']:.1f} ms) | "
            f"after a change: p50 {r['after_change']['p50_ms']:6.1f} ms, p95 {r['after_change']['p95_ms']:6.1f} ms | "
            f"warm: {r['warm']['queries']:2} queries, p50 {r['warm']['p50_ms']:6.1f} ms, p95 {r['warm']['p95_ms']:6.1f} ms"
            f"{'' if ok else '  NOT OK'}"
        )
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    django_setup()
    from django.core.management import call_command
    from django.db import connection

    log(
        f"SRDI dashboard benchmark: N={args.n:,} enterprises, {2 * args.n:,} applications, database {connection.vendor} ({connection.settings_dict['NAME']})"
    )
    call_command("migrate", verbosity=0, interactive=False)
    tenant, rounds, officials = setup_tenant()
    data = ensure_data(args, tenant, rounds, officials)
    log(f"  data set: {data}")
    analyze()
    results = measure(tenant, officials, args.requests)
    province = results[PAGES[0].label]
    cold_met = province["cold"]["p95_ms"] < TARGET_MS
    changed_met = province["after_change"]["p95_ms"] < TARGET_MS
    warm_met = province["warm"]["p95_ms"] < TARGET_MS
    log(
        f"provincial dashboard p95: counted by the page {province['cold']['p95_ms']:.1f} ms "
        f"({'met' if cold_met else 'MISSED'}), after a change {province['after_change']['p95_ms']:.1f} ms "
        f"({'met' if changed_met else 'MISSED'}), warm {province['warm']['p95_ms']:.1f} ms "
        f"({'met' if warm_met else 'MISSED'}): target < {TARGET_MS:.0f} ms"
    )
    summary = {
        "benchmark": "dashboard",
        "n_enterprises": args.n,
        "n_applications": 2 * args.n,
        "generator": GENERATOR,
        "data_set": data,
        "database": connection.vendor,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "cold_requests_per_page": args.requests,
        "warm_requests_per_page": args.requests * 5,
        "target_p95_ms": TARGET_MS,
        "province_cold_p95_ms": province["cold"]["p95_ms"],
        "province_after_change_p95_ms": province["after_change"]["p95_ms"],
        "province_warm_p95_ms": province["warm"]["p95_ms"],
        "target_met_cold": cold_met,
        "target_met_after_change": changed_met,
        "target_met_warm": warm_met,
        "pages": results,
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n")
    out.with_name(f"{out.stem}-{connection.vendor}{out.suffix}").write_text(out.read_text())
    log(f"results: {out}")
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
