"""Forms of the officials' and experts' pages: a round with its chain and quotas, the queue's filters,
the review action, and an expert's scores. They only read and check input; the workflow decides."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from certification import workflow
from certification.models import LEVEL_ORDER, Application, CriteriaVersion, Level, Program, Round, Screening
from certification.selectors import SORTS
from certification.transitions import ACTION_LABELS, OFFICIAL_ACTIONS
from enterprises.size_class import SizeClass
from portal.models import Region

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's date-and-time picker; the value is read in the portal's time zone (Asia/Shanghai)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


def _datetime_field(label, *, required=True, help_text=""):
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"],
        help_text=help_text,
    )


# --- rounds ----------------------------------------------------------------------------------


@dataclass
class QuotaRow:
    """One region of the quota table, with its three inputs (bound fields)."""

    region: Region
    level: str
    maximum: forms.BoundField
    minimum: forms.BoundField
    source: forms.BoundField
    errors: list[str]

    @property
    def filled(self) -> bool:
        return any(f.value() not in (None, "") for f in (self.maximum, self.minimum, self.source))


@dataclass
class QuotaGroup:
    """A prefecture and its counties (or the counties directly under the owner)."""

    heading: str
    rows: list[QuotaRow]

    @property
    def open(self) -> bool:
        return any(r.filled or r.errors for r in self.rows)


@dataclass
class StageRow:
    level: str
    label: str
    required: bool
    include: forms.BoundField
    deadline: forms.BoundField


def levels_up_to(owner_region: Region) -> list[str]:
    """The levels a programme owned by `owner_region` may use: from the county up to the owner's."""
    owner_level = workflow.level_of_region(owner_region)
    return LEVEL_ORDER[: LEVEL_ORDER.index(owner_level) + 1]


def quota_regions(owner_region: Region) -> list[Region]:
    """The regions under the owner that recommend upward (every level below the owner), by code."""
    return list(
        Region.objects.in_subtree(owner_region)
        .exclude(pk=owner_region.pk)
        .select_related("parent")
        .order_by("code")
    )


