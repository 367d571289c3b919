"""The ledger is append-only, and its invariants hold after any sequence of operations (hypothesis)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certification import lifecycle
from certification.models import Certification, Revocation
from certification.workflow import WorkflowRefused
from funding import services
from funding.models import (
    AwardLevel,
    BatchLine,
    Budget,
    Entitlement,
    LedgerEntry,
    LedgerIsAppendOnly,
    PaymentBatch,
    Receivable,
)
from funding.services import AmountSpec, FundingRefused
from tests.certification.conftest import make_program
from tests.conftest import require_postgres
from tests.funding.conftest import enterprises_of_nanming, make_policy, with_account

D = Decimal
S = Entitlement.State


@pytest.fixture
def entry(city_policy):
    return LedgerEntry.objects.filter(policy=city_policy).get()  # the budget's allocation


def test_the_orm_refuses_to_change_or_delete_an_entry(entry):
    entry.amount = D("1.00")
    with pytest.raises(LedgerIsAppendOnly):
        entry.save()
    with pytest.raises(LedgerIsAppendOnly):
        entry.delete()
    with pytest.raises(LedgerIsAppendOnly):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=D("1.00"))
    with pytest.raises(LedgerIsAppendOnly):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == D("10000000.00")


def test_the_database_refuses_raw_updates_and_deletes(entry):
    require_postgres()
    for sql in ("UPDATE funding_ledgerentry SET amount = 1", "DELETE FROM funding_ledgerentry"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql)
    assert LedgerEntry.objects.get(pk=entry.pk).amount == D("10000000.00")


def test_the_database_refuses_a_budget_committed_past_its_amount(city_policy):
    # the backstop under the row lock: even a raw update cannot overrun the budget
    budget = Budget.objects.get(policy=city_policy)
    with pytest.raises(DatabaseError), transaction.atomic():
        Budget.objects.filter(pk=budget.pk).update(committed=budget.amount + D("0.01"))
    assert Budget.objects.get(pk=budget.pk).committed == D("0.00")


# --- invariants under random operations -------------------------------------------------------------------

# seed 003 amounts plus a provincial little giant (seed 002), so three levels stack in one group.
AMOUNTS = [
    AmountSpec(AwardLevel.LITTLE_GIANT_NATIONAL, "2000000"),
    AmountSpec(AwardLevel.LITTLE_GIANT_PROVINCIAL, "1000000"),
    AmountSpec(AwardLevel.SRDI, "500000"),
]


class World:
    """Three enterprises with confirmed accounts; four certifications (an SRDI one each, a little giant
    one for the first); three officers of the paying region and the province's approver who revokes."""

    def __init__(self, gz, certifier, officers, revoker):
        self.gz, self.officers, self.revoker = gz, officers, revoker
        self.policy = make_policy(gz, "520100", amounts=AMOUNTS, budget="2500000")
        self.budget = Budget.objects.get(policy=self.policy)
        self.enterprises = enterprises_of_nanming(gz, 3)
        for enterprise in self.enterprises:
            with_account(enterprise)
        little_giant, _version = make_program(gz, code="lg")
        little_giant.tier = "little_giant"
        little_giant.save()
        self.certifications = [certifier.certify(e, issued_on=date(2025, 5, 1)) for e in self.enterprises]
        self.certifications.append(
            certifier.certify(self.enterprises[0], issued_on=date(2025, 8, 1), program=little_giant)
        )

    def entitlements(self) -> list[Entitlement]:
        return list(Entitlement.objects.filter(policy=self.policy).order_by("pk"))

    def batches(self) -> list[PaymentBatch]:
        return list(PaymentBatch.objects.filter(tenant=self.gz).order_by("pk"))

    def officer(self, i: int):
        return self.officers[i % len(self.officers)]

    @staticmethod
    def _one(candidates: list, index: int):
        return candidates[index % len(candidates)] if candidates else None

    def apply(self, op: tuple) -> None:
        """Apply one operation. Most pick among the rows in the state the operation needs, so that
        sequences reach batches, payments and clawbacks; index 7 picks among all rows, to be refused."""
        name, a, b = op
        rows = self.entitlements()

        def among(*states):
            return rows if a == 7 else [e for e in rows if e.state in states]

        batches = self.batches()
        if name == "advance":
            name, a, b = self._next_step(rows, batches, a, b)
        if name == "approve" and (pick := self._one(among(S.PENDING), a)):
            services.entitlement_approve(entitlement=pick, by=self.officer(b))
        elif name == "reject" and (pick := self._one(among(S.PENDING), a)):
            services.entitlement_reject(entitlement=pick, by=self.officer(b), reason="不符合条件")
        elif name == "reverse" and (pick := self._one(among(S.APPROVED), a)):
            services.entitlement_approval_reverse(entitlement=pick, by=self.officer(b), reason="更正")
        elif name == "prepare":
            free = [e for e in among(S.APPROVED) if not e.batch_lines.filter(active=True).exists()]
            chosen = [e for i, e in enumerate(free) if (b >> i) & 1 or i == 0]
            if chosen:
                services.batch_prepare(
                    tenant=self.gz, region=self.policy.region, entitlements=chosen, by=self.officer(a)
                )
        elif name == "approve_batch":
            open_ = [
                x
                for x in batches
                if x.state in (PaymentBatch.State.PREPARED, PaymentBatch.State.FIRST_APPROVED)
            ]
            if batch := self._one(batches if a == 7 else open_, a):
                services.batch_approve(batch=batch, by=self.officer(b))
        elif name == "cancel_batch":
            if batch := self._one([x for x in batches if x.state in PaymentBatch.OPEN_STATES], a):
                services.batch_cancel(batch=batch, by=self.officer(b), reason="重新编制")
        elif name == "pay":
            lines = list(
                BatchLine.objects.filter(batch__state__in=["approved", "paid"], active=True).order_by("pk")
            )
            unpaid = [line for line in lines if line.paid_at is None]
            # now and then the same request again (a paid line, its own reference): a no-op
            if line := self._one(lines if b == 0 else unpaid, a):
                reference = f"REF-{line.pk}" if b != 5 else f"OTHER-{line.pk}"
                services.batch_line_mark_paid(line=line, bank_reference=reference, by=self.officer(b))
        elif name == "revoke":
            standing = [
                c for c in self.certifications if Certification.objects.get(pk=c.pk).status == "active"
            ]
            paid = [c for c in standing if c.entitlements.filter(state=S.PAID).exists()]
            standing = paid if paid and b % 2 == 0 else standing
            if certification := self._one(self.certifications if a == 7 else standing, a):
                ground = Revocation.Ground.TAX_EVASION if b == 7 else Revocation.Ground.FALSE_INFORMATION
                lifecycle.certification_revoke(
                    certification=Certification.objects.get(pk=certification.pk),
                    by=self.revoker,
                    ground=ground,
                    reason="经核查，申报数据不实，予以撤销。",
                )
        elif name == "national":
            services.external_certification_record(
                enterprise=self.enterprises[a % 2],
                level=AwardLevel.LITTLE_GIANT_NATIONAL,
                title="第七批国家级专精特新“小巨人”企业名单",
                certified_on=date(2025, 9, 1),
                by=self.officer(b),
            )
        elif name == "repay":
            open_ = list(Receivable.objects.filter(state__in=Receivable.OPEN_STATES).order_by("pk"))
            if receivable := self._one(open_, a):
                amount = min(receivable.outstanding, D("123456.78") * (b % 3 + 1))
                services.receivable_repay(
                    receivable=receivable, amount=amount, bank_reference=f"R-{b}", by=self.officer(b)
                )
        elif name == "write_off":
            open_ = list(Receivable.objects.filter(state__in=Receivable.OPEN_STATES).order_by("pk"))
            if receivable := self._one(open_, a):
                if receivable.state == Receivable.State.OPEN:
                    services.receivable_write_off_request(
                        receivable=receivable, by=self.officer(b), reason="企业已注销，无可执行财产。"
                    )
                else:
                    services.receivable_write_off_decide(
                        receivable=receivable, by=self.officer(b), approve=b % 2 == 0
                    )
        elif name == "allocate":
            services.budget_allocate(
                policy=self.policy,
                year=self.budget.year,
                amount=self.budget.amount + D(b * 250000) - D(a % 2 * 500000),
                by=self.officer(b),
            )
        self.budget.refresh_from_db()

    def _next_step(self, rows, batches, a: int, b: int) -> tuple:
        """The step that moves money furthest along: pay an approved batch, approve an open one (by an
        officer who may), batch what is approved, approve what is pending."""
        if BatchLine.objects.filter(batch__state="approved", active=True, paid_at__isnull=True).exists():
            return ("pay", a, 1)
        for batch in batches:
            if batch.state in (PaymentBatch.State.PREPARED, PaymentBatch.State.FIRST_APPROVED):
                taken = {batch.prepared_by_id, batch.approved_by_id}
                free = next(i for i, o in enumerate(self.officers) if o.pk not in taken)
                return ("approve_batch", batches.index(batch), free)
        if any(e.state == S.APPROVED and not e.batch_lines.filter(active=True).exists() for e in rows):
            return ("prepare", a, b)
        return ("approve", a % 7, b)

    def check(self) -> None:
        assert services.budget_invariants(self.budget) == []
        for receivable in Receivable.objects.all():
            assert services.receivable_invariants(receivable) == []
        # the highest award once: what an enterprise holds approved or paid never exceeds its highest level
        held: dict[int, list[Entitlement]] = defaultdict(list)
        for e in self.entitlements():
            if e.state in (S.APPROVED, S.PAID):
                held[e.enterprise_id].append(e)
        for rows in held.values():
            assert sum(e.amount for e in rows) <= max(e.level_amount for e in rows)
        # each approved or paid entitlement's net commitment in the ledger is its amount; others hold none
        for e in self.entitlements():
            net = D(0)
            for kind, amount in LedgerEntry.objects.filter(entitlement=e).values_list("kind", "amount"):
                net += {"approval": amount, "reversal": -amount}.get(kind, D(0))
            expected = e.amount if e.state in (S.APPROVED, S.PAID, S.CLAWED_BACK) else D(0)
            assert net == expected, (e.pk, e.state)
            assert LedgerEntry.objects.filter(entitlement=e, kind="payment").count() == (
                1 if e.state in (S.PAID, S.CLAWED_BACK) else 0
            )
        assert self.budget.committed <= self.budget.amount


