"""Forms of the notice and publication pages (views_publication).

The objection form is public, so it carries its own anti-abuse checks: a honeypot field hidden by CSS,
a signed render time (posts faster than a person types, or older than a session, are refused) and a
signed arithmetic question. None of them is a barrier to a determined sender; together with the
per-IP rate limit in the view they keep the form free of casual spam without a third-party CAPTCHA.
"""

from __future__ import annotations

import secrets
import time

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certification.models import Notice
from enterprises.documents import JPEG, PDF, PNG, _check_content, sanitize_filename

RENDER_SALT = "certification.objection.rendered"
CHALLENGE_SALT = "certification.objection.challenge"
MIN_SECONDS = 3
MAX_SECONDS = 2 * 60 * 60
EVIDENCE_MAX_FILES = 3
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_KINDS = (PDF, JPEG, PNG)


def new_challenge(notice_pk: int) -> str:
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    return signing.dumps({"a": a, "b": b, "n": notice_pk}, salt=CHALLENGE_SALT)


def challenge_terms(token: str, notice_pk: int) -> tuple[int, int] | None:
    try:
        data = signing.loads(token or "", salt=CHALLENGE_SALT, max_age=MAX_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("n") != notice_pk:
        return None
    return int(data["a"]), int(data["b"])


def challenge_answer(token: str, notice_pk: int) -> int | None:
    """The answer to a challenge (for tests, and nothing else)."""
    terms = challenge_terms(token, notice_pk)
    return sum(terms) if terms else None


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class ObjectionForm(forms.Form):
    filer_name = forms.CharField(label=gettext_lazy("Real name"), max_length=60)
    filer_organisation = forms.CharField(label=gettext_lazy("Organisation"), max_length=200, required=False)
    filer_phone = forms.CharField(
        label=gettext_lazy("Mobile phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    filer_email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    entry = forms.TypedChoiceField(label=gettext_lazy("Enterprise concerned"), coerce=int)
    grounds = forms.CharField(
        label=gettext_lazy("Grounds"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("What you object to and the facts you rely on (at least 10 characters)."),
    )
    evidence = MultipleFileField(
        label=gettext_lazy("Evidence (optional)"),
        required=False,
        help_text=gettext_lazy("Up to 3 files, PDF, JPG or PNG, at most 10 MB each."),
    )
    # Left empty by people: the field is hidden by CSS and from assistive technology.
    website = forms.CharField(
        label=gettext_lazy("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    rendered = forms.CharField(widget=forms.HiddenInput)
    challenge = forms.CharField(widget=forms.HiddenInput)
    answer = forms.IntegerField(
        label=gettext_lazy("Answer"), widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4})
    )

    def __init__(self, *args, notice: Notice, **kwargs):
        super().__init__(*args, **kwargs)
        self.notice = notice
        self.fields["entry"].choices = [("", _("Choose the enterprise"))] + [
            (e.pk, f"{e.enterprise_name}（{e.county_name}）")
            for e in notice.entries.filter(removed_at__isnull=True).order_by("position")
        ]
        terms = challenge_terms(self.data.get("challenge", ""), notice.pk) if self.is_bound else None
        if terms is None:
            token = new_challenge(notice.pk)
            terms = challenge_terms(token, notice.pk)
            self.initial["challenge"] = token
            if self.is_bound:
                # The posted question was forged or too old: ask a new one.
                self.data = self.data.copy()
                self.data["challenge"] = token
        if not self.is_bound or not self.data.get("rendered"):
            self.initial["rendered"] = signing.dumps({"t": time.time()}, salt=RENDER_SALT)
        a, b = terms
        self.fields["answer"].label = _("Anti-spam question: what is %(a)d + %(b)d?") % {"a": a, "b": b}

    def clean_evidence(self):
        files = self.cleaned_data.get("evidence") or []
        if len(files) > EVIDENCE_MAX_FILES:
            raise ValidationError(_("Attach at most %(n)d files.") % {"n": EVIDENCE_MAX_FILES})
        checked = []
        for f in files:
            name = sanitize_filename(f.name or "")
            if not f.size:
                raise ValidationError(_("%(name)s is empty.") % {"name": name})
            if f.size > EVIDENCE_MAX_BYTES:
                raise ValidationError(
                    _("%(name)s is larger than %(limit)s.")
                    % {"name": name, "limit": filesizeformat(EVIDENCE_MAX_BYTES)}
                )
            try:
                kind = _check_content(f, name)
            except ValidationError as exc:
                raise ValidationError(f"{name}: {' '.join(exc.messages)}") from exc
            if kind not in EVIDENCE_KINDS:
                raise ValidationError(_("%(name)s is not a PDF, JPG or PNG file.") % {"name": name})
            f.seek(0)
            checked.append((f, name, kind))
        return checked

    def clean(self):
        cleaned = super().clean()
        if self.data.get("website"):
            raise ValidationError(_("The form could not be accepted."), code="honeypot")
        try:
            rendered = signing.loads(self.data.get("rendered", ""), salt=RENDER_SALT)
            elapsed = time.time() - float(rendered["t"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            elapsed = None
        if elapsed is None or elapsed > MAX_SECONDS:
            self._renew_rendered()
            raise ValidationError(
                _("This form is too old or was altered. Check your entries and send it again."), code="stale"
            )
        if elapsed < MIN_SECONDS:
            raise ValidationError(
                _("The form was sent too quickly. Wait a few seconds and send it again."), code="too_fast"
            )
        terms = challenge_terms(self.data.get("challenge", ""), self.notice.pk)
        if "answer" in cleaned and (terms is None or cleaned["answer"] != sum(terms)):
            self.add_error("answer", _("The answer to the question is not right."))
        return cleaned

    def _renew_rendered(self) -> None:
        self.data = self.data.copy()
        self.data["rendered"] = signing.dumps({"t": time.time()}, salt=RENDER_SALT)


class NoticeCreateForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    body = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 6}))
    how_to_object = forms.CharField(
        label=gettext_lazy("How to object"), widget=forms.Textarea(attrs={"rows": 5})
    )
    starts_on = forms.DateField(
        # A date input shows only an ISO value: without the format, the default (today) would not appear.
        label=gettext_lazy("First day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    working_days = forms.IntegerField(label=gettext_lazy("Period (working days)"), min_value=1, max_value=30)
    applications = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Approved applications on the notice"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["applications"].choices = [
            (a.pk, f"{a.enterprise.name}（{a.county.name}）") for a in applications
        ]


class ResolveForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("dismiss", gettext_lazy("Dismiss, with a reply to the filer")),
            ("uphold", gettext_lazy("Uphold: the application is rejected and leaves the list")),
        ],
        widget=forms.RadioSelect,
    )
    reply = forms.CharField(
        label=gettext_lazy("Reply or reason"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class VerifyForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Certificate number"),
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": "GZ-ZJTX-2026-0001", "autocomplete": "off"}),
    )


class PdfCompareForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Your copy of the PDF"), widget=forms.ClearableFileInput(attrs={"accept": ".pdf"})
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > getattr(settings, "DOCUMENT_MAX_BYTES", 20 * 1024 * 1024):
            raise ValidationError(_("The file is too large."))
        return f


class CorrectionRowForm(forms.Form):
    """One row of a published list as corrected; the number names the row and is not changed."""

    number = forms.CharField(widget=forms.HiddenInput, max_length=40)
    enterprise = forms.CharField(label=gettext_lazy("Enterprise"), max_length=200)
    uscc = forms.CharField(
        label=gettext_lazy("Unified social credit code"),
        max_length=18,
        widget=forms.TextInput(attrs={"size": 20, "autocomplete": "off"}),
    )
    county = forms.CharField(label=gettext_lazy("County"), max_length=60)
    program = forms.CharField(label=gettext_lazy("Programme"), max_length=120)
    remove = forms.BooleanField(label=gettext_lazy("Leave out of the corrected list"), required=False)


CorrectionRowFormSet = forms.formset_factory(CorrectionRowForm, extra=0, max_num=2000, validate_max=True)


class CorrectionForm(forms.Form):
    """The title, the correction note, and the rows (a formset at `self.rows`) of a correction."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    correction_note = forms.CharField(
        label=gettext_lazy("What is corrected, and why"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Published with the new version, for everyone to read."),
    )

    def __init__(self, *args, published, **kwargs):
        kwargs.setdefault("initial", {"title": published.title})
        super().__init__(*args, **kwargs)
        self.published = published
        self.rows = CorrectionRowFormSet(
            self.data if self.is_bound else None,
            prefix="rows",
            initial=[
                {key: row.get(key, "") for key in ("number", "enterprise", "uscc", "county", "program")}
                for row in published.rows
            ],
        )

    def is_valid(self) -> bool:
        form_valid = super().is_valid()
        return self.rows.is_valid() and form_valid

    def corrected_rows(self) -> list[dict]:
        """The rows to publish: the old rows' number with the fields as edited, less the rows left out."""
        return [
            {key: value for key, value in row.cleaned_data.items() if key != "remove"}
            for row in self.rows.forms
            if not row.cleaned_data.get("remove")
        ]

    def error_summary(self) -> list[str]:
        """Every error, each naming its field (and its row), for the summary at the top of the page."""
        messages = [str(e) for e in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name != "__all__":
                messages += [f"{self.fields[name].label}: {e}" for e in errors]
        messages += [str(e) for e in self.rows.non_form_errors()]
        for row in self.rows.forms:
            number = row.initial.get("number") or row.data.get(row.add_prefix("number"), "")
            for name, errors in row.errors.items():
                label = row.fields[name].label if name in row.fields and row.fields[name].label else ""
                messages += [f"{number} · {label}: {e}" if label else f"{number}: {e}" for e in errors]
        return messages
