"""The tenant administrator's dynamic-management settings: checked and saved with an audit of what changed.

certification.lifecycle reads them (`lifecycle_settings`, `reminder_offsets`, `reverification_levels`);
this module is the one place that writes them.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from certification.models import LEVEL_ORDER, Level, LifecycleSettings
from portal.audit import audit_record
from portal.models import Tenant, User

MAX_REMINDER_OFFSET = 365
FIELDS = (
    "reminder_offsets",
    "reapply_bar_years",
    "annual_update_month",
    "annual_update_day",
    "reverify_levels",
    "visit_interval_days",
)
# A deadline must exist every year: 29 February does not (checked against a common year).
COMMON_YEAR = 2023


def _errors(data: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    offsets = data["reminder_offsets"]
    wrong = [o for o in offsets if not 1 <= o <= MAX_REMINDER_OFFSET]
    if wrong:
        errors["reminder_offsets"] = [
            _("Each reminder is from 1 to %(max)d days before expiry; %(wrong)s is not.")
            % {"max": MAX_REMINDER_OFFSET, "wrong": ", ".join(str(o) for o in wrong)}
        ]
    elif len(set(offsets)) != len(offsets):
        errors["reminder_offsets"] = [_("Each reminder day may appear only once.")]
    if not 0 <= data["reapply_bar_years"] <= 10:
        errors["reapply_bar_years"] = [_("From 0 to 10 years.")]
    try:
        date(COMMON_YEAR, data["annual_update_month"], data["annual_update_day"])
    except (ValueError, TypeError):
        errors["annual_update_day"] = [
            _("%(month)s/%(day)s is not a date that comes every year.")
            % {"month": data["annual_update_month"], "day": data["annual_update_day"]}
        ]
    unknown = {str(lvl) for lvl in data["reverify_levels"]} - {lvl.value for lvl in LEVEL_ORDER}
    if unknown:
        errors["reverify_levels"] = [_("Choose among the county and the prefecture.")]
    if not 7 <= data["visit_interval_days"] <= 366:
        errors["visit_interval_days"] = [_("From 7 to 366 days.")]
    return errors


def lifecycle_settings_save(*, tenant: Tenant, by: User, data: dict, request=None) -> LifecycleSettings:
    """Save the tenant's settings (every field of FIELDS in `data`). Raises ValidationError by field,
    every problem at once; nothing is saved then. Offsets are kept largest first; the province is
    always part of the re-verification chain."""
    data = {**data}
    data["reminder_offsets"] = sorted((int(o) for o in data["reminder_offsets"]), reverse=True)
    errors = _errors(data)
    if errors:
        raise ValidationError(errors)
    wanted = {str(lvl) for lvl in data["reverify_levels"]} | {Level.PROVINCE.value}
    data["reverify_levels"] = [lvl.value for lvl in LEVEL_ORDER if lvl.value in wanted]
    with transaction.atomic():
        row, _created = LifecycleSettings.objects.select_for_update().get_or_create(tenant=tenant)
        changes = {}
        for name in FIELDS:
            old, new = getattr(row, name), data[name]
            if old != new:
                changes[name] = [old, new]
                setattr(row, name, new)
        if changes or _created:
            row.save()
            audit_record(
                action="lifecycle.settings_changed",
                actor=by,
                tenant=tenant,
                obj=row,
                changes=changes,
                summary=", ".join(sorted(changes)) or "created",
                request=request,
            )
    return row


def reverification_version_save(*, tenant: Tenant, program, version, by: User, request=None):
    """The criteria a programme's certifications are re-verified under (domain.md §0: certifications issued
    under the 2022 rules are re-verified under the rules the tenant chooses). `version` None: the version in
    force on the day the re-verification is filed. Only a frozen version of the programme can be chosen."""
    from certification.models import CriteriaVersion, Program

    with transaction.atomic():
        program = Program.objects.select_for_update().get(pk=program.pk, tenant=tenant)
        if version is not None and (
            version.program_id != program.pk or version.status != CriteriaVersion.Status.FROZEN
        ):
            raise ValidationError(
                {"reverification_version": [_("Choose a frozen criteria version of this programme.")]}
            )
        before = program.reverification_version_id
        program.reverification_version = version
        program.save(update_fields=["reverification_version"])
        audit_record(
            action="program.reverification_version",
            actor=by,
            tenant=tenant,
            obj=program,
            summary=f"{program.name}: {version.label if version else 'version in force at filing'}",
            changes={"reverification_version": [before, program.reverification_version_id]},
            request=request,
        )
    return program
