"""Benchmark of certificate PDFs: `make bench` (or `python -m bench.certificates --n 200`).

Three measurements, on a dedicated tenant "cbench" (the 贵州 region tree):

(a) the WeasyPrint floor: the certificate template with the same CSS and fonts but no data (every field
    empty, no QR code), through portal.pdf.render_pdf, N=30 after one warm-up render; median ms;
    (a) and (b) alternate, one render of each in turn, so that on a shared machine both see the same load;
(b) the full cost of one certificate: certification.certificates.certificate_generate end to end (load
    the row, build the QR code, render, write the file, the conditional UPDATE, the audit row), on 30
    certifications, median ms. The target: full ≤ 1.5 × floor, i.e. our own work (data, QR, storage,
    database) adds at most half of what WeasyPrint needs anyway;
(c) a batch of --n certificates (default 1,000) through the real Celery task
    (certification.tasks.generate_certificate.apply(): the task's own wrapper, autoretry included, run
    in this process as CELERY_TASK_ALWAYS_EAGER would); total seconds and ms per certificate.

A breakdown is printed beside (b): the template alone (render_to_string), the QR code alone, and WeasyPrint
with a FontConfiguration reused across renders (portal.pdf builds a new one per document), so that a
missed target says where the time goes.

The data set is written with bulk_create straight into the tables, bypassing certification.publication:
enterprises, "published" applications, one notice, one published list and --n certifications numbered
CB-ZJTX-2026-00001…, with no notice entries, history, snapshots, notifications or audit rows behind them;
only the columns a certificate reads. It is deleted and written again on every run (certificates are
rendered once per certification, so a second run needs fresh rows). The PDFs go to a temporary MEDIA_ROOT
that is removed at the end.

Database: whatever DATABASE_URL says (the Makefile gives db/bench-certificates.sqlite3 unless
BENCH_DATABASE_URL is set). Results: bench-results/certificates.json and a copy named after the database.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TENANT_CODE = "cbench"
ROOT_REGION = "520000"  # 贵州省
PROGRAM_CODE = "srdi-cert-bench"
CRITERIA = "national_2026_srdi"
NUMBER = "CB-ZJTX-2026-{:05d}"
SAMPLES = 30
TARGET_RATIO = 1.5
BATCH = 1000
ISSUED_ON = date(2026, 10, 20)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1000, help="certificates in the batch (c), default 1000")
    p.add_argument("--samples", type=int, default=SAMPLES, help="renders for (a) and (b), default 30")
    p.add_argument("--output", help="default bench-results/certificates.json")
    args = p.parse_args(argv)
    args.output = args.output or str(ROOT / "bench-results" / "certificates.json")
    return args


def log(message: str) -> None:
    print(message, flush=True)


def django_setup(media_root: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "true")
    os.environ["MEDIA_ROOT"] = media_root
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no SQL logging


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


# --- the data set ------------------------------------------------------------------------------


def setup_data(n: int):
    """The tenant, programme, round, notice, published list and n certifications (written afresh)."""
    from django.db import transaction
    from django.utils import timezone

    from certification import workflow
    from certification.criteria_catalog import load_spec
    from certification.models import (
        Application,
        Certification,
        CriteriaVersion,
        Level,
        Notice,
        Program,
        PublishedList,
        Round,
    )
    from certification.services import criteria_version_freeze, criteria_version_save
    from enterprises.demo import demo_uscc
    from enterprises.models import Enterprise, Industry
    from portal.models import Region, Tenant
    from portal.regions import regions_load

    tenant, _ = Tenant.objects.get_or_create(
        code=TENANT_CODE,
        defaults={
            "name": "证书基准（贵州）",
            "short_name": "cbench",
            "authority_name": "贵州省工业和信息化厅",
        },
    )
    regions_load(tenant=tenant, root_code=ROOT_REGION)
    tenant.refresh_from_db()
    program, _ = Program.objects.get_or_create(
        tenant=tenant,
        code=PROGRAM_CODE,
        defaults={
            "name": "贵州省专精特新中小企业",
            "tier": Program.Tier.SRDI,
            "owner_region": tenant.root_region,
        },
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
    round_ = Round.objects.filter(program=program).first()
    if round_ is None:
        now = timezone.now()
        closes = now - timedelta(days=90)
        round_ = workflow.round_save(
            round_=Round(
                program=program,
                version=version,
                name="证书基准批次",
                opens_at=closes - timedelta(days=60),
                closes_at=closes,
            ),
            stages=[workflow.StageSpec(Level.PROVINCE, closes + timedelta(days=30))],
            quotas=[],
            by=None,
            actor_label="bench",
        )

    started = time.perf_counter()
    with transaction.atomic():
        # Children first: the foreign keys protect their parents. QuerySet.delete() does not call
        # PublishedList.delete() (which refuses): this is the bench tenant's own synthetic data.
        Certification.objects.filter(tenant=tenant).delete()
        PublishedList.objects.filter(tenant=tenant).exclude(replaces=None).delete()
        PublishedList.objects.filter(tenant=tenant).delete()
        Notice.objects.filter(tenant=tenant).delete()
        Application.objects.filter(tenant=tenant).delete()
        Enterprise.objects.filter(tenant=tenant).delete()

        counties = list(Region.objects.filter(tenant=tenant, level=Region.Level.COUNTY).order_by("code"))
        industry = Industry.objects.filter(pk="C3484").values_list("pk", flat=True).first()
        industry = industry or Industry.objects.values_list("pk", flat=True).first()
        notice = Notice.objects.create(
            tenant=tenant,
            round=round_,
            title="证书基准公示",
            body="基准数据。",
            how_to_object="无。",
            working_days=5,
            starts_on=ISSUED_ON - timedelta(days=20),
            ends_on=ISSUED_ON - timedelta(days=10),
            status=Notice.Status.PUBLISHED,
        )
        published = PublishedList.objects.create(
            tenant=tenant, notice=notice, title="证书基准认定名单", rows=[]
        )
        now = timezone.now()
        for start in range(0, n, BATCH):
            stop = min(start + BATCH, n)
            enterprises = [
                Enterprise(
                    tenant_id=tenant.pk,
                    uscc=demo_uscc(counties[i % len(counties)].code, 5000 + i // len(counties)),
                    name=f"贵州证书基准精密制造{i:05d}有限公司",
                    county_id=counties[i % len(counties)].pk,
                    address="基准路1号",
                    industry_id=industry,
                    legal_representative="张基准",
                    contact_person="李基准",
                    contact_phone=f"139{i:08d}",
                    contact_email=f"cbench{i}@example.cn",
                    main_product="基准产品",
                    size_class="small",
                    created_at=now,
                )
                for i in range(start, stop)
            ]
            Enterprise.objects.bulk_create(enterprises)
            if enterprises[0].pk is None:  # a backend without RETURNING: read the keys back
                keys = dict(
                    Enterprise.objects.filter(
                        tenant=tenant, uscc__in=[e.uscc for e in enterprises]
                    ).values_list("uscc", "pk")
                )
                for e in enterprises:
                    e.pk = keys[e.uscc]
            applications = [
                Application(
                    tenant_id=tenant.pk,
                    round_id=round_.pk,
                    enterprise_id=e.pk,
                    county_id=e.county_id,
                    state=Application.State.PUBLISHED,
                    created_at=now,
                    submitted_at=now,
                    decided_at=now,
                )
                for e in enterprises
            ]
            Application.objects.bulk_create(applications)
            if applications[0].pk is None:
                keys = dict(
                    Application.objects.filter(
                        tenant=tenant, enterprise_id__in=[e.pk for e in enterprises]
                    ).values_list("enterprise_id", "pk")
                )
                for a in applications:
                    a.pk = keys[a.enterprise_id]
            Certification.objects.bulk_create(
                [
                    Certification(
                        tenant_id=tenant.pk,
                        number=NUMBER.format(i + 1),
                        program_id=program.pk,
                        enterprise_id=a.enterprise_id,
                        county_id=a.county_id,  # the enterprise's (Certification.save is bypassed)
                        application_id=a.pk,
                        published_list_id=published.pk,
                        issued_on=ISSUED_ON,
                        valid_until=ISSUED_ON.replace(year=ISSUED_ON.year + 3),
                        created_at=now,
                    )
                    for i, a in zip(range(start, stop), applications, strict=True)
                ]
            )
    log(f"  data set: {n:,} certifications written in {time.perf_counter() - started:.1f} s")
    ids = list(Certification.objects.filter(tenant=tenant).order_by("number").values_list("pk", flat=True))
    return tenant, published, ids


# --- measurements ------------------------------------------------------------------------------


def floor_and_full(ids: list[int]) -> tuple[list[float], list[float]]:
    """(a) the certificate template with no data (WeasyPrint, the CSS and the fonts only) and (b)
    certificate_generate end to end on a fresh certification, alternately: on a shared machine both
    then see the same load."""
    from django.conf import settings
    from django.utils import translation

    from certification.certificates import CERTIFICATE_TEMPLATE, certificate_generate
    from portal.pdf import render_pdf

    floor_times, full_times = [], []
    with translation.override(settings.LANGUAGE_CODE):
        render_pdf(CERTIFICATE_TEMPLATE, {})  # warm-up: the first render loads pango and the fonts
    for pk in ids:
        with translation.override(settings.LANGUAGE_CODE):
            t = time.perf_counter()
            render_pdf(CERTIFICATE_TEMPLATE, {})
            floor_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        ok = certificate_generate(certification_id=pk)
        full_times.append(time.perf_counter() - t)
        if not ok:
            raise SystemExit(f"certificate {pk} failed: see certificate_error")
    return floor_times, full_times


def breakdown(pk: int, samples: int) -> dict:
    """Where the time of one certificate goes: the template, the QR code, WeasyPrint with a shared FontConfiguration."""
    import weasyprint
    from django.conf import settings
    from django.template.loader import render_to_string
    from django.utils import translation
    from weasyprint.text.fonts import FontConfiguration

    from certification import certificates
    from certification.models import Certification
    from portal import pdf

    cert = Certification.objects.select_related("tenant", "program", "enterprise").get(pk=pk)
    url = certificates.verification_url(cert)
    qr, template, shared_fonts = [], [], []
    font_config = FontConfiguration()
    with translation.override(settings.LANGUAGE_CODE):
        for _ in range(samples):
            t = time.perf_counter()
            certificates.qr_svg(url)
            qr.append(time.perf_counter() - t)
            t = time.perf_counter()
            html = render_to_string(certificates.CERTIFICATE_TEMPLATE, certificates.certificate_context(cert))
            template.append(time.perf_counter() - t)
        for _ in range(samples + 1):
            t = time.perf_counter()
            weasyprint.HTML(string=html, base_url=pdf.BASE_URL, url_fetcher=pdf._fetcher()).write_pdf(
                font_config=font_config
            )
            shared_fonts.append(time.perf_counter() - t)
    return {
        "qr_ms": median_ms(qr),
        "context_and_template_ms": median_ms(template),
        "weasyprint_shared_font_config_ms": median_ms(shared_fonts[1:]),
    }


def batch(ids: list[int]) -> float:
    """(c) Every certificate through the Celery task, in this process."""
    from certification.tasks import generate_certificate

    t = time.perf_counter()
    for pk in ids:
        result = generate_certificate.apply(args=(pk,))
        if not result.successful() or result.result is not True:
            raise SystemExit(f"task failed for certification {pk}: {result.result!r}")
    return time.perf_counter() - t


# --- main --------------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    media = tempfile.mkdtemp(prefix="srdi-cert-bench-")
    try:
        django_setup(media)
        return run(args)
    finally:
        shutil.rmtree(media, ignore_errors=True)


def run(args) -> int:
    from django.core.management import call_command
    from django.db import connection

    from certification.certificates import certificate_progress
    from certification.models import Certification

    wall = time.perf_counter()
    n = max(args.n, args.samples)
    log(
        f"SRDI certificate benchmark: N={n:,}, database {connection.vendor} ({connection.settings_dict['NAME']})"
    )
    call_command("migrate", verbosity=0, interactive=False)
    tenant, published, ids = setup_data(n)

    log(
        f"(a) the WeasyPrint floor and (b) certificate_generate end to end, {args.samples} each, alternately …"
    )
    floor_times, full_times = floor_and_full(ids[: args.samples])
    floor_ms, full_ms = median_ms(floor_times), median_ms(full_times)
    ratio = round(full_ms / floor_ms, 2)
    met = ratio <= TARGET_RATIO
    log(f"    (a) floor: median {floor_ms:.1f} ms (the certificate template without data)")
    log(
        f"    (b) full: median {full_ms:.1f} ms = {ratio:.2f} × floor (target ≤ {TARGET_RATIO}): "
        f"{'met' if met else 'MISSED'}"
    )
    parts = breakdown(ids[0], args.samples)
    log(
        f"    of which: QR {parts['qr_ms']:.1f} ms, context + template {parts['context_and_template_ms']:.1f} ms; "
        f"WeasyPrint with a reused FontConfiguration {parts['weasyprint_shared_font_config_ms']:.1f} ms"
    )

    # The batch renders every certificate, the (b) ones included: start them afresh.
    Certification.objects.filter(pk__in=ids[: args.samples]).update(certificate="", certificate_sha256="")
    log(f"(c) a batch of {n:,} certificates through the Celery task, in process …")
    seconds = batch(ids)
    progress = certificate_progress(published)
    per_ms = round(seconds * 1000 / n, 1)
    log(
        f"    {seconds:.1f} s, {per_ms:.1f} ms per certificate; progress {progress['done']}/{progress['total']}"
    )
    errors = [f"{number}: {error}" for number, error in progress["failures"]]
    if progress["done"] != n:
        errors.append(f"only {progress['done']} of {n} certificates on file")

    summary = {
        "n": n,
        "samples": args.samples,
        "database": connection.vendor,
        "database_name": str(connection.settings_dict["NAME"]),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs",
        "floor_median_ms": floor_ms,
        "full_median_ms": full_ms,
        "full_over_floor": ratio,
        "breakdown": parts,
        "target": {"full_over_floor_max": TARGET_RATIO, "met": met},
        "batch": {"n": n, "seconds": round(seconds, 1), "per_certificate_ms": per_ms, "progress": progress},
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "errors": errors,
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    out.with_name(f"{out.stem}-{connection.vendor}{out.suffix}").write_text(out.read_text())
    log(f"results: {out}")
    if errors:
        log("ERRORS: " + "; ".join(errors[:10]))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
