"""Benchmark of the public directory (名录): `make bench` (or `python -m bench.directory --n 20000`).

A synthetic tenant ("dbench", the 贵州 region tree) holds N enterprises (100,000 by default) spread evenly
over the 88 counties and ten industry classes, each with one certification in force of one of two
province-owned programmes, issued over the last three years. Names are random Chinese words, so that the
pinyin order is not the insertion order.

The data set is written with bulk_create straight into the tables, bypassing certification.publication:
there is no notice, objection, snapshot, audit row or certificate behind these certifications, only one
published list with no rows and, per certification, the application it must point to (one per
enterprise). Enterprise.save() is not called either, so the generator fills name_pinyin and name_folded itself, with
the same functions, and sets directory_listed (which the signal on Certification.save() keeps). Going through
the services would take hours and measure the writes, not the page.

Measured in process, through django.test.Client (no HTTP, no concurrency), for each directory page (page
1, a region filter, a name search, a deep page, a programme and year filter): the latency p50 / p95 over
--requests requests (default 50) after one warm-up, the number of SQL queries (CaptureQueriesContext),
and the slowest query with its plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL).

Target (the issue): the directory search answers in under 100 ms with 100,000 certified enterprises. The
script prints whether p95 meets it and fails only when a page does not answer 200 with its table.

Database: whatever DATABASE_URL says (the Makefile gives db/bench-directory.sqlite3 unless
BENCH_DATABASE_URL is set). The data set is reused when it is there for the same N and generator.
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
import urllib.parse
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GENERATOR = 4  # bump when the generator changes: the stored data set is then generated again
TENANT_CODE = "dbench"
ROOT_REGION = "520000"  # 贵州省
PROGRAMS = [
    ("srdi-dir-bench", "专精特新中小企业（名录基准）", "srdi"),
    ("cxx-dir-bench", "创新型中小企业（名录基准）", "innovative"),
]
CRITERIA = "national_2026_srdi"
BATCH = 5000
TARGET_MS = 100.0
MARKER = 'data-testid="directory-table"'
INDUSTRY_CODES = ["C3484", "C3841", "C2612", "C2740", "C3511", "C2041", "I6513", "A0141", "C1492", "C2662"]
WORDS = list(
    "黔贵阳遵义安顺毕节铜仁六盘水凯里都匀兴中华科技精密机械电子材料化工医药"
    "食品酒茶云数据智能装备新能源环保建筑农业生物光电信息软件通达恒瑞宏远鑫泰"
    "阿爱博创德飞高海佳康力美诺鹏强荣盛天万祥亚英正卓"
)


@dataclass(frozen=True)
class Page:
    label: str
    query: dict


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=100_000, help="certified enterprises, default 100000")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--requests", type=int, default=50, help="requests per page, default 50")
    p.add_argument(
        "--regenerate", action="store_true", help="delete and generate the data set even if it is there"
    )
    p.add_argument("--output", help="default bench-results/directory.json")
    args = p.parse_args(argv)
    args.output = args.output or str(ROOT / "bench-results" / "directory.json")
    return args


def log(message: str) -> None:
    print(message, flush=True)


def django_setup() -> None:
    import warnings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "true")
    warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise without collected files
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no SQL logging; CaptureQueriesContext forces its own


# --- the data set ------------------------------------------------------------------------------


def setup_tenant():
    """The tenant, its two programmes, a round each, a notice and an empty published list (idempotent)."""
    from django.utils import timezone

    from certification.criteria_catalog import load_spec
    from certification.models import CriteriaVersion, Notice, Program, PublishedList, Round
    from certification.services import criteria_version_freeze, criteria_version_save
    from portal.models import Tenant
    from portal.regions import regions_load

    tenant, _ = Tenant.objects.get_or_create(
        code=TENANT_CODE, defaults={"name": "名录基准（贵州）", "short_name": "dbench"}
    )
    regions_load(tenant=tenant, root_code=ROOT_REGION)
    tenant.refresh_from_db()
    rounds = []
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
        now = timezone.now()
        round_, _ = Round.objects.get_or_create(
            tenant=tenant,
            program=program,
            name="名录基准",
            defaults={
                "version": version,
                "year": now.year,
                "opens_at": now - timedelta(days=400),
                "closes_at": now - timedelta(days=300),
            },
        )
        rounds.append(round_)
    notice, _ = Notice.objects.get_or_create(
        tenant=tenant,
        round=rounds[0],
        title="名录基准公示",
        defaults={
            "body": "",
            "how_to_object": "",
            "working_days": 5,
            "starts_on": date(2025, 1, 6),
            "ends_on": date(2025, 1, 10),
            "status": Notice.Status.PUBLISHED,
        },
    )
    published = PublishedList.objects.filter(notice=notice).first() or PublishedList.objects.create(
        tenant=tenant, notice=notice, title="名录基准名单", rows=[]
    )
    return tenant, rounds, published


def ensure_data(args, tenant, rounds, published) -> str:
    from django.db import transaction
    from django.db.models.signals import post_delete
    from django.utils import timezone

    from certification.directory_cache import certification_saved
    from certification.models import Application, Certification
    from enterprises.demo import demo_uscc
    from enterprises.models import Enterprise, name_folded, name_pinyin
    from portal.models import Region

    certs = Certification.objects.filter(tenant=tenant)
    marker = f"G{GENERATOR}-N{args.n}"
    if (
        not args.regenerate
        and certs.count() == args.n
        and Enterprise.objects.filter(tenant=tenant, address__endswith=marker).count() == args.n
    ):
        return "reused"
    started = time.perf_counter()
    # The enterprises go too: no need for the per-certification listing signal (a query per row).
    post_delete.disconnect(sender=Certification, dispatch_uid="listing-")
    try:
        certs.delete()
    finally:
        post_delete.connect(certification_saved, sender=Certification, dispatch_uid="listing-")
    Application.objects.filter(tenant=tenant).delete()
    Enterprise.objects.filter(tenant=tenant).delete()
    log(f"  deleted the previous data set in {time.perf_counter() - started:.1f} s")

    rng = random.Random(args.seed)
    counties = list(Region.objects.filter(tenant=tenant, level=Region.Level.COUNTY).order_by("code"))
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, args.n, BATCH):
            stop = min(start + BATCH, args.n)
            enterprises = []
            for i in range(start, stop):
                county = counties[i % len(counties)]
                name = "".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5))) + f"{i:06d}有限公司"
                enterprises.append(
                    Enterprise(
                        tenant_id=tenant.pk,
                        uscc=demo_uscc(county.code, 1000 + i // len(counties)),
                        name=name,
                        name_pinyin=name_pinyin(name),  # bulk_create skips save(): the key is filled here
                        name_folded=name_folded(name),
                        directory_listed=True,  # and the signal on Certification.save() does not run
                        county_id=county.pk,
                        address=f"{county.name}名录路{i % 997 + 1}号 {marker}",
                        industry_id=INDUSTRY_CODES[i % len(INDUSTRY_CODES)],
                        legal_representative="张基准",
                        contact_person="李基准",
                        contact_phone=f"139{i:08d}",
                        contact_email=f"dbench{i}@example.cn",
                        main_product="基准产品",
                        created_at=now,
                    )
                )
            Enterprise.objects.bulk_create(enterprises, batch_size=BATCH)
            if enterprises[0].pk is None:  # a backend without RETURNING: read the keys back
                by_code = dict(
                    Enterprise.objects.filter(
                        tenant=tenant, uscc__in=[e.uscc for e in enterprises]
                    ).values_list("uscc", "pk")
                )
                for e in enterprises:
                    e.pk = by_code[e.uscc]
            applications = []
            for i, e in zip(range(start, stop), enterprises, strict=True):
                round_ = rounds[0] if i % 5 else rounds[1]  # one in five in the second programme
                applications.append(
                    Application(
                        tenant_id=tenant.pk,
                        round_id=round_.pk,
                        enterprise_id=e.pk,
                        county_id=e.county_id,
                        state=Application.State.PUBLISHED,
                        created_at=now,
                    )
                )
            Application.objects.bulk_create(applications, batch_size=BATCH)
            if applications[0].pk is None:
                by_enterprise = dict(
                    Application.objects.filter(
                        tenant=tenant, enterprise_id__in=[e.pk for e in enterprises]
                    ).values_list("enterprise_id", "pk")
                )
                for a in applications:
                    a.pk = by_enterprise[a.enterprise_id]
            certifications = []
            for i, a in zip(range(start, stop), applications, strict=True):
                issued = today - timedelta(days=rng.randint(0, 3 * 365 - 1))
                program_id = rounds[0].program_id if a.round_id == rounds[0].pk else rounds[1].program_id
                certifications.append(
                    Certification(
                        tenant_id=tenant.pk,
                        number=f"DB-{issued.year}-{i:07d}",
                        program_id=program_id,
                        enterprise_id=a.enterprise_id,
                        county_id=a.county_id,  # the enterprise's (Certification.save is bypassed)
                        application_id=a.pk,
                        published_list_id=published.pk,
                        issued_on=issued,
                        valid_until=issued.replace(year=issued.year + 3)
                        if not (issued.month == 2 and issued.day == 29)
                        else issued.replace(year=issued.year + 3, day=28),
                        status=Certification.Status.ACTIVE,
                        created_at=now,
                    )
                )
            Certification.objects.bulk_create(certifications, batch_size=BATCH)
            log(f"  {stop:,} / {args.n:,}")
        fill_industry_sections(tenant.pk)
    log(f"  generated in {time.perf_counter() - started:.1f} s")
    return "generated"


def fill_industry_sections(tenant_id: int) -> None:
    """Certification.industry_section from the enterprises, in one statement: bulk_create skips the
    save() that copies it."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Substr

    from certification.models import Certification
    from enterprises.models import Enterprise

    section = Enterprise.objects.filter(pk=OuterRef("enterprise_id")).values(s=Substr("industry_id", 1, 1))
    Certification.objects.filter(tenant_id=tenant_id).update(industry_section=Subquery(section))


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in (
                "certification_certification",
                "enterprises_enterprise",
                "portal_region",
                "certification_program",
            ):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


