"""Recording targets and designations: one transaction each, the row locked when it changes, an audit event.

Targets are kept by the staff of the target's region or of a region above it, and by tenant
administrators (reports.permissions.may_keep_targets); designations likewise for the enterprise's county.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from certification.models import Program
from enterprises.models import Enterprise
from portal.api.errors import DomainError
from portal.audit import audit_record, diff
from portal.models import User
from reports.models import Designation, Target
from reports.permissions import may_keep_targets

TARGET_FIELDS = [
    "region_id",
    "metric",
    "program_id",
    "value",
    "baseline",
    "counts_from",
    "deadline",
    "source",
]
SOURCE_MAX = 4000
REFERENCE_MAX = 200


class ReportRefused(DomainError):
    """A target or designation the rules do not allow. When fields are at fault, `fields` holds each
    problem under its field's name and `message` names the fields."""

    def __init__(self, message: str, code: str = "not_allowed", *, status: int = 409, fields=None):
        super().__init__(message, code=code, status=status, fields=fields)


def _field_problems(problems: dict[str, tuple[str, str]]) -> ReportRefused:
    """{field: (label, problem)} → one refusal naming every field, each problem under its field."""
    message = " ".join(
        _("%(field)s: %(problem)s") % {"field": label, "problem": problem}
        for label, problem in problems.values()
    )
    return ReportRefused(
        message,
        code="invalid",
        status=400,
        fields={name: [problem] for name, (_l, problem) in problems.items()},
    )


def _check_target(target: Target) -> None:
    problems: dict[str, tuple[str, str]] = {}
    if target.metric not in Target.Metric.values:
        problems["metric"] = (_("What is counted"), _("choose one of the listed measures."))
    if target.metric == Target.Metric.PROGRAMME:
        if target.program_id is None:
            problems["program"] = (_("Programme"), _("choose the programme this target counts."))
        elif not Program.objects.filter(pk=target.program_id, tenant_id=target.tenant_id).exists():
            problems["program"] = (_("Programme"), _("this programme is not part of this portal."))
    elif target.program_id is not None:
        problems["program"] = (
            _("Programme"),
            _("leave it empty: only “certified in one programme” uses it."),
        )
    if not target.value or target.value < 1:
        problems["value"] = (_("Target"), _("a whole number of 1 or more."))
    if not (date(2000, 1, 1) <= target.deadline <= date(2100, 12, 31)):
        problems["deadline"] = (_("Deadline"), _("a date between 2000 and 2100."))
    elif target.counts_from is not None and target.counts_from > target.deadline:
        problems["counts_from"] = (_("Count from"), _("on or before the deadline."))
    if not (target.source or "").strip():
        problems["source"] = (_("Source"), _("quote the document and clause the target comes from."))
    if problems:
        raise _field_problems(problems)


def target_save(*, target: Target, by: User, request=None) -> Target:
    """Record a new target or change one. The region must be the official's or below it."""
    region = target.region
    if region.tenant_id != target.tenant_id or not may_keep_targets(by, region):
        raise ReportRefused(
            _("Targets of %(region)s are recorded by its officials or those above it.")
            % {"region": region.name},
            code="not_found",
            status=404,
        )
    target.source = (target.source or "").strip()[:SOURCE_MAX]
    _check_target(target)
    with transaction.atomic():
        if target.pk is None:
            before: dict = {}
            target.created_by = by
            target.save()
            action = "target.created"
        else:
            stored = Target.objects.select_for_update().get(pk=target.pk, tenant_id=target.tenant_id)
            if not may_keep_targets(by, stored.region):
                # SECURITY: moving a target out of someone else's region is no way around the check above.
                raise ReportRefused(_("This target is not in your region."), code="not_found", status=404)
            before = {name: getattr(stored, name) for name in TARGET_FIELDS}
            target.created_by_id = stored.created_by_id
            target.created_at = stored.created_at
            target.save()
            action = "target.changed"
        audit_record(
            action=action,
            actor=by,
            tenant=region.tenant,
            obj=target,
            summary=f"{region.name} · {target.get_metric_display()} · {target.value} · {target.deadline}",
            changes=diff(target, before, TARGET_FIELDS),
            request=request,
        )
    return target


def target_delete(*, target: Target, by: User, request=None) -> None:
    if not may_keep_targets(by, target.region):
        raise ReportRefused(_("This target is not in your region."), code="not_found", status=404)
    with transaction.atomic():
        locked = Target.objects.select_for_update().filter(pk=target.pk).first()
        if locked is None:
            return
        audit_record(
            action="target.deleted",
            actor=by,
            tenant=target.region.tenant,
            obj=locked,
            summary=f"{target.region.name} · {locked.get_metric_display()} · {locked.value} · {locked.deadline}",
            changes={name: [str(getattr(locked, name)), None] for name in TARGET_FIELDS},
            request=request,
        )
        locked.delete()


def designation_record(
    *, enterprise: Enterprise, kind: str, on: date, reference: str, by: User, request=None
) -> Designation:
    """Record that an enterprise is recommended to the national list, a demonstration enterprise or listed."""
    if not may_keep_targets(by, enterprise.county):
        raise ReportRefused(_("This enterprise is not in your region."), code="not_found", status=404)
    problems: dict[str, tuple[str, str]] = {}
    if kind not in Designation.Kind.values:
        problems["kind"] = (_("Designation"), _("choose one of the listed designations."))
    if not (date(1990, 1, 1) <= on <= date(2100, 12, 31)):
        problems["on"] = (_("Since"), _("a date between 1990 and 2100."))
    reference = (reference or "").strip()[:REFERENCE_MAX]
    if not reference:
        problems["reference"] = (
            pgettext("designation", "Reference"),
            _("give the document number, list or stock code."),
        )
    if problems:
        raise _field_problems(problems)
    try:
        with transaction.atomic():
            designation = Designation.objects.create(
                tenant_id=enterprise.tenant_id,
                enterprise=enterprise,
                kind=kind,
                on=on,
                reference=reference,
                recorded_by=by,
            )
            audit_record(
                action="designation.recorded",
                actor=by,
                tenant=enterprise.tenant,
                obj=designation,
                summary=f"{enterprise.name} · {designation.get_kind_display()} · {on} · {reference}",
                request=request,
            )
    except IntegrityError as exc:
        raise ReportRefused(
            _("%(enterprise)s is already recorded as %(kind)s.")
            % {"enterprise": enterprise.name, "kind": Designation.Kind(kind).label},
            code="duplicate",
            fields={"kind": [_("already recorded for this enterprise.")]},
        ) from exc
    return designation


def designation_remove(*, designation: Designation, by: User, request=None) -> None:
    enterprise = designation.enterprise
    if not may_keep_targets(by, enterprise.county):
        raise ReportRefused(_("This enterprise is not in your region."), code="not_found", status=404)
    with transaction.atomic():
        locked = Designation.objects.select_for_update().filter(pk=designation.pk).first()
        if locked is None:
            return
        audit_record(
            action="designation.removed",
            actor=by,
            tenant=enterprise.tenant,
            obj=locked,
            summary=f"{enterprise.name} · {locked.get_kind_display()} · {locked.on} · {locked.reference}",
            request=request,
        )
        locked.delete()
