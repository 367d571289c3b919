"""Funding pages: the enterprise's awards and bank account; the officers' entitlements, budgets, payment
batches, receivables, external certifications, reports, policies and settings.

The services' notifications link to funding_entitlements, funding_awards, funding_batch,
funding_receivable and funding_bank_account: keep those names.
"""

from django.urls import path

from funding import views_awards, views_config, views_disbursement, views_enterprise, views_reports

urlpatterns = [
    # the enterprise
    path("awards/", views_enterprise.awards, name="funding_awards"),
    path("awards/bank-account/", views_enterprise.bank_account, name="funding_bank_account"),
    path(
        "awards/bank-account/<int:pk>/confirm/",
        views_enterprise.bank_account_confirm,
        name="funding_bank_account_confirm",
    ),
    path(
        "awards/bank-account/<int:pk>/discard/",
        views_enterprise.bank_account_discard,
        name="funding_bank_account_discard",
    ),
    # officers: awards
    path("funding/entitlements/", views_awards.entitlement_list, name="funding_entitlements"),
    path(
        "funding/entitlements/export.xlsx",
        views_awards.entitlement_export,
        name="funding_entitlements_export",
    ),
    path("funding/entitlements/<int:pk>/", views_awards.entitlement_detail, name="funding_entitlement"),
    path(
        "funding/entitlements/<int:pk>/approve/",
        views_awards.entitlement_approve,
        name="funding_entitlement_approve",
    ),
    path(
        "funding/entitlements/<int:pk>/reject/",
        views_awards.entitlement_reject,
        name="funding_entitlement_reject",
    ),
    path(
        "funding/entitlements/<int:pk>/reverse/",
        views_awards.entitlement_reverse,
        name="funding_entitlement_reverse",
    ),
    path("funding/external/new/", views_awards.external_new, name="funding_external_new"),
    # officers: disbursement and clawback
    path("funding/batches/", views_disbursement.batch_list, name="funding_batches"),
    path("funding/batches/new/", views_disbursement.batch_new, name="funding_batch_new"),
    path("funding/batches/<int:pk>/", views_disbursement.batch_detail, name="funding_batch"),
    path(
        "funding/batches/<int:pk>/approve/",
        views_disbursement.batch_approve,
        name="funding_batch_approve",
    ),
    path("funding/batches/<int:pk>/cancel/", views_disbursement.batch_cancel, name="funding_batch_cancel"),
    path(
        "funding/batches/<int:pk>/payment-file.xlsx",
        views_disbursement.batch_payment_file,
        name="funding_batch_file",
    ),
    path(
        "funding/batches/<int:pk>/lines/<int:line_pk>/paid/",
        views_disbursement.batch_line_paid,
        name="funding_batch_line_paid",
    ),
    path("funding/receivables/", views_disbursement.receivable_list, name="funding_receivables"),
    path("funding/receivables/<int:pk>/", views_disbursement.receivable_detail, name="funding_receivable"),
    path(
        "funding/receivables/<int:pk>/repay/",
        views_disbursement.receivable_repay,
        name="funding_receivable_repay",
    ),
    path(
        "funding/receivables/<int:pk>/write-off/",
        views_disbursement.receivable_write_off,
        name="funding_receivable_write_off",
    ),
    path(
        "funding/receivables/<int:pk>/write-off/decide/",
        views_disbursement.receivable_write_off_decide,
        name="funding_receivable_write_off_decide",
    ),
    # officers: configuration
    path("funding/budgets/", views_config.budget_list, name="funding_budgets"),
    path("funding/budgets/export.xlsx", views_config.budget_export, name="funding_budgets_export"),
    path("funding/policies/", views_config.policy_list, name="funding_policies"),
    path("funding/policies/<int:pk>/", views_config.policy_detail, name="funding_policy"),
    path("funding/settings/", views_config.settings_edit, name="funding_settings"),
    # officers: reports
    path("funding/reports/", views_reports.report, name="funding_reports"),
    path("funding/reports/export.xlsx", views_reports.report_export, name="funding_reports_export"),
]
