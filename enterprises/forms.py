"""Forms of the enterprise pages. Validation rules live in validators.py and services.figures_check."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from enterprises.models import (
    AnnualFigures,
    Enterprise,
    Industry,
    Invitation,
    IPItem,
    Membership,
    Qualification,
)
from enterprises.services import IP_FIELDS, PROFILE_FIELDS, figures_check
from enterprises.validators import validate_mobile, validate_uscc
from portal.models import Region, Tenant, User


class CountyChoiceField(forms.ModelChoiceField):
    """A county of the tenant, shown grouped by prefecture (the page script turns it into two cascading selects)."""

    def __init__(self, *, tenant: Tenant, **kwargs):
        queryset = (
            Region.objects.for_tenant(tenant).filter(level=Region.Level.COUNTY).select_related("parent")
        )
        super().__init__(queryset=queryset.order_by("code"), **kwargs)
        groups: dict[str, list] = {}
        for county in self.queryset:
            parent = (
                county.parent.name
                if county.parent and county.parent.level == Region.Level.PREFECTURE
                else tenant.name
            )
            groups.setdefault(parent, []).append((county.pk, county.name))
        self.choices = [("", "---------"), *groups.items()]


class IndustryField(forms.CharField):
    """A GB/T 4754-2017 小类 typed or picked as "C3484 机械零部件加工"; stores the Industry."""

    default_error_messages = {
        "unknown": _("Choose an industry from the list (a 4-digit class of GB/T 4754-2017, e.g. C3484)."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 120)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {
                "list": "industry-options",
                "autocomplete": "off",
                "placeholder": _("type a code or a name, e.g. 3484 or 零部件"),
            }
        )

    def prepare_value(self, value):
        if isinstance(value, Industry):
            return str(value)
        if isinstance(value, str) and value and " " not in value:
            industry = Industry.objects.filter(pk=value).first()
            return str(industry) if industry else value
        return value

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        code = value.strip().split()[0].upper()
        if code[:1].isdigit():
            # "3484" without the section letter: the digits identify the class uniquely.
            match = Industry.objects.filter(level=Industry.Level.CLASS, code__endswith=code).first()
        else:
            match = Industry.objects.filter(pk=code, level=Industry.Level.CLASS).first()
        if match is None:
            raise ValidationError(self.error_messages["unknown"], code="unknown")
        return match


PROFILE_WIDGETS = {
    "established_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    "address": forms.TextInput(),
}


class EnterpriseFieldsMixin:
    def clean_uscc(self):
        return validate_uscc(self.cleaned_data.get("uscc", ""))

    def clean_contact_phone(self):
        return validate_mobile(self.cleaned_data.get("contact_phone", ""))


class RegistrationForm(EnterpriseFieldsMixin, forms.Form):
    username = forms.RegexField(
        label=_("user name"),
        max_length=40,
        regex=r"^[A-Za-z0-9_.@-]{3,40}$",
        help_text=_("3 to 40 letters, digits or _ . @ -; you sign in with it."),
        error_messages={"invalid": _("Use 3 to 40 letters, digits or _ . @ -.")},
    )
    password1 = forms.CharField(
        label=_("password"), widget=forms.PasswordInput(render_value=False), strip=False
    )
    password2 = forms.CharField(
        label=_("password again"), widget=forms.PasswordInput(render_value=False), strip=False
    )
    uscc = forms.CharField(
        label=_("unified social credit code"),
        max_length=40,
        help_text=_("18 characters, as on the business licence."),
    )
    name = forms.CharField(label=_("legal name"), max_length=200)
    county = forms.ModelChoiceField(label=_("county"), queryset=Region.objects.none())
    address = forms.CharField(label=_("address"), max_length=300)
    industry = IndustryField(label=_("industry (GB/T 4754-2017)"))
    legal_representative = forms.CharField(label=_("legal representative"), max_length=60)
    contact_person = forms.CharField(label=_("contact person"), max_length=60)
    contact_phone = forms.CharField(label=_("mobile phone"), max_length=20)
    contact_email = forms.EmailField(
        label=_("email"), help_text=_("We send a verification link to this address.")
    )

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"] = CountyChoiceField(tenant=tenant, label=_("county"))
        self.order_fields(
            ["username", "password1", "password2", "uscc", "name", "county", "address", "industry"]
        )

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                validate_password(
                    p1, User(username=data.get("username", ""), email=data.get("contact_email", ""))
                )
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data

    def enterprise_fields(self) -> dict:
        names = [
            "uscc",
            "name",
            "county",
            "address",
            "industry",
            "legal_representative",
            "contact_person",
            "contact_phone",
            "contact_email",
        ]
        return {n: self.cleaned_data[n] for n in names}


class ProfileForm(EnterpriseFieldsMixin, forms.ModelForm):
    industry = IndustryField(label=_("industry (GB/T 4754-2017)"))

    class Meta:
        model = Enterprise
        fields = PROFILE_FIELDS
        widgets = PROFILE_WIDGETS

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"] = CountyChoiceField(tenant=tenant, label=_("county"))
        self.fields["uscc"].max_length = 40
        self.fields["contact_phone"].max_length = 20
        for name in (
            "strategic_emerging_industry",
            "own_brand",
            "standards_participation",
            "ethnic_crafts",
            "provincial_key_field",
            "negative_false_info",
            "negative_major_accident_3y",
            "negative_tax_or_dishonest",
            "negative_abnormal_list",
        ):
            self.fields[name] = forms.NullBooleanField(
                label=self.fields[name].label,
                required=False,
                widget=forms.Select(
                    choices=[("unknown", _("not stated")), ("true", _("yes")), ("false", _("no"))]
                ),
            )


class FiguresForm(forms.ModelForm):
    """One fiscal year. Figures in 万元; a blank field is "not known", not zero."""

    class Meta:
        model = AnnualFigures
        fields = ["fiscal_year", *AnnualFigures.FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []
        for name in AnnualFigures.FIELDS:
            field = self.fields[name]
            field.widget.attrs.setdefault("inputmode", "decimal")
            if isinstance(field, forms.DecimalField):
                field.widget.attrs["step"] = "0.01"

    def clean(self):
        data = super().clean()
        errors, self.warnings = figures_check({n: data.get(n) for n in AnnualFigures.FIELDS})
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field, message)
        return data

    def validate_unique(self):
        # One row per year is kept by the service (it updates the year's row), not refused here.
        pass


class FiguresImportForm(forms.Form):
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        help_text=_("Use the template: one row per fiscal year. Nothing is saved unless every row is valid."),
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > 2 * 1024 * 1024:
            raise ValidationError(_("The file is larger than 2 MB."))
        head = f.read(4)
        f.seek(0)
        if head != b"PK\x03\x04":
            raise ValidationError(_("This is not an Excel .xlsx file."))
        return f


class IPItemForm(forms.ModelForm):
    class Meta:
        model = IPItem
        fields = IP_FIELDS
        widgets = {
            "grant_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "acquired_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def clean(self):
        data = super().clean()
        if data.get("acquisition") == IPItem.Acquisition.TRANSFERRED and not data.get("acquired_date"):
            self.add_error("acquired_date", _("Give the date the IP was transferred in."))
        return data


class QualificationForm(forms.ModelForm):
    class Meta:
        model = Qualification
        fields = ["kind", "title", "level", "rank", "certificate_number", "issued_on", "valid_until"]
        widgets = {
            "issued_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }


class InviteForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["email", "role"]


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("role"), choices=Membership.Role.choices)


class EnterpriseSearchForm(forms.Form):
    q = forms.CharField(label=_("name or credit code"), required=False, max_length=100)
    county = forms.ModelChoiceField(label=_("county"), queryset=Region.objects.none(), required=False)
    industry = forms.CharField(
        label=_("industry code"),
        required=False,
        max_length=5,
        help_text=_("A section letter or a code prefix, e.g. C or C34."),
    )
    size_class = forms.ChoiceField(label=_("size class"), required=False)

    def __init__(self, *args, counties, size_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties
        self.fields["size_class"].choices = [("", _("any")), *size_choices]
