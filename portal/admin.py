from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from portal.audit import audit_record
from portal.models import AuditEvent, Notification, Post, Region, Tenant, User
from portal.tenancy import forget_tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "root_region", "notice_days", "is_active"]
    readonly_fields = ["root_region"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        forget_tenant(obj.code)
        audit_record(
            action="tenant.changed" if change else "tenant.created",
            actor=request.user,
            tenant=obj,
            obj=obj,
            changes={f: str(form.cleaned_data.get(f)) for f in form.changed_data},
            request=request,
        )


@admin.register(Region)
class RegionAdmin(GuardedModelAdmin):
    list_display = ["code", "name", "level", "parent", "tenant"]
    list_filter = ["tenant", "level"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]
    raw_id_fields = ["parent"]
    list_select_related = ["parent", "tenant"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Portal"), {"fields": ("display_name", "phone")}),
    )
    list_display = ["username", "display_name", "email", "is_staff", "is_active"]
    search_fields = ["username", "display_name", "email", "phone"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "region", "tenant", "is_active"]
    list_filter = ["tenant", "role", "is_active"]
    search_fields = ["user__username", "user__display_name", "region__name", "region__code"]
    raw_id_fields = ["user", "region"]
    list_select_related = ["user", "region", "tenant"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            action="post.changed" if change else "post.created",
            actor=request.user,
            tenant=obj.tenant,
            obj=obj,
            summary=str(obj),
            changes={f: str(form.cleaned_data.get(f)) for f in form.changed_data},
            request=request,
        )

    def delete_model(self, request, obj):
        audit_record(
            action="post.deleted",
            actor=request.user,
            tenant=obj.tenant,
            obj=obj,
            summary=str(obj),
            request=request,
        )
        super().delete_model(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only, even for superusers."""

    list_display = [
        "occurred_at",
        "tenant",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "outcome",
        "ip_address",
    ]
    list_filter = ["tenant", "outcome", "action"]
    search_fields = ["actor_label", "action", "object_id", "summary"]
    date_hierarchy = "occurred_at"
    list_select_related = ["tenant"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "tenant", "recipient", "subject", "read_at", "emailed_at"]
    list_filter = ["tenant"]
    search_fields = ["subject", "recipient__username"]
    raw_id_fields = ["recipient"]
    list_select_related = ["tenant", "recipient"]
