"""The dashboards' filters, read from the URL so a view can be shared and bookmarked:
saved cohort, site, procedure date range, Genant grade, region and technique.

With a saved cohort the URL's filters narrow its definition (its inclusion rules kept);
without one the dashboards show every patient the viewer may see, without the seed
studies' inclusion rules.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from outcomes import cohorts
from outcomes.models import Cohort
from outcomes.selectors import cohorts_visible_to
from registry.models import Technique
from registry.selectors import sites_visible_to

NO_RULES = dict.fromkeys(cohorts.RULE_FIELDS, False)
REGIONS = [
    ("", "Any"),
    ("thoracic", "Thoracic (T1-T12)"),
    ("lumbar", "Lumbar (L1-L5)"),
    ("thoracolumbar", "Thoracolumbar junction (T11-L2)"),
]
# URL parameter -> cohort filter key
URL_KEYS = {
    "site": "sites",
    "technique": "techniques",
    "genant": "genant_grades",
    "region": "region",
    "date_from": "date_from",
    "date_to": "date_to",
}


class DashboardFilters(forms.Form):
    cohort = forms.ModelChoiceField(
        queryset=Cohort.objects.none(), required=False, empty_label="All my patients"
    )
    site = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    date_from = forms.DateField(
        label="Procedure from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="Procedure to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    genant = forms.TypedMultipleChoiceField(
        label="Genant grade",
        choices=[(g, str(g)) for g in cohorts.GENANT_GRADES],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    region = forms.ChoiceField(choices=REGIONS, required=False)
    technique = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, data=None, *, user: AbstractBaseUser, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["cohort"].queryset = cohorts_visible_to(user=user).filter(dashboard_view=False)
        self.fields["site"].choices = [
            (site.code, site.name) for site in sites_visible_to(user=user).order_by("code")
        ]
        self.fields["technique"].choices = [
            (t.code, t.code) for t in Technique.objects.filter(active=True)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end of the date range is before its start.")
        return data

    def definition(self, *, with_sites: bool = True) -> tuple[dict[str, Any], dict[str, bool]]:
        """(filters, rules) of the chosen view; `with_sites=False` drops the site filter
        (the registry-wide reference and the benchmarks compare every site)."""
        data = self.cleaned_data
        cohort = data.get("cohort")
        filters = dict(cohort.filters) if cohort else {}
        rules = dict(cohort.rules) if cohort else dict(NO_RULES)
        for name, key in URL_KEYS.items():
            value = data.get(name)
            if value:
                filters[key] = value.isoformat() if hasattr(value, "isoformat") else value
        if not with_sites:
            filters.pop("sites", None)
        return cohorts.normalise_filters(filters), rules

    def saved_cohort_if_same(self, filters, rules) -> Cohort | None:
        cohort = self.cleaned_data.get("cohort")
        if cohort is None:
            return None
        same = cohorts.definition_hash(filters, rules) == cohort.definition_hash
        return cohort if same else None