class RoundForm(forms.Form):
    """A round of one programme: its dates, the review chain with a deadline per level, and quotas.

    The programme is fixed by the page (chosen before, or the round's own); the criteria version is one
    of that programme's. Quota inputs are one row per prefecture and county under the programme's owner;
    an empty row means no quota.
    """

    version = forms.ModelChoiceField(label=_("criteria version"), queryset=CriteriaVersion.objects.none())
    name = forms.CharField(label=_("name"), max_length=120, help_text=_("e.g. 2026年第一批"))
    year = forms.IntegerField(
        label=_("year"),
        min_value=2000,
        max_value=2100,
        required=False,
        help_text=_("Leave empty for the year the round opens."),
    )
    opens_at = _datetime_field(_("opens"), help_text=_("Beijing time."))
    closes_at = _datetime_field(_("closes"), help_text=_("Beijing time."))
    notes = forms.CharField(
        label=_("notes for applicants"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, program: Program, instance: Round | None = None, **kwargs):
        self.program = program
        self.instance = instance
        self.levels = levels_up_to(program.owner_region)
        self.owner_level = self.levels[-1]
        self.regions = quota_regions(program.owner_region)
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self._initial_from(instance)
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = program.versions.order_by("-effective_from")
        self.fields["version"].label_from_instance = lambda v: (
            f"{v.label} ({v.effective_from:%Y-%m-%d}, {v.get_status_display()})"
        )
        for level in self.levels:
            owner = level == self.owner_level
            self.fields[f"stage_{level}"] = forms.BooleanField(
                label=_("%(level)s review") % {"level": Level(level).label},
                required=False,
                initial=True,
                disabled=owner,  # the chain always ends at the owner: the box cannot be unticked
            )
            self.fields[f"deadline_{level}"] = _datetime_field(
                _("%(level)s deadline") % {"level": Level(level).label}, required=False
            )
        for r in self.regions:
            self.fields[f"q_{r.code}_max"] = forms.IntegerField(
                label=_("%(region)s maximum") % {"region": r.name}, min_value=0, required=False
            )
            self.fields[f"q_{r.code}_min"] = forms.IntegerField(
                label=_("%(region)s minimum") % {"region": r.name}, min_value=0, required=False
            )
            self.fields[f"q_{r.code}_src"] = forms.CharField(
                label=_("%(region)s source of the quota") % {"region": r.name}, max_length=200, required=False
            )
        self.stage_errors: list[str] = []
        self.quota_errors: list[str] = []
        self.stage_specs: list[workflow.StageSpec] = []
        self.quota_specs: list[workflow.QuotaSpec] = []

    @staticmethod
    def _initial_from(round_: Round) -> dict:
        initial = {
            "version": round_.version_id,
            "name": round_.name,
            "year": round_.year,
            "opens_at": round_.opens_at,
            "closes_at": round_.closes_at,
            "notes": round_.notes,
        }
        present = {s.level: s.deadline for s in round_.stages.all()}
        for level in LEVEL_ORDER:
            initial[f"stage_{level}"] = level in present
            if level in present:
                initial[f"deadline_{level}"] = present[level]
        for q in round_.quotas.select_related("region"):
            initial[f"q_{q.region.code}_max"] = q.maximum
            initial[f"q_{q.region.code}_min"] = q.minimum
            initial[f"q_{q.region.code}_src"] = q.source
        return initial

    # -- what the template lays out --

    def stage_rows(self) -> list[StageRow]:
        return [
            StageRow(
                level=level,
                label=str(Level(level).label),
                required=level == self.owner_level,
                include=self[f"stage_{level}"],
                deadline=self[f"deadline_{level}"],
            )
            for level in self.levels
        ]

    def quota_groups(self) -> list[QuotaGroup]:
        groups: dict[int, QuotaGroup] = {}
        order: list[int] = []
        owner = self.program.owner_region
        for r in self.regions:
            row = QuotaRow(
                region=r,
                level=r.level,
                maximum=self[f"q_{r.code}_max"],
                minimum=self[f"q_{r.code}_min"],
                source=self[f"q_{r.code}_src"],
                errors=[
                    f"{bf.label}: {error}"
                    for bf in (self[f"q_{r.code}_max"], self[f"q_{r.code}_min"], self[f"q_{r.code}_src"])
                    for error in bf.errors
                ],
            )
            # A prefecture heads its own group; a county joins its prefecture's (or the owner's, when
            # it lies directly under the owner, e.g. a province-administered county).
            key = r.pk if r.level == Region.Level.PREFECTURE else (r.parent_id or owner.pk)
            if key not in groups:
                heading = r.name if r.level == Region.Level.PREFECTURE else owner.name
                groups[key] = QuotaGroup(heading=heading, rows=[])
                order.append(key)
            groups[key].rows.append(row)
        return [groups[k] for k in order]

    # -- checks that belong to the form; the rules themselves are round_save's --

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("The round must close after it opens."))
        specs = []
        for level in self.levels:
            included = level == self.owner_level or data.get(f"stage_{level}")
            deadline = data.get(f"deadline_{level}")
            if not included:
                continue
            if deadline is None:
                if f"deadline_{level}" not in self.errors:
                    self.add_error(f"deadline_{level}", _("Give this level's review deadline."))
                continue
            specs.append(workflow.StageSpec(level, deadline))
        self.stage_specs = specs
        chain = {s.level for s in specs} | {self.owner_level}
        quotas = []
        for r in self.regions:
            maximum = data.get(f"q_{r.code}_max")
            minimum = data.get(f"q_{r.code}_min")
            source = (data.get(f"q_{r.code}_src") or "").strip()
            if maximum is None and minimum is None:
                if source:
                    self.add_error(
                        f"q_{r.code}_src", _("A source without a maximum or minimum sets no quota.")
                    )
                continue
            if workflow.level_of_region(r) not in chain:
                self.add_error(
                    f"q_{r.code}_max",
                    _("the %(level)s level is skipped in this chain, so this quota would never apply.")
                    % {"level": Level(workflow.level_of_region(r)).label},
                )
                continue
            if maximum is not None and minimum is not None and minimum > maximum:
                self.add_error(f"q_{r.code}_min", _("the minimum is above the maximum."))
                continue
            quotas.append(workflow.QuotaSpec(region=r, maximum=maximum, minimum=minimum, source=source))
        self.quota_specs = quotas
        return data

    def apply_errors(self, error) -> None:
        """Show round_save's ValidationError next to the field it names."""
        items = error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
        for field, messages in items:
            if field == "stages":
                self.stage_errors.extend(messages)
            elif field == "quotas":
                self.quota_errors.extend(messages)
            elif field in self.fields:
                for message in messages:
                    self.add_error(field, message)
            else:
                for message in messages:
                    self.add_error(None, message)

    def round_instance(self) -> Round:
        """The unsaved round with the form's values (round_save validates and stores it)."""
        round_ = self.instance or Round(program=self.program)
        d = self.cleaned_data
        round_.program = self.program
        round_.version = d["version"]
        round_.name = d["name"].strip()
        round_.year = d.get("year") or 0
        round_.opens_at = d["opens_at"]
        round_.closes_at = d["closes_at"]
        round_.notes = d.get("notes") or ""
        return round_


