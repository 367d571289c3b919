"""Row locks for money (style.md 15): always `order_by("pk")`, always in this order across the app —

    payment batch → batch lines → entitlements → budget → receivable

so that two services locking overlapping rows wait for each other instead of deadlocking. Every caller
is inside `transaction.atomic()`; on SQLite (the embedded mode) `select_for_update` is a no-op and the
IMMEDIATE transaction mode serialises writers instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from funding.models import BatchLine, Budget, Entitlement, PaymentBatch, Receivable


def batch_lock(pk: int) -> PaymentBatch:
    return PaymentBatch.objects.select_for_update(of=("self",)).select_related("tenant", "region").get(pk=pk)


def batches_lock(pks: Iterable[int]) -> list[PaymentBatch]:
    return list(PaymentBatch.objects.select_for_update().filter(pk__in=list(pks)).order_by("pk"))


def lines_lock(batch: PaymentBatch) -> list[BatchLine]:
    return list(BatchLine.objects.select_for_update().filter(batch=batch, active=True).order_by("pk"))


def entitlement_lock(pk: int) -> Entitlement:
    return (
        Entitlement.objects.select_for_update(of=("self",))
        .select_related("tenant", "policy__region", "enterprise")
        .get(pk=pk)
    )


def entitlements_lock(pks: Iterable[int]) -> list[Entitlement]:
    return list(
        Entitlement.objects.select_for_update(of=("self",))
        .select_related("policy__region", "enterprise")
        .filter(pk__in=list(pks))
        .order_by("pk")
    )


def stacking_group_lock(entitlement: Entitlement) -> list[Entitlement]:
    """Every entitlement of the enterprise in the entitlement's stacking group, itself included.

    Two officers approving two awards of one enterprise (its provincial and its national one) at once
    would each see the other still pending and both pay in full; locking the group makes the second wait
    and then pay only the difference.
    """
    return list(
        Entitlement.objects.select_for_update(of=("self",))
        .select_related("policy__region", "enterprise")
        .filter(
            tenant_id=entitlement.tenant_id,
            enterprise_id=entitlement.enterprise_id,
            stacking_group=entitlement.stacking_group,
        )
        .order_by("pk")
    )


def budget_lock(pk: int) -> Budget:
    return Budget.objects.select_for_update(of=("self",)).select_related("policy").get(pk=pk)


def budgets_lock(pks: Iterable[int]) -> dict[int, Budget]:
    return {b.pk: b for b in Budget.objects.select_for_update().filter(pk__in=list(pks)).order_by("pk")}


def receivable_lock(pk: int) -> Receivable:
    return (
        Receivable.objects.select_for_update(of=("self",))
        .select_related("tenant", "policy__region", "enterprise")
        .get(pk=pk)
    )
