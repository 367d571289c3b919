"""Business actions on programmes, criteria versions and screenings."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.engine import CriteriaError, compile_criteria
from certification.engine.evaluate import (
    ScreeningResult,
    compiled_for,
    evaluate,
    evaluate_prepared,
    prepare_facts,
)
from certification.models import CriteriaVersion, Program, Screening, ScreeningBatch
from enterprises.facts import enterprise_facts, facts_from_json, facts_hash, facts_to_json
from enterprises.models import Enterprise
from portal.audit import audit_record
from portal.models import Region, Tenant, User

log = logging.getLogger(__name__)


def _criteria_error(exc: CriteriaError) -> ValidationError:
    return ValidationError({"definition": [f"{where}: {message}" for where, message in exc.errors]})


# --- programmes and versions ------------------------------------------------------------


@transaction.atomic
def criteria_version_save(
    *, version: CriteriaVersion, by: User | None, request=None, actor_label: str = ""
) -> CriteriaVersion:
    """Validate and save a version. A frozen version never changes."""
    if version.pk:
        stored = CriteriaVersion.objects.select_for_update().get(pk=version.pk)
        if stored.is_frozen:
            raise ValidationError(
                _("This criteria version is frozen: a round uses it. Create a new version.")
            )
    try:
        compiled = compile_criteria(version.definition)
    except CriteriaError as exc:
        raise _criteria_error(exc) from None
    version.definition_hash = compiled.definition_hash
    version.full_clean(exclude=["definition_hash"])
    version.save()
    audit_record(
        action="criteria.version_saved",
        actor=by,
        tenant=version.program.tenant,
        obj=version,
        summary=f"{version.program.code} {version.label} {version.effective_from}",
        request=request,
        actor_label=actor_label,
    )
    return version


@transaction.atomic
def criteria_version_freeze(
    *, version: CriteriaVersion, by: User | None, request=None, actor_label: str = ""
) -> CriteriaVersion:
    version = CriteriaVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_frozen:
        return version
    try:
        compile_criteria(version.definition)
    except CriteriaError as exc:
        raise _criteria_error(exc) from None
    version.status = CriteriaVersion.Status.FROZEN
    version.frozen_at = timezone.now()
    version.save(update_fields=["status", "frozen_at"])
    audit_record(
        action="criteria.version_frozen",
        actor=by,
        tenant=version.program.tenant,
        obj=version,
        summary=f"{version.program.code} {version.label}",
        request=request,
        actor_label=actor_label,
    )
    return version


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@transaction.atomic
def criteria_load(*, tenant: Tenant) -> int:
    """Create the tenant's shipped programmes and versions (certification/criteria); idempotent.

    Shipped versions are frozen: they reproduce published policy and rounds use them as they are.
    """
    from certification.criteria_catalog import catalog

    created = 0
    for spec in catalog(tenant.code):
        owner_code = tenant.root_region.code if spec["owner"] == "province" else spec["owner"]
        owner = Region.objects.get(tenant=tenant, code=owner_code)
        program, _new = Program.objects.get_or_create(
            tenant=tenant,
            code=spec["code"],
            defaults={"name": spec["name"], "tier": spec["tier"], "owner_region": owner},
        )
        for v in spec["versions"]:
            start = _as_date(v["effective_from"])
            if program.versions.filter(effective_from=start).exists():
                continue
            version = CriteriaVersion(
                program=program,
                label=v["label"],
                effective_from=start,
                effective_to=_as_date(v["effective_to"]) if v.get("effective_to") else None,
                pending_confirmation=v.get("pending_confirmation", False),
                source=v.get("source", ""),
                definition=v["definition"],
            )
            criteria_version_save(version=version, by=None, actor_label="criteria_load")
            criteria_version_freeze(version=version, by=None, actor_label="criteria_load")
            created += 1
    return created


def programs_for_enterprise(enterprise: Enterprise):
    """Programmes an enterprise may be screened against: those owned by a region that contains its county."""
    codes = enterprise.county.path.strip("/").split("/")
    return Program.objects.for_tenant(enterprise.tenant).filter(is_active=True, owner_region__code__in=codes)


def version_in_force(program: Program, day: date | None = None) -> CriteriaVersion:
    version = program.version_on(day or timezone.localdate())
    if version is None:
        raise ValidationError(
            _("No criteria version of %(program)s is in force on %(day)s.")
            % {"program": program.name, "day": day or timezone.localdate()}
        )
    return version


# --- screening -----------------------------------------------------------------------


def screen_facts(*, version: CriteriaVersion, facts: dict[str, Any]) -> ScreeningResult:
    """Screen facts in memory (calculator, API, command): nothing is stored."""
    return evaluate(version.definition, facts)


def screening_record(
    *, enterprise: Enterprise, version: CriteriaVersion, purpose: str, facts: dict[str, Any] | None = None
) -> Screening:
    """Screen the enterprise's facts and store the result, once per (facts, version, purpose)."""
    facts = facts if facts is not None else enterprise_facts(enterprise)
    hash_ = facts_hash(facts)
    existing = Screening.objects.filter(
        enterprise=enterprise, version=version, facts_hash=hash_, purpose=purpose
    ).first()
    if existing is not None:
        return existing
    result = evaluate(version.definition, facts)
    screening, _created = Screening.objects.get_or_create(
        enterprise=enterprise,
        version=version,
        facts_hash=hash_,
        purpose=purpose,
        defaults={
            "tenant_id": enterprise.tenant_id,
            "verdict": result.verdict,
            "score": result.score,
            "size_class": result.size_class,
            "result": result.as_dict(),
        },
    )
    return screening


