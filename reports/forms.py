"""Forms of the reports pages: targets, designations and report requests. Validation of the rules lives in
reports.services; these only parse what was typed."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from certification.models import Program
from portal.models import Region, Tenant
from reports.models import Designation, Target


class DateInput(forms.DateInput):
    input_type = "date"


def _indented(regions: list[Region]) -> list[tuple[str, str]]:
    depth = {Region.Level.PROVINCE: 0, Region.Level.PREFECTURE: 1, Region.Level.COUNTY: 2}
    return [(r.code, "\u3000" * depth.get(r.level, 0) + r.name) for r in regions]


class TargetForm(forms.Form):
    region = forms.ChoiceField(label=_("Region"))
    metric = forms.ChoiceField(label=_("What is counted"), choices=Target.Metric.choices)
    program = forms.TypedChoiceField(
        label=_("Programme"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Only for “certified in one programme”."),
    )
    value = forms.IntegerField(label=_("Target"), min_value=1, max_value=1_000_000)
    baseline = forms.IntegerField(
        label=_("Starting point"),
        required=False,
        min_value=0,
        max_value=1_000_000,
        help_text=_(
            "What the plan started from, as it states it (seed 004: 在现有37家的基础上), for reference."
        ),
    )
    counts_from = forms.DateField(
        label=_("Count from"),
        required=False,
        widget=DateInput,
        help_text=_(
            "Empty: what is in force (or recorded) on the deadline. A date: only what was certified, "
            "recorded or recommended from that day to the deadline, e.g. a yearly target from 1 January."
        ),
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput)
    source = forms.CharField(
        label=_("Source"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The policy document and clause, quoted."),
    )

    def __init__(self, *args, tenant: Tenant, regions: list[Region], **kwargs):
        super().__init__(*args, **kwargs)
        self.regions = {r.code: r for r in regions}
        self.fields["region"].choices = _indented(regions)
        programs = list(Program.objects.for_tenant(tenant).order_by("tier", "code"))
        self.programs = {p.pk: p for p in programs}
        self.fields["program"].choices = [("", _("none"))] + [(p.pk, p.name) for p in programs]

    def clean_region(self):
        region = self.regions.get(self.cleaned_data["region"])
        if region is None:
            raise forms.ValidationError(_("choose a region of your jurisdiction."))
        return region

    def clean_program(self):
        pk = self.cleaned_data.get("program")
        if pk is None:
            return None
        program = self.programs.get(pk)
        if program is None:
            raise forms.ValidationError(_("choose one of the listed programmes."))
        return program


class DesignationForm(forms.Form):
    uscc = forms.CharField(
        label=_("Unified social credit code"),
        max_length=18,
        min_length=18,
        help_text=_("The enterprise's 18-character code; the enterprise must be in your region."),
    )
    kind = forms.ChoiceField(label=_("Designation"), choices=Designation.Kind.choices)
    on = forms.DateField(label=_("Since"), widget=DateInput)
    reference = forms.CharField(
        label=pgettext_lazy("designation", "Reference"),
        max_length=200,
        help_text=_("The document number, list or stock code."),
    )

    def clean_uscc(self):
        return self.cleaned_data["uscc"].strip().upper()


class ReportRequestForm(forms.Form):
    region = forms.ChoiceField(label=_("Region"))
    year = forms.TypedChoiceField(label=_("Year"), coerce=int)

    def __init__(self, *args, regions: list[Region], **kwargs):
        super().__init__(*args, **kwargs)
        self.regions = {r.code: r for r in regions}
        self.fields["region"].choices = _indented(regions)
        this = timezone.localdate().year
        self.fields["year"].choices = [(y, str(y)) for y in range(this, this - 8, -1)]

    def clean_region(self):
        region = self.regions.get(self.cleaned_data["region"])
        if region is None:
            raise forms.ValidationError(_("choose a region of your jurisdiction."))
        return region
