"""Forms of the dynamic-management pages (views_lifecycle): they read and check what was typed; the rules
live in certification.lifecycle and certification.lifecycle_config."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from certification.forms_publication import MultipleFileField
from certification.models import Level, Revocation
from enterprises.documents import JPEG, PDF, PNG, _check_content, sanitize_filename

EVIDENCE_MAX_FILES = 5
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_KINDS = (PDF, JPEG, PNG)
GROUNDS = [(g.value, g.label) for g in Revocation.Ground if g != Revocation.Ground.REVERIFICATION_FAILED]


def _any(choices) -> list[tuple[str, str]]:
    return [("", gettext_lazy("any")), *choices]


# --- the enterprise ------------------------------------------------------------------------------


class StatementForm(forms.Form):
    statement = forms.CharField(
        label=gettext_lazy("Statement"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "How the enterprise still meets the conditions of the programme: its main product, market, "
            "R&D and what changed since the certification (at least 20 characters)."
        ),
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


class AttachForm(forms.Form):
    document = forms.TypedChoiceField(label=gettext_lazy("Document"), coerce=int, empty_value=None)
    label = forms.CharField(
        label=gettext_lazy("What it shows (optional)"),
        required=False,
        max_length=120,
        help_text=gettext_lazy("e.g. the audit report of the last fiscal year."),
    )

    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].choices = [("", _("Choose one of your documents"))] + [
            (d.pk, f"{d.original_name} · {d.get_doc_type_display()}") for d in documents
        ]


# --- officials: the re-verification ----------------------------------------------------------------


class ActForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=gettext_lazy("Reason or opinion"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Required to return or reject (at least 5 characters): the enterprise reads it."
        ),
    )


QUEUE_TABS = ["waiting", "all", "submitted", "returned", "renewed", "rejected", "withdrawn"]


class ReverificationFilterForm(forms.Form):
    tab = forms.ChoiceField(label=gettext_lazy("show"), required=False)
    county = forms.ChoiceField(label=gettext_lazy("county"), required=False)
    program = forms.TypedChoiceField(
        label=gettext_lazy("programme"), required=False, coerce=int, empty_value=None
    )
    verdict = forms.ChoiceField(label=gettext_lazy("screening verdict"), required=False)
    q = forms.CharField(
        label=gettext_lazy("name, credit code or certificate number"), required=False, max_length=100
    )

    def __init__(self, *args, counties, programs, default_tab: str, **kwargs):
        super().__init__(*args, **kwargs)
        from certification.models import Screening

        self.default_tab = default_tab
        self.fields["tab"].choices = [(t, t) for t in QUEUE_TABS]
        self.fields["county"].choices = _any((c.code, c.name) for c in counties)
        self.fields["program"].choices = _any((p.pk, p.name) for p in programs)
        self.fields["verdict"].choices = _any(Screening.Verdict.choices)

    @property
    def current_tab(self) -> str:
        tab = self.cleaned_data.get("tab") if hasattr(self, "cleaned_data") else None
        return tab or self.default_tab


CERTIFICATION_STATUSES = [
    ("in_force", pgettext_lazy("certification filter", "in force")),
    ("expiring", pgettext_lazy("certification filter", "expiring within 90 days, not filed")),
    ("reverification", pgettext_lazy("certification filter", "under re-verification")),
    ("expired", pgettext_lazy("certification filter", "expired")),
    ("revoked", pgettext_lazy("certification filter", "revoked")),
]


class CertificationFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("status"), required=False)
    county = forms.ChoiceField(label=gettext_lazy("county"), required=False)
    program = forms.TypedChoiceField(
        label=gettext_lazy("programme"), required=False, coerce=int, empty_value=None
    )
    q = forms.CharField(
        label=gettext_lazy("name, credit code or certificate number"), required=False, max_length=100
    )

    def __init__(self, *args, counties, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = _any(CERTIFICATION_STATUSES)
        self.fields["county"].choices = _any((c.code, c.name) for c in counties)
        self.fields["program"].choices = _any((p.pk, p.name) for p in programs)


class RevocationFilterForm(forms.Form):
    ground = forms.ChoiceField(label=gettext_lazy("ground"), required=False)
    county = forms.ChoiceField(label=gettext_lazy("county"), required=False)
    q = forms.CharField(
        label=gettext_lazy("name, credit code or certificate number"), required=False, max_length=100
    )

    def __init__(self, *args, counties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ground"].choices = _any(Revocation.Ground.choices)
        self.fields["county"].choices = _any((c.code, c.name) for c in counties)


# --- revocation: step 1 (ground and reason), step 2 (evidence and confirmation) --------------------


class RevocationForm(forms.Form):
    ground = forms.ChoiceField(label=gettext_lazy("Ground"), choices=[("", "—"), *GROUNDS])
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "The facts established and the decision relied on (at least 10 characters): the enterprise "
            "reads it."
        ),
    )

    def clean_reason(self):
        reason = (self.cleaned_data.get("reason") or "").strip()
        if len(reason) < 10:
            raise ValidationError(
                _("State the reason (at least 10 characters): it is shown to the enterprise.")
            )
        return reason


class RevocationConfirmForm(RevocationForm):
    evidence = MultipleFileField(
        label=gettext_lazy("Evidence"),
        required=False,
        help_text=gettext_lazy("Up to 5 files, PDF, JPG or PNG, at most 10 MB each."),
    )
    confirm = forms.BooleanField(label=gettext_lazy("I confirm the revocation"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Step 1's answers travel with the confirmation; they are checked again here.
        self.fields["ground"].widget = forms.HiddenInput()
        self.fields["reason"].widget = forms.HiddenInput()

    def clean_evidence(self):
        """The checks lifecycle._evidence_store applies, made here first so that a bad file is named on
        the form instead of failing the revocation (enterprises.documents: content, not name, decides)."""
        files = self.cleaned_data.get("evidence") or []
        if len(files) > EVIDENCE_MAX_FILES:
            raise ValidationError(_("Attach at most %(n)d files.") % {"n": EVIDENCE_MAX_FILES})
        checked = []
        for f in files:
            name = sanitize_filename(f.name or "")
            if not f.size:
                raise ValidationError(_("%(name)s is empty.") % {"name": name})
            if f.size > EVIDENCE_MAX_BYTES:
                raise ValidationError(
                    _("%(name)s is larger than %(limit)s.")
                    % {"name": name, "limit": filesizeformat(EVIDENCE_MAX_BYTES)}
                )
            try:
                kind = _check_content(f, name)
            except ValidationError as exc:
                raise ValidationError(f"{name}: {' '.join(exc.messages)}") from exc
            if kind not in EVIDENCE_KINDS:
                raise ValidationError(_("%(name)s is not a PDF, JPG or PNG file.") % {"name": name})
            f.seek(0)
            checked.append((f, name))
        return checked


# --- the tenant's settings --------------------------------------------------------------------------


class LifecycleSettingsForm(forms.Form):
    reminder_offsets = forms.CharField(
        label=gettext_lazy("Expiry reminders (days before expiry)"),
        max_length=200,
        required=False,
        help_text=gettext_lazy(
            "Whole numbers from 1 to 365, separated by commas, e.g. 90, 30, 7. Leave empty to send none."
        ),
    )
    reapply_bar_years = forms.IntegerField(
        label=gettext_lazy("Years barred from applying after a revocation"),
        min_value=0,
        max_value=10,
        help_text=gettext_lazy(
            "At least three under the 2022 measures (工信部企业〔2022〕63号); 0 bars nothing."
        ),
    )
    annual_update_month = forms.IntegerField(
        label=gettext_lazy("Annual figures deadline: month"), min_value=1, max_value=12
    )
    annual_update_day = forms.IntegerField(
        label=gettext_lazy("Annual figures deadline: day"), min_value=1, max_value=31
    )
    reverify_levels = forms.MultipleChoiceField(
        label=gettext_lazy("Levels that review a re-verification before the province"),
        required=False,
        choices=[(Level.COUNTY, Level.COUNTY.label), (Level.PREFECTURE, Level.PREFECTURE.label)],
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("The province always reviews and decides."),
    )
    visit_interval_days = forms.IntegerField(
        label=gettext_lazy("Commissioner visit interval (days)"),
        min_value=7,
        max_value=366,
        help_text=gettext_lazy("92 for a visit every quarter (seed 004)."),
    )

    def clean_reminder_offsets(self) -> list[int]:
        """The comma list as whole numbers; the range and the repeats are the service's to judge."""
        text = (self.cleaned_data.get("reminder_offsets") or "").strip()
        tokens = [t.strip() for t in re.split(r"[,，、\s]+", text) if t.strip()]
        bad = [t for t in tokens if not (t.isascii() and t.isdigit())]
        if bad:
            raise ValidationError(
                _("“%(value)s” is not a whole number of days.") % {"value": "”, “".join(bad)}
            )
        return [int(t) for t in tokens]