def self_evaluation(
    *, enterprise: Enterprise, program: Program, by: User | None = None, request=None
) -> tuple[Screening, ScreeningResult]:
    """An enterprise screens its current facts against a programme's version in force."""
    version = version_in_force(program)
    facts = enterprise_facts(enterprise)
    screening = screening_record(
        enterprise=enterprise, version=version, purpose=Screening.Purpose.SELF_EVALUATION, facts=facts
    )
    return screening, evaluate(version.definition, facts)


def enterprise_screen_background(*, enterprise_id: int) -> int:
    """Screen an enterprise against every programme open to it (after its facts changed). Idempotent."""
    enterprise = Enterprise.objects.select_related("county", "tenant").filter(pk=enterprise_id).first()
    if enterprise is None:
        return 0
    facts = facts_from_json(enterprise.facts) if enterprise.facts else enterprise_facts(enterprise)
    written = 0
    for program in programs_for_enterprise(enterprise):
        version = program.version_on(timezone.localdate())
        if version is None:
            continue
        before = Screening.objects.filter(enterprise=enterprise, version=version).count()
        screening_record(
            enterprise=enterprise, version=version, purpose=Screening.Purpose.BACKGROUND, facts=facts
        )
        written += Screening.objects.filter(enterprise=enterprise, version=version).count() - before
    return written


@transaction.atomic
def screening_batch_start(
    *, tenant: Tenant, version: CriteriaVersion, region: Region, by: User, request=None
) -> ScreeningBatch:
    from certification.tasks import run_screening_batch

    if version.program.tenant_id != tenant.pk or region.tenant_id != tenant.pk:
        raise ValidationError(_("This programme or region is not part of this portal."))
    if not version.is_frozen:
        raise ValidationError(_("Only a frozen criteria version can be used for screening."))
    total = Enterprise.objects.in_subtree(region).count()
    batch = ScreeningBatch.objects.create(
        tenant=tenant, version=version, region=region, requested_by=by, total=total
    )
    audit_record(
        action="screening.batch_started",
        actor=by,
        tenant=tenant,
        obj=batch,
        summary=f"{version.program.code} {version.label} · {region.name} · {total}",
        request=request,
    )
    transaction.on_commit(lambda: run_screening_batch.delay(batch.pk))
    return batch


BATCH_CHUNK = 2000


