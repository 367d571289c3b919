"""Forms of the funding pages: they read and check what was typed; the rules live in funding.services.

Amounts are `forms.DecimalField`s (a Decimal, never a float) of yuan with two places; the services round
and check them again (funding.money).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy, pgettext_lazy

from funding.models import AwardLevel, Entitlement, ExternalCertification, PaymentBatch, Receivable
from funding.money import MAX_DIGITS
from funding.selectors import GROUPINGS

YEAR_MIN, YEAR_MAX = 2000, 2100


def _any(choices) -> list[tuple[str, str]]:
    return [("", gettext_lazy("any")), *choices]


def money_field(label, *, required: bool = True, help_text="", min_value: Decimal | None = Decimal("0.01")):
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=MAX_DIGITS,
        decimal_places=2,
        min_value=min_value,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def reason_field(label, *, required: bool = True, help_text="", rows: int = 3, max_length: int = 2000):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


# --- filters ------------------------------------------------------------------------------------------


class EntitlementFilterForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)
    policy = forms.TypedChoiceField(
        label=gettext_lazy("Award policy"), required=False, coerce=int, empty_value=None
    )
    year = forms.TypedChoiceField(
        label=gettext_lazy("Budget year"), required=False, coerce=int, empty_value=None
    )
    region = forms.ChoiceField(label=gettext_lazy("Paying region"), required=False)
    q = forms.CharField(label=gettext_lazy("Enterprise name or credit code"), required=False, max_length=100)

    def __init__(self, *args, policies, regions, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = _any(Entitlement.State.choices)
        self.fields["policy"].choices = _any([(p.pk, p.name) for p in policies])
        self.fields["year"].choices = _any([(y, str(y)) for y in years])
        self.fields["region"].choices = _any([(r.code, r.name) for r in regions])


class BatchFilterForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = _any(PaymentBatch.State.choices)


class ReceivableFilterForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = _any(Receivable.State.choices)


class BudgetFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=gettext_lazy("Year"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _any([(y, str(y)) for y in years])


GROUP_LABELS = {
    "policy": gettext_lazy("By policy"),
    "region": gettext_lazy("By paying region"),
    "year": gettext_lazy("By year"),
}


class ReportForm(forms.Form):
    group_by = forms.ChoiceField(
        label=gettext_lazy("Group by"),
        required=False,
        choices=[(g, GROUP_LABELS[g]) for g in GROUPINGS],
    )


# --- entitlements -------------------------------------------------------------------------------------


class RejectForm(forms.Form):
    reason = reason_field(
        gettext_lazy("Reason for rejecting"), help_text=gettext_lazy("The enterprise reads it.")
    )


class ReverseForm(forms.Form):
    reason = reason_field(gettext_lazy("Reason for the correction"))


class CancelForm(forms.Form):
    reason = reason_field(gettext_lazy("Reason for cancelling the batch"))


class WriteOffRequestForm(forms.Form):
    reason = reason_field(
        gettext_lazy("Reason for the write-off"),
        help_text=gettext_lazy("e.g. the enterprise was deregistered; at least 10 characters."),
    )


class ExternalCertificationForm(forms.Form):
    uscc = forms.CharField(
        label=gettext_lazy("Unified social credit code of the enterprise"),
        max_length=18,
        min_length=18,
        help_text=gettext_lazy("18 characters; the enterprise must be registered in your region."),
    )
    level = forms.ChoiceField(label=gettext_lazy("Award level"), choices=AwardLevel.choices)
    basis = forms.ChoiceField(
        label=gettext_lazy("Basis"),
        choices=ExternalCertification.Basis.choices,
        initial=ExternalCertification.Basis.LISTED,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(
        label=gettext_lazy("List or document"),
        max_length=200,
        help_text=gettext_lazy("e.g. 工业和信息化部第七批专精特新“小巨人”企业名单."),
    )
    reference = forms.CharField(label=gettext_lazy("Document number"), max_length=100, required=False)
    certified_on = forms.DateField(
        label=gettext_lazy("Certified on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    moved_in_on = forms.DateField(
        label=gettext_lazy("Moved in on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy(
            "Only for an enterprise that moved in whole: it counts as newly certified one year later."
        ),
    )

    def clean_uscc(self) -> str:
        return self.cleaned_data["uscc"].strip().upper()


# --- budgets, policies, settings ----------------------------------------------------------------------


class AllocateForm(forms.Form):
    policy = forms.TypedChoiceField(label=gettext_lazy("Award policy"), coerce=int)
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=YEAR_MIN, max_value=YEAR_MAX)
    amount = money_field(
        gettext_lazy("Budget (yuan)"),
        min_value=Decimal("0"),
        help_text=gettext_lazy(
            "The whole budget of the year, e.g. 10000000.00; it cannot be set below what is committed."
        ),
    )

    def __init__(self, *args, policies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [("", gettext_lazy("Choose a policy"))] + [
            (p.pk, f"{p.name} · {p.region.name}") for p in policies
        ]


class PolicyAmountsForm(forms.Form):
    """One amount per award level; a level left blank is not paid by the policy."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in AwardLevel.choices:
            self.fields[f"amount_{value}"] = money_field(label, required=False)

    def level_fields(self):
        return [self[f"amount_{value}"] for value in AwardLevel.values]

    def amounts(self) -> list[tuple[str, Decimal]]:
        return [
            (value, self.cleaned_data[f"amount_{value}"])
            for value in AwardLevel.values
            if self.cleaned_data.get(f"amount_{value}") is not None
        ]


class SettingsForm(forms.Form):
    second_approval_above = money_field(
        gettext_lazy("Second approval above (yuan)"),
        min_value=Decimal("0"),
        help_text=gettext_lazy(
            "A payment batch whose total exceeds this needs a second approver, e.g. 1000000.00."
        ),
    )


# --- disbursement -------------------------------------------------------------------------------------


class BatchPrepareForm(forms.Form):
    entitlements = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Approved awards to pay"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)

    def __init__(self, *args, payable, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entitlements"].choices = [(e.pk, e.enterprise.name) for e in payable]


class LinePaidForm(forms.Form):
    bank_reference = forms.CharField(
        label=gettext_lazy("Bank reference"),
        max_length=64,
        help_text=gettext_lazy("The reference on the bank's payment receipt."),
    )


class RepayForm(forms.Form):
    amount = money_field(gettext_lazy("Amount repaid (yuan)"))
    bank_reference = forms.CharField(label=gettext_lazy("Bank reference"), max_length=64)


class WriteOffDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("approve", gettext_lazy("Approve the write-off")),
            ("decline", gettext_lazy("Decline: the receivable stays open")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=pgettext_lazy("decision", "Note"), max_length=300, required=False)


# --- the enterprise -----------------------------------------------------------------------------------


class BankAccountForm(forms.Form):
    account_name = forms.CharField(
        label=gettext_lazy("Account holder"),
        max_length=200,
        help_text=gettext_lazy("Awards are paid only to the enterprise itself: its registered name."),
    )
    bank_name = forms.CharField(
        label=gettext_lazy("Bank and branch"),
        max_length=200,
        help_text=gettext_lazy("e.g. 中国工商银行贵阳南明支行."),
    )
    account_number = forms.CharField(
        label=gettext_lazy("Account number"),
        max_length=40,
        help_text=gettext_lazy("8 to 32 digits; spaces are ignored."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class DiscardForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason (optional)"), max_length=300, required=False)
