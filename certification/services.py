"""Business actions on programmes, criteria versions and screenings."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.application_form import default_attachment_slots, default_expert_indicators
from certification.engine import CriteriaError, compile_criteria
from certification.engine.evaluate import (
    ScreeningResult,
    compiled_for,
    evaluate,
    evaluate_prepared,
    prepare_facts,
)
from certification.models import CriteriaVersion, Program, Screening, ScreeningBatch, ScreeningBatchChunk
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
            defaults={
                "name": spec["name"],
                "tier": spec["tier"],
                "owner_region": owner,
                "attachment_slots": default_attachment_slots(spec["tier"]),
                "expert_indicators": default_expert_indicators(spec["tier"]),
                # Expert review for the certification tiers; the innovative-SME tier is a checklist.
                "min_expert_reviews": spec.get(
                    "min_expert_reviews", 0 if spec["tier"] == "innovative" else 2
                ),
            },
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


def screening_batch_plan(*, batch_id: int) -> list[int]:
    """Split a queued batch into chunks of enterprise ids; returns the chunk ids to screen.

    The chunks run as separate tasks, so every worker process takes part (two cores screen twice as fast
    as one). Planning a batch that is already running returns its unfinished chunks, so a retried
    planner does not plan twice.
    """
    with transaction.atomic():
        batch = ScreeningBatch.objects.select_for_update().select_related("region").get(pk=batch_id)
        if batch.status == ScreeningBatch.Status.QUEUED:
            pks = list(
                Enterprise.objects.in_subtree(batch.region).order_by("pk").values_list("pk", flat=True)
            )
            ScreeningBatchChunk.objects.bulk_create(
                [
                    ScreeningBatchChunk(
                        batch=batch,
                        first_pk=pks[i],
                        last_pk=pks[min(i + BATCH_CHUNK, len(pks)) - 1],
                        size=min(BATCH_CHUNK, len(pks) - i),
                    )
                    for i in range(0, len(pks), BATCH_CHUNK)
                ]
            )
            batch.status, batch.total, batch.done, batch.started_at = "running", len(pks), 0, timezone.now()
            batch.save(update_fields=["status", "total", "done", "started_at"])
        elif batch.status != ScreeningBatch.Status.RUNNING:
            return []
    chunks = list(batch.chunks.filter(finished_at=None).order_by("first_pk").values_list("pk", flat=True))
    if not chunks:
        screening_batch_finish(batch_id=batch_id)
    return chunks


def screening_batch_chunk(*, chunk_id: int) -> int:
    """Screen one chunk from the stored facts and write the results, at most once.

    The inserts, the chunk's "finished" mark and the batch's progress commit together: a chunk task that
    runs twice (a redelivered message) finds the chunk finished and writes nothing. Rows already screened
    with the same facts (by the facts-changed hook or an earlier batch) are skipped.
    """
    chunk = ScreeningBatchChunk.objects.select_related("batch__version", "batch__region").get(pk=chunk_id)
    if chunk.finished_at is not None:
        return 0
    batch = chunk.batch
    criteria = compiled_for(batch.version.definition)
    purpose = Screening.Purpose.BACKGROUND
    rows = list(
        Enterprise.objects.in_subtree(batch.region)
        .filter(pk__gte=chunk.first_pk, pk__lte=chunk.last_pk)
        .values_list("pk", "facts", "facts_hash")
    )
    existing = set(
        Screening.objects.filter(
            version=batch.version, purpose=purpose, enterprise_id__in=[pk for pk, _f, _h in rows]
        ).values_list("enterprise_id", "facts_hash")
    )
    new = []
    for pk, stored, hash_ in rows:
        facts = facts_from_json(stored)
        hash_ = hash_ or facts_hash(facts)
        if (pk, hash_) in existing:
            continue
        result = evaluate_prepared(criteria, prepare_facts(facts), hash_)
        new.append(
            Screening(
                tenant_id=batch.tenant_id,
                enterprise_id=pk,
                version_id=batch.version_id,
                purpose=purpose,
                facts_hash=hash_,
                verdict=result.verdict,
                score=result.score,
                size_class=result.size_class,
                result=result.as_compact(),
            )
        )
    with transaction.atomic():
        if not ScreeningBatchChunk.objects.filter(pk=chunk.pk, finished_at=None).update(
            finished_at=timezone.now()
        ):
            return 0  # another run of this chunk finished first
        # ignore_conflicts: a facts-changed screening may have written the same row meanwhile.
        Screening.objects.bulk_create(new, batch_size=BATCH_CHUNK, ignore_conflicts=True)
        ScreeningBatch.objects.filter(pk=batch.pk).update(
            done=F("done") + len(rows), written=F("written") + len(new)
        )
    screening_batch_finish(batch_id=batch.pk)
    return len(new)


def screening_batch_finish(*, batch_id: int) -> bool:
    """Mark the batch done once every chunk is finished, with the verdict counts of its current results."""
    if ScreeningBatchChunk.objects.filter(batch_id=batch_id, finished_at=None).exists():
        return False
    batch = ScreeningBatch.objects.select_related("region").get(pk=batch_id)
    counts = dict(
        Screening.objects.filter(
            version_id=batch.version_id,
            purpose=Screening.Purpose.BACKGROUND,
            enterprise__county__path__startswith=batch.region.path,
            facts_hash=F("enterprise__facts_hash"),
        )
        .values_list("verdict")
        .annotate(n=Count("pk"))
        .values_list("verdict", "n")
    )
    return bool(
        ScreeningBatch.objects.filter(pk=batch_id, status=ScreeningBatch.Status.RUNNING).update(
            status=ScreeningBatch.Status.DONE, counts=counts, finished_at=timezone.now()
        )
    )


def screening_batch_run(*, batch_id: int) -> ScreeningBatch:
    """Run a whole batch in this process (tests, the benchmark, and the embedded mode's in-process tasks)."""
    for chunk_id in screening_batch_plan(batch_id=batch_id):
        screening_batch_chunk(chunk_id=chunk_id)
    return ScreeningBatch.objects.get(pk=batch_id)


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
