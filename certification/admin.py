import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from certification import services
from certification.engine import CriteriaError, compile_criteria
from certification.models import (
    Application,
    CriteriaVersion,
    ExpertProfile,
    Program,
    ReviewEvent,
    Round,
    RoundQuota,
    RoundStage,
    Screening,
    ScreeningBatch,
)


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "tier", "owner_region", "tenant", "is_active"]
    list_filter = ["tenant", "tier"]
    search_fields = ["code", "name"]
    raw_id_fields = ["owner_region"]


class CriteriaVersionForm(forms.ModelForm):
    class Meta:
        model = CriteriaVersion
        fields = [
            "program",
            "label",
            "effective_from",
            "effective_to",
            "pending_confirmation",
            "source",
            "definition",
        ]

    def clean_definition(self):
        definition = self.cleaned_data["definition"]
        try:
            compile_criteria(definition)
        except CriteriaError as exc:
            raise ValidationError([f"{where}: {message}" for where, message in exc.errors]) from None
        return definition


@admin.register(CriteriaVersion)
class CriteriaVersionAdmin(admin.ModelAdmin):
    """Tenant admins edit draft versions here; every save goes through the validating service."""

    form = CriteriaVersionForm
    list_display = ["program", "label", "effective_from", "effective_to", "status", "pending_confirmation"]
    list_filter = ["status", "program__tenant", "pending_confirmation"]
    readonly_fields = ["status", "frozen_at", "definition_hash"]
    actions = ["freeze"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            return [f.name for f in CriteriaVersion._meta.fields]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        services.criteria_version_save(version=obj, by=request.user, request=request)

    @admin.action(description=_("Freeze the selected versions"))
    def freeze(self, request, queryset):
        for version in queryset:
            try:
                services.criteria_version_freeze(version=version, by=request.user, request=request)
            except ValidationError as exc:
                self.message_user(request, f"{version}: {' '.join(exc.messages)}", messages.ERROR)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_frozen


@admin.register(Screening)
class ScreeningAdmin(admin.ModelAdmin):
    list_display = ["created_at", "enterprise", "version", "purpose", "verdict", "score"]
    list_filter = ["tenant", "purpose", "verdict"]
    raw_id_fields = ["enterprise", "version"]
    readonly_fields = ["pretty_result"]

    @admin.display(description=_("result"))
    def pretty_result(self, obj):
        return json.dumps(obj.result, ensure_ascii=False, indent=2)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ScreeningBatch)
class ScreeningBatchAdmin(admin.ModelAdmin):
    list_display = ["created_at", "version", "region", "status", "done", "total"]
    list_filter = ["tenant", "status"]

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Workflow records change only through certification.workflow (pages and API); the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StageInline(admin.TabularInline):
    model = RoundStage
    extra = 0
    can_delete = False
    readonly_fields = ["level", "deadline"]

    def has_add_permission(self, request, obj=None):
        return False


class QuotaInline(admin.TabularInline):
    model = RoundQuota
    extra = 0
    can_delete = False
    readonly_fields = ["region", "maximum", "minimum", "source"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Round)
class RoundAdmin(ReadOnlyAdmin):
    list_display = ["name", "program", "version", "opens_at", "closes_at", "tenant"]
    list_filter = ["tenant", "program"]
    search_fields = ["name"]
    inlines = [StageInline, QuotaInline]


class EventInline(admin.TabularInline):
    model = ReviewEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "from_state", "to_state", "level", "region", "actor_label", "opinion"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["enterprise", "round", "state", "level", "current_region", "verdict", "submitted_at"]
    list_filter = ["tenant", "state", "level", "verdict"]
    search_fields = ["enterprise__name", "enterprise__uscc"]
    list_select_related = ["enterprise", "round", "current_region"]
    inlines = [EventInline]


@admin.register(ExpertProfile)
class ExpertProfileAdmin(admin.ModelAdmin):
    """Tenant admins keep the expert pool and each expert's declared conflicts here."""

    list_display = ["user", "tenant", "home_county", "specialty"]
    list_filter = ["tenant"]
    raw_id_fields = ["user", "home_county", "linked_enterprises"]  # 100,000 enterprises: no select box
