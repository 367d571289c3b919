"""The funding services: every state change of awards goes through one of these functions.

Views, the API, the admin, the demo seeder and the hooks call them; each runs in one transaction, locks
what it changes (funding.lock_objects), writes an audit event, posts ledger entries for money, and
defers notifications to after the commit. Refusals raise FundingRefused (`.message`, `.code`, status);
bad input raises ValidationError naming the field.

Configuration
    award_policy_save(*, policy, amounts: list[AmountSpec], by, request=None, actor_label="") -> AwardPolicy
    budget_allocate(*, policy, year, amount, by, request=None, actor_label="") -> Budget
    funding_settings(tenant) -> FundingSettings;  funding_settings_save(*, tenant, second_approval_above, by, request=None)
Entitlements
    entitlements_create_for(*, certification) -> list[Entitlement]            (idempotent; on publication)
    external_certification_record(*, enterprise, level, title, certified_on, by, reference="",
        basis="listed", moved_in_on=None, request=None) -> (ExternalCertification, list[Entitlement])
    entitlements_backfill(*, policy) -> int;  entitlements_sweep(*, day=None) -> dict   (daily hook)
    entitlement_can(entitlement, action, *, by) -> str | None          ("approve", "reject", "reverse")
    entitlement_approve(*, entitlement, by, request=None) -> Entitlement      (may come back "covered")
    entitlement_reject(*, entitlement, by, reason, request=None) -> Entitlement
    entitlement_approval_reverse(*, entitlement, by, reason, request=None) -> Entitlement
Bank accounts
    bank_account_effective(enterprise) -> BankAccount | None
    bank_account_propose(*, enterprise, by, account_name, bank_name, account_number, request=None)
    bank_account_confirm(*, account, by, request=None);  bank_account_discard(*, account, by, reason="", request=None)
Disbursement
    batch_prepare(*, tenant, region, entitlements, by, note="", request=None) -> PaymentBatch
    batch_can(batch, action, *, by) -> str | None                      ("approve", "cancel", "export", "pay")
    batch_approve(*, batch, by, request=None);  batch_cancel(*, batch, by, reason, request=None)
    batch_payment_file(*, batch, by, request=None) -> (filename, xlsx bytes)
    batch_line_mark_paid(*, line, bank_reference, by, request=None) -> BatchLine      (idempotent)
    batch_mark_paid(*, batch, references: {line id: reference}, by, request=None) -> PaymentBatch
    batch_digest(batch, lines=None) -> str
Clawback
    revocation_clawback(revocation) -> list[Receivable]                 (certification.lifecycle.REVOCATION_HOOKS)
    receivable_repay(*, receivable, amount, bank_reference, by, request=None) -> Receivable   (idempotent by reference)
    receivable_write_off_request(*, receivable, by, reason, request=None)
    receivable_write_off_decide(*, receivable, by, approve, note="", request=None)
Ledger
    budget_balances(budget) -> BudgetBalances;  budget_invariants(budget) -> list[str];  receivable_invariants(r)
"""

from funding.services.bank_accounts import (
    bank_account_confirm,
    bank_account_discard,
    bank_account_effective,
    bank_account_propose,
)
from funding.services.clawback import (
    receivable_repay,
    receivable_write_off_decide,
    receivable_write_off_request,
    revocation_clawback,
)
from funding.services.common import FundingRefused, funding_settings
from funding.services.disbursement import (
    batch_approve,
    batch_can,
    batch_cancel,
    batch_digest,
    batch_line_mark_paid,
    batch_mark_paid,
    batch_payment_file,
    batch_prepare,
)
from funding.services.entitlements import (
    amount_for,
    entitlement_approval_reverse,
    entitlement_approve,
    entitlement_can,
    entitlement_reject,
    entitlements_backfill,
    entitlements_create_for,
    entitlements_create_for_external,
    entitlements_sweep,
    external_certification_record,
    policies_applicable,
)
from funding.services.ledger import budget_balances, budget_invariants, receivable_invariants
from funding.services.policies import AmountSpec, award_policy_save, budget_allocate, funding_settings_save

__all__ = [
    "AmountSpec",
    "FundingRefused",
    "amount_for",
    "award_policy_save",
    "bank_account_confirm",
    "bank_account_discard",
    "bank_account_effective",
    "bank_account_propose",
    "batch_approve",
    "batch_can",
    "batch_cancel",
    "batch_digest",
    "batch_line_mark_paid",
    "batch_mark_paid",
    "batch_payment_file",
    "batch_prepare",
    "budget_allocate",
    "budget_balances",
    "budget_invariants",
    "entitlement_approval_reverse",
    "entitlement_approve",
    "entitlement_can",
    "entitlement_reject",
    "entitlements_backfill",
    "entitlements_create_for",
    "entitlements_create_for_external",
    "entitlements_sweep",
    "external_certification_record",
    "funding_settings",
    "funding_settings_save",
    "policies_applicable",
    "receivable_invariants",
    "receivable_repay",
    "receivable_write_off_decide",
    "receivable_write_off_request",
    "revocation_clawback",
]
