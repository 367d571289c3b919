"""The ledger: posting entries, reading balances back, and checking the invariants.

Every service that moves money posts here inside its own transaction, next to the counter it changes
(Budget.committed, Budget.paid, Receivable.repaid…): the counters are the fast path the pages and the
locks use, the ledger is the record that proves them. `budget_invariants()` recomputes one from the other.
Sums are taken in Python over Decimals, so they are exact on every database (SQLite adds REALs).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from funding.models import Budget, Entitlement, LedgerEntry, Receivable
from funding.money import ZERO, money
from portal.models import User

K = LedgerEntry.Kind
E = Entitlement.State


def ledger_post(
    *,
    kind: str,
    amount: Decimal,
    policy,
    by: User | None,
    budget: Budget | None = None,
    entitlement: Entitlement | None = None,
    batch_line=None,
    receivable: Receivable | None = None,
    reverses: LedgerEntry | None = None,
    reference: str = "",
    note: str = "",
) -> LedgerEntry:
    """Append one entry (amount rounded half up to the fen; a float is refused). Internal: called by the
    funding services inside their transaction, after they locked the rows whose counters they change."""
    return LedgerEntry.objects.create(
        tenant_id=policy.tenant_id,
        kind=kind,
        amount=money(amount),
        policy=policy,
        budget=budget,
        entitlement=entitlement,
        batch_line=batch_line,
        receivable=receivable,
        reverses=reverses,
        reference=reference[:64],
        note=note[:300],
        by=by if by is not None and by.is_authenticated else None,
    )


@dataclass(frozen=True)
class BudgetBalances:
    allocated: Decimal
    approved: Decimal
    reversed: Decimal
    paid: Decimal

    @property
    def committed(self) -> Decimal:
        return self.approved - self.reversed


def budget_balances(budget: Budget) -> BudgetBalances:
    """What the ledger says about one budget."""
    sums = dict.fromkeys(K.values, ZERO)
    for kind, amount in LedgerEntry.objects.filter(budget=budget).values_list("kind", "amount"):
        sums[kind] += amount
    return BudgetBalances(
        allocated=sums[K.ALLOCATION],
        approved=sums[K.APPROVAL],
        reversed=sums[K.REVERSAL],
        paid=sums[K.PAYMENT],
    )


def budget_invariants(budget: Budget) -> list[str]:
    """The rules one budget must always satisfy; returns what is broken (empty when all hold):

    amount = Σallocation; committed = Σapproval − Σreversal <= amount; paid = Σpayment <= Σapproval and
    <= committed; committed = Σ amounts of its approved, paid and clawed-back entitlements; paid = Σ of
    its paid and clawed-back ones.
    """
    budget = Budget.objects.get(pk=budget.pk)
    b = budget_balances(budget)
    broken = []
    if budget.amount != b.allocated:
        broken.append(f"amount {budget.amount} != allocated {b.allocated}")
    if budget.committed != b.committed:
        broken.append(f"committed {budget.committed} != approved {b.approved} - reversed {b.reversed}")
    if budget.committed > budget.amount:
        broken.append(f"committed {budget.committed} > amount {budget.amount}")
    if budget.paid != b.paid:
        broken.append(f"paid {budget.paid} != payments {b.paid}")
    if b.paid > b.approved:
        broken.append(f"paid {b.paid} > approved {b.approved}")
    if budget.paid > budget.committed:
        broken.append(f"paid {budget.paid} > committed {budget.committed}")
    held = ZERO
    paid = ZERO
    for state, amount in Entitlement.objects.filter(budget=budget).values_list("state", "amount"):
        if state in (E.APPROVED, E.PAID, E.CLAWED_BACK):
            held += amount
        if state in (E.PAID, E.CLAWED_BACK):
            paid += amount
        if state not in (E.APPROVED, E.PAID, E.CLAWED_BACK):
            broken.append(f"a {state} entitlement still names budget {budget.pk}")
    if held != budget.committed:
        broken.append(f"committed {budget.committed} != entitlements held {held}")
    if paid != budget.paid:
        broken.append(f"paid {budget.paid} != entitlements paid {paid}")
    return broken


def receivable_invariants(receivable: Receivable) -> list[str]:
    """amount = Σclawback, repaid = Σrepayment, written_off = Σwrite_off, and the state agrees."""
    receivable = Receivable.objects.get(pk=receivable.pk)
    sums = dict.fromkeys(K.values, ZERO)
    for kind, amount in LedgerEntry.objects.filter(receivable=receivable).values_list("kind", "amount"):
        sums[kind] += amount
    broken = []
    if receivable.amount != sums[K.CLAWBACK]:
        broken.append(f"amount {receivable.amount} != clawback {sums[K.CLAWBACK]}")
    if receivable.repaid != sums[K.REPAYMENT]:
        broken.append(f"repaid {receivable.repaid} != repayments {sums[K.REPAYMENT]}")
    if receivable.written_off != sums[K.WRITE_OFF]:
        broken.append(f"written off {receivable.written_off} != write-offs {sums[K.WRITE_OFF]}")
    closed = receivable.state in (Receivable.State.REPAID, Receivable.State.WRITTEN_OFF)
    if closed != (receivable.outstanding == 0):
        broken.append(f"state {receivable.state} with {receivable.outstanding} outstanding")
    return broken