# --- the queue -------------------------------------------------------------------------------

INDUSTRY_PREFIX = re.compile(r"^[A-T](\d{1,4})?$")

SORT_LABELS = {
    "-submitted": _("submitted, newest first"),
    "submitted": _("submitted, oldest first"),
    "name": _("name, A to Z"),
    "-name": _("name, Z to A"),
    "-score": _("score, highest first"),
    "score": _("score, lowest first"),
    "-expert": _("expert mean, highest first"),
    "expert": _("expert mean, lowest first"),
}


class QueueFilterForm(forms.Form):
    """The queue's filters (GET). Choices are limited to what the official sees."""

    tab = forms.ChoiceField(
        label=_("show"),
        required=False,
        choices=[("waiting", _("waiting at my level")), ("all", _("everything in my region"))],
    )
    round = forms.TypedChoiceField(label=_("round"), required=False, coerce=int, empty_value=None)
    state = forms.ChoiceField(label=_("state"), required=False)
    county = forms.ChoiceField(label=_("county"), required=False)
    verdict = forms.ChoiceField(label=_("verdict"), required=False)
    score_min = forms.IntegerField(label=_("score from"), required=False, min_value=0)
    score_max = forms.IntegerField(label=_("score to"), required=False, min_value=0)
    industry = forms.CharField(
        label=_("industry code"),
        required=False,
        max_length=5,
        help_text=_("A GB/T 4754 section letter or code prefix, e.g. C or C34."),
    )
    size_class = forms.ChoiceField(label=_("size class"), required=False)
    q = forms.CharField(label=_("name or credit code"), required=False, max_length=100)
    sort = forms.ChoiceField(label=_("sort by"), required=False)

    def __init__(self, *args, rounds, counties, default_tab: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_tab = default_tab
        self.fields["tab"].initial = default_tab
        self.fields["round"].choices = [
            ("", _("any")),
            *[(r.pk, f"{r.program.name} · {r.name}") for r in rounds],
        ]
        self.fields["state"].choices = [("", _("any"))] + [
            (value, label) for value, label in Application.State.choices if value != Application.State.DRAFT
        ]
        grouped: dict[str, list[tuple[str, str]]] = {}
        for county in counties:
            parent = county.parent.name if county.parent_id else ""
            grouped.setdefault(parent, []).append((county.code, county.name))
        self.fields["county"].choices = [("", _("any")), *grouped.items()]
        self.fields["verdict"].choices = [("", _("any")), *Screening.Verdict.choices]
        self.fields["size_class"].choices = [("", _("any")), *[(s.value, s.label) for s in SizeClass]]
        self.fields["sort"].choices = list(SORT_LABELS.items())
        self.fields["sort"].initial = "-submitted"

    def clean_industry(self):
        value = (self.cleaned_data.get("industry") or "").strip().upper()
        if value and not INDUSTRY_PREFIX.match(value):
            raise forms.ValidationError(
                _("A section letter (A–T) optionally followed by digits, e.g. C or C34.")
            )
        return value

    def clean(self):
        data = super().clean()
        low, high = data.get("score_min"), data.get("score_max")
        if low is not None and high is not None and low > high:
            self.add_error("score_max", _("The upper bound is below the lower one."))
        return data

    def selector_kwargs(self) -> dict:
        """The arguments of selectors.application_queue; invalid filters are left out (and shown)."""
        d = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        tab = d.get("tab") or self.default_tab
        sort = d.get("sort") or "-submitted"
        return {
            "waiting": tab == "waiting",
            "round_id": d.get("round") or None,
            "state": d.get("state") or None,
            "county_code": d.get("county") or None,
            "verdict": d.get("verdict") or None,
            "score_min": None if d.get("score_min") is None else Decimal(d["score_min"]),
            "score_max": None if d.get("score_max") is None else Decimal(d["score_max"]),
            "industry": d.get("industry") or None,
            "size_class": d.get("size_class") or None,
            "search": (d.get("q") or "").strip() or None,
            "sort": sort if sort in SORTS else "-submitted",
        }

    @property
    def current_tab(self) -> str:
        d = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return d.get("tab") or self.default_tab


# --- acting on an application ------------------------------------------------------------------


class ReviewActForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, ACTION_LABELS[a]) for a in OFFICIAL_ACTIONS])
    opinion = forms.CharField(
        label=_("Opinion (审核意见)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required to return or reject: the enterprise reads it."),
    )
    minor = forms.BooleanField(
        label=_("Minor correction: the resubmission comes straight back to this level"),
        required=False,
    )


class BulkRecommendForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=())  # choices: the rows the user may see
    opinion = forms.CharField(
        label=_("Opinion for every selected application"), required=False, max_length=2000
    )

    def __init__(self, *args, visible_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(pk, pk) for pk in visible_ids]
        self.fields["ids"].error_messages["required"] = _("Select at least one application.")
        # SECURITY: an id the user cannot see is refused like one that does not exist.
        self.fields["ids"].error_messages["invalid_choice"] = _(
            "Some of the selected applications do not exist."
        )


# --- experts ---------------------------------------------------------------------------------


class ExpertScoreForm(forms.Form):
    """One number per indicator the programme marks for expert judgement, and an opinion."""

    opinion = forms.CharField(
        label=_("Your opinion"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )

    def __init__(self, *args, indicators: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        score_fields = {}
        for ind in indicators:
            score_fields[f"score_{ind['code']}"] = forms.DecimalField(
                label=f"{ind['label']}",
                min_value=0,
                max_value=Decimal(str(ind["max"])),
                max_digits=6,
                decimal_places=2,
                help_text=_("0 to %(max)s points") % {"max": ind["max"]},
                widget=forms.NumberInput(attrs={"step": "any", "min": 0, "max": ind["max"]}),
            )
        # The scores come first, then the opinion.
        self.fields = {**score_fields, "opinion": self.fields["opinion"]}

    def scores(self) -> dict[str, str]:
        return {ind["code"]: str(self.cleaned_data[f"score_{ind['code']}"]) for ind in self.indicators}

    def apply_errors(self, error) -> None:
        items = error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
        for key, messages in items:
            field = f"score_{key.split('.', 1)[1]}" if key and key.startswith("scores.") else key
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