OPERATIONS = st.tuples(
    st.sampled_from(
        [
            "advance",
            "advance",
            "advance",
            "advance",
            "approve",
            "reject",
            "reverse",
            "prepare",
            "approve_batch",
            "approve_batch",
            "cancel_batch",
            "pay",
            "pay",
            "pay",
            "revoke",
            "revoke",
            "national",
            "repay",
            "write_off",
            "allocate",
        ]
    ),
    st.integers(min_value=0, max_value=7),
    st.integers(min_value=0, max_value=7),
)


@pytest.fixture
def world(gz, certifier, guiyang_funding, guiyang_funding2, guiyang_funding3, province_approver):
    return World(gz, certifier, [guiyang_funding, guiyang_funding2, guiyang_funding3], province_approver)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(OPERATIONS, min_size=5, max_size=30))
def test_the_ledger_invariants_hold_after_any_sequence_of_operations(world, operations):
    # Every example starts from the same world: its changes are rolled back at the end.
    with transaction.atomic():
        for certification in world.certifications:
            services.entitlements_create_for(certification=certification)
        world.check()
        for op in operations:
            # a refused operation must leave everything consistent too
            with contextlib.suppress(FundingRefused, ValidationError, WorkflowRefused):
                world.apply(op)
            world.check()
        transaction.set_rollback(True)  # the next example starts from the same world
