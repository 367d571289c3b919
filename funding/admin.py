"""The platform admin's view of funding: policies are edited here (audited); money is read-only.

Budgets, entitlements, batches, receivables and the ledger change only through funding.services (which
lock, post ledger entries and audit): here they can be looked at, never added, changed or deleted.
Account numbers are shown masked.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from funding.models import (
    AwardAmount,
    AwardPolicy,
    BankAccount,
    BatchLine,
    Budget,
    Entitlement,
    ExternalCertification,
    FundingSettings,
    LedgerEntry,
    PaymentBatch,
    Receivable,
)
from portal.audit import audit_record


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AwardAmountInline(admin.TabularInline):
    model = AwardAmount
    extra = 1
    raw_id_fields = ["program"]


@admin.register(AwardPolicy)
class AwardPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "region",
        "stacking_group",
        "covers_from",
        "covers_to",
        "is_active",
        "tenant",
    ]
    list_filter = ["tenant", "is_active"]
    search_fields = ["code", "name", "source"]
    raw_id_fields = ["region"]
    list_select_related = ["region", "tenant"]
    inlines = [AwardAmountInline]

    def has_delete_permission(self, request, obj=None):
        return False  # entitlements and the ledger refer to it: deactivate instead

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        policy = form.instance
        audit_record(
            action="award_policy.changed" if change else "award_policy.created",
            actor=request.user,
            tenant=policy.tenant,
            obj=policy,
            summary=policy.name,
            changes={
                "fields": form.changed_data,
                "amounts": {f"{a.level}:{a.program_id or ''}": str(a.amount) for a in policy.amounts.all()},
            },
            request=request,
        )


@admin.register(FundingSettings)
class FundingSettingsAdmin(admin.ModelAdmin):
    list_display = ["tenant", "second_approval_above"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            action="funding_settings.changed",
            actor=request.user,
            tenant=obj.tenant,
            obj=obj,
            changes={"second_approval_above": str(obj.second_approval_above)},
            request=request,
        )


@admin.register(Budget)
class BudgetAdmin(ReadOnlyAdmin):
    list_display = ["policy", "year", "amount", "committed", "paid", "tenant"]
    list_filter = ["tenant", "year"]
    list_select_related = ["policy", "tenant"]


@admin.register(ExternalCertification)
class ExternalCertificationAdmin(ReadOnlyAdmin):
    list_display = ["enterprise", "level", "basis", "title", "reference", "certified_on", "tenant"]
    list_filter = ["tenant", "level", "basis"]
    search_fields = ["enterprise__name", "title", "reference"]
    list_select_related = ["enterprise", "tenant"]


@admin.register(Entitlement)
class EntitlementAdmin(ReadOnlyAdmin):
    list_display = [
        "enterprise",
        "policy",
        "level",
        "level_amount",
        "amount",
        "state",
        "basis_date",
        "tenant",
    ]
    list_filter = ["tenant", "state", "level"]
    search_fields = ["enterprise__name", "enterprise__uscc", "certification__number"]
    list_select_related = ["enterprise", "policy", "tenant"]


@admin.register(BankAccount)
class BankAccountAdmin(ReadOnlyAdmin):
    list_display = ["enterprise", "bank_name", "masked", "state", "proposed_by", "confirmed_by", "tenant"]
    list_filter = ["tenant", "state"]
    search_fields = ["enterprise__name", "bank_name"]
    list_select_related = ["enterprise", "proposed_by", "confirmed_by", "tenant"]
    exclude = ["account_number"]
    readonly_fields = ["masked"]

    @admin.display(description=_("account number"))
    def masked(self, obj):
        return obj.masked_number


class BatchLineInline(admin.TabularInline):
    model = BatchLine
    fields = [
        "payee_name",
        "payee_uscc",
        "bank_name",
        "masked",
        "amount",
        "active",
        "stopped_at",
        "paid_at",
        "bank_reference",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("account number"))
    def masked(self, obj):
        return obj.masked_account_number


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "region",
        "state",
        "line_count",
        "total",
        "prepared_by",
        "approved_by",
        "tenant",
    ]
    list_filter = ["tenant", "state"]
    search_fields = ["reference"]
    list_select_related = ["region", "prepared_by", "approved_by", "tenant"]
    inlines = [BatchLineInline]


@admin.register(Receivable)
class ReceivableAdmin(ReadOnlyAdmin):
    list_display = ["enterprise", "policy", "amount", "repaid", "written_off", "state", "tenant"]
    list_filter = ["tenant", "state"]
    list_select_related = ["enterprise", "policy", "tenant"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "amount", "policy", "budget", "entitlement", "reference", "tenant"]
    list_filter = ["tenant", "kind"]
    list_select_related = ["policy", "budget", "entitlement", "tenant"]
