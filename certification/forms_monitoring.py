"""Forms of the monitoring pages (views_monitoring): change reports, their review, resolving a warning,
and the officials' filters. The rules themselves live in certification/monitoring.py."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy

from certification.models import ChangeReport
from enterprises.models import Document


class DocumentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Document) -> str:
        return f"{obj.get_doc_type_display()} · {obj.original_name} ({timezone.localdate(obj.uploaded_at):%Y-%m-%d})"


class ChangeReportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of change"), choices=ChangeReport.Kind.choices)
    occurred_on = forms.DateField(
        label=gettext_lazy("Date of the change"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy(
            "Report within three months of the change (e.g. the date of the new business licence)."
        ),
    )
    new_name = forms.CharField(
        label=gettext_lazy("New name"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Required for a change of name."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=4000,
        help_text=gettext_lazy("What changed, and how it affects the enterprise's main business."),
    )
    documents = DocumentChoiceField(
        label=gettext_lazy("Supporting documents"),
        queryset=Document.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Documents of your enterprise that passed the virus scan. Upload new ones on the documents page first."
        ),
    )

    def __init__(self, *args, enterprise, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = Document.objects.filter(
            enterprise=enterprise, scan_status=Document.Scan.CLEAN
        ).order_by("-uploaded_at")


class ChangeReportReviewForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            (ChangeReport.State.ACCEPTED, gettext_lazy("Accept the report")),
            (ChangeReport.State.ACTION, gettext_lazy("Ask the enterprise for action")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
        help_text=gettext_lazy("Required when you ask for action: say what the enterprise must do."),
    )


class WarningResolveForm(forms.Form):
    resolution = forms.CharField(
        label=gettext_lazy("Resolution"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text=gettext_lazy("What was found or done, e.g. verified on site, or a rectification plan."),
    )


class StatusFilterForm(forms.Form):
    region = forms.ChoiceField(label=gettext_lazy("Region"), required=False)
    year = forms.IntegerField(
        label=gettext_lazy("Reporting year"), min_value=2000, max_value=2100, required=False
    )

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.regions = {r.code: r for r in regions}
        self.fields["region"].choices = [
            (r.code, f"{'　' * (r.path.count('/') - 1)}{r.name}") for r in regions
        ]


class WarningFilterForm(forms.Form):
    STATES = [
        ("open", gettext_lazy("open")),
        ("resolved", gettext_lazy("resolved")),
        ("all", gettext_lazy("all")),
    ]
    state = forms.ChoiceField(label=gettext_lazy("State"), choices=STATES, required=False)
    fiscal_year = forms.IntegerField(
        label=gettext_lazy("Fiscal year"), min_value=2000, max_value=2100, required=False
    )


class ChangeReportFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        choices=[("", gettext_lazy("any"))] + list(ChangeReport.State.choices),
        required=False,
    )