def screening_batch_run(*, batch_id: int) -> ScreeningBatch:
    """Screen every enterprise of the batch's region from its stored facts, in chunks with progress.

    Idempotent: a screening row exists at most once per (enterprise, version, facts hash, purpose), and
    bulk_create skips those already written, so a batch that is run again (a retried task) writes nothing
    twice. Progress is written after each chunk so that staff see it move.
    """
    claimed = ScreeningBatch.objects.filter(
        pk=batch_id, status__in=[ScreeningBatch.Status.QUEUED, ScreeningBatch.Status.RUNNING]
    )
    if not claimed.update(status=ScreeningBatch.Status.RUNNING, started_at=timezone.now(), done=0, written=0):
        return ScreeningBatch.objects.get(pk=batch_id)
    batch = ScreeningBatch.objects.select_related("version", "region").get(pk=batch_id)
    criteria = compiled_for(batch.version.definition)
    purpose = Screening.Purpose.BACKGROUND
    # What a previous run (or the facts-changed hook) already wrote for this version: skipped, but counted.
    existing = {
        (e, h): v
        for e, h, v in Screening.objects.filter(
            version=batch.version, purpose=purpose, enterprise__county__path__startswith=batch.region.path
        )
        .values_list("enterprise_id", "facts_hash", "verdict")
        .iterator(chunk_size=BATCH_CHUNK)
    }
    counts: dict[str, int] = {}
    rows = Enterprise.objects.in_subtree(batch.region).order_by("pk").values_list("pk", "facts", "facts_hash")
    chunk: list[Screening] = []
    seen = 0

    def flush() -> None:
        ScreeningBatch.objects.filter(pk=batch.pk).update(done=seen, written=F("written") + len(chunk))
        if chunk:
            # ignore_conflicts: a concurrent facts-changed screening may have written the same row meanwhile.
            Screening.objects.bulk_create(chunk, batch_size=BATCH_CHUNK, ignore_conflicts=True)
        chunk.clear()

    for pk, stored, hash_ in rows.iterator(chunk_size=BATCH_CHUNK):
        seen += 1
        facts = facts_from_json(stored)
        hash_ = hash_ or facts_hash(facts)
        verdict = existing.get((pk, hash_))
        if verdict is None:
            result = evaluate_prepared(criteria, prepare_facts(facts), hash_)
            verdict = result.verdict
            chunk.append(
                Screening(
                    tenant_id=batch.tenant_id,
                    enterprise_id=pk,
                    version_id=batch.version_id,
                    purpose=purpose,
                    facts_hash=hash_,
                    verdict=verdict,
                    score=result.score,
                    size_class=result.size_class,
                    result=result.as_compact(),
                )
            )
        counts[verdict] = counts.get(verdict, 0) + 1
        if seen % BATCH_CHUNK == 0:
            flush()
    flush()
    ScreeningBatch.objects.filter(pk=batch.pk).update(
        status=ScreeningBatch.Status.DONE, counts=counts, finished_at=timezone.now()
    )
    batch.refresh_from_db()
    return batch


def facts_snapshot(enterprise: Enterprise) -> dict[str, Any]:
    """JSON-safe facts for storing with an application or a screening."""
    return facts_to_json(enterprise_facts(enterprise))


def result_json(*, program: Program, version: CriteriaVersion, result: ScreeningResult) -> dict[str, Any]:
    """The one JSON shape of a screening, shared by the API, the `screen` command and exports."""
    data = result.as_dict()
    return {
        "program": program.code,
        "version": {
            "id": version.pk,
            "label": version.label,
            "effective_from": version.effective_from.isoformat(),
            "pending_confirmation": version.pending_confirmation,
        },
        "verdict": data["verdict"],
        "score": data["score"],
        "pass_score": data["pass_score"],
        "size_class": data["size_class"],
        "groups": data["groups"],
        "unmet": data["unmet"],
        "indicators": data["indicators"],
        "conditions": data["conditions"],
        "missing_elements": data["missing_elements"],
        "library_max_missing": data["library_max_missing"],
        "facts_hash": data["facts_hash"],
    }


def program_json(program: Program) -> dict[str, Any]:
    return {
        "code": program.code,
        "name": program.name,
        "tier": program.tier,
        "owner_region": program.owner_region.code,
        "versions": [
            {
                "id": v.pk,
                "label": v.label,
                "effective_from": v.effective_from.isoformat(),
                "effective_to": v.effective_to.isoformat() if v.effective_to else None,
                "status": v.status,
                "pending_confirmation": v.pending_confirmation,
            }
            for v in sorted(program.versions.all(), key=lambda v: v.effective_from)
        ],
    }


def version_for(
    program: Program, *, version_id: int | None = None, at: date | None = None
) -> CriteriaVersion:
    if version_id is not None:
        version = program.versions.filter(pk=version_id).first()
        if version is None:
            raise ValidationError({"version": [_("This programme has no such version.")]})
        return version
    return version_in_force(program, at)