# --- measuring ----------------------------------------------------------------------------------


def pages(tenant, rounds, n: int) -> list[Page]:
    from enterprises.models import Enterprise

    sample = Enterprise.objects.filter(tenant=tenant).order_by("pk").values_list("name", flat=True)[n // 2]
    word = sample[1:3]
    year = date.today().year - 1
    return [
        Page("page 1", {}),
        Page("a county (南明区)", {"region": "520102"}),
        Page("a prefecture (遵义市), page 3", {"region": "520300", "page": 3}),
        Page("name search", {"q": word}),
        Page("deep page (1000)", {"page": 1000 if n >= 50_000 else max(1, n // 100)}),
        Page("programme + year", {"program": rounds[0].program_id, "year": year}),
        Page("industry C34 + region", {"industry": "C34", "region": "520100"}),
    ]


def explain(sql: str) -> list[str]:
    from django.db import DatabaseError, connection

    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    try:
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            return [" | ".join(str(c) for c in row) for row in cursor.fetchall()]
    except DatabaseError as exc:
        return [f"(no plan: {exc})"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def measure(tenant, page_list: list[Page], requests: int) -> dict[str, dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("directory", kwargs={"tenant_code": tenant.code})
    client = Client(HTTP_HOST="127.0.0.1")
    out = {}
    for page in page_list:
        target = f"{url}?{urllib.parse.urlencode(page.query)}" if page.query else url
        response = client.get(target)  # warm: templates, caches
        ok = response.status_code == 200 and MARKER in response.content.decode()
        rows = response.content.decode().count("data-enterprise=")
        with CaptureQueriesContext(connection) as ctx:
            client.get(target)
        queries = [(float(q["time"]), q["sql"]) for q in ctx.captured_queries]
        times = []
        for _ in range(requests):
            t = time.perf_counter()
            client.get(target)
            times.append((time.perf_counter() - t) * 1000)
        slowest = max(queries, default=(0.0, ""))
        out[page.label] = {
            "url": target,
            "status": response.status_code,
            "ok": ok,
            "rows": rows,
            "queries": len(queries),
            "sql_ms": round(sum(t for t, _ in queries) * 1000, 1),
            "slowest_ms": round(slowest[0] * 1000, 1),
            "slowest_sql": slowest[1][:4000],
            "plan": explain(slowest[1]) if slowest[1] else [],
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 95), 1),
            "max_ms": round(max(times), 1),
        }
        r = out[page.label]
        log(
            f"  {page.label:32} {r['rows']:3} rows  {r['queries']} queries  p50 {r['p50_ms']:7.1f} ms  "
            f"p95 {r['p95_ms']:7.1f} ms  slowest SQL {r['slowest_ms']:6.1f} ms{'' if ok else '  NOT OK'}"
        )
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    django_setup()
    from django.core.management import call_command
    from django.db import connection

    log(
        f"SRDI directory benchmark: N={args.n:,}, database {connection.vendor} ({connection.settings_dict['NAME']})"
    )
    call_command("migrate", verbosity=0, interactive=False)
    tenant, rounds, published = setup_tenant()
    data = ensure_data(args, tenant, rounds, published)
    log(f"  data set: {data}")
    analyze()
    results = measure(tenant, pages(tenant, rounds, args.n), args.requests)
    worst = max(r["p95_ms"] for r in results.values())
    met = worst < TARGET_MS
    log(f"worst p95 {worst:.1f} ms: target < {TARGET_MS:.0f} ms {'met' if met else 'MISSED'}")
    summary = {
        "benchmark": "directory",
        "n": args.n,
        "generator": GENERATOR,
        "data_set": data,
        "database": connection.vendor,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "requests_per_page": args.requests,
        "target_p95_ms": TARGET_MS,
        "worst_p95_ms": worst,
        "target_met": met,
        "pages": results,
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    out.with_name(f"{out.stem}-{connection.vendor}{out.suffix}").write_text(out.read_text())
    log(f"results: {out}")
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
