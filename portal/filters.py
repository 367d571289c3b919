"""Filters for the tenant admin's audit page and its API twin."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    occurred_after = django_filters.DateFilter(
        field_name="occurred_at",
        lookup_expr="date__gte",
        label=_("from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    occurred_before = django_filters.DateFilter(
        field_name="occurred_at",
        lookup_expr="date__lte",
        label=_("to"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    action = django_filters.CharFilter(field_name="action", lookup_expr="startswith", label=_("action"))
    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="icontains", label=_("actor"))
    object_type = django_filters.CharFilter(
        field_name="object_type", lookup_expr="exact", label=_("object type")
    )
    object_id = django_filters.CharFilter(field_name="object_id", lookup_expr="exact", label=_("object id"))
    outcome = django_filters.ChoiceFilter(
        choices=[("success", _("success")), ("failure", _("failure"))], label=_("outcome")
    )

    class Meta:
        model = AuditEvent
        fields = []
