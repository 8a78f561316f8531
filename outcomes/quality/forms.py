"""Forms of the data-quality pages: the findings filter and the review of a finding."""

from __future__ import annotations

from django import forms

from outcomes.quality.models import Decision, FindingStatus, Severity
from outcomes.quality.rules import CATEGORIES, RULES
from outcomes.quality.selectors import Filters
from registry.models import Site

TO_DO, ALL = "todo", "all"
_STATUSES = {
    TO_DO: (FindingStatus.OPEN.value, FindingStatus.WILL_CORRECT.value),
    ALL: (),
    **{status: (status,) for status in FindingStatus.values},
}


class FindingFilterForm(forms.Form):
    """GET filters; a bad value is a field error shown next to the filter, never a 500."""

    site = forms.ChoiceField(required=False)
    rule = forms.ChoiceField(
        required=False,
        choices=[("", "Every rule"), *((r.code, f"{r.code}: {r.title}") for r in RULES)],
    )
    category = forms.ChoiceField(required=False, choices=[("", "Every kind"), *CATEGORIES.items()])
    severity = forms.ChoiceField(
        required=False, choices=[("", "Every severity"), *Severity.choices]
    )
    status = forms.ChoiceField(
        required=False,
        choices=[
            (FindingStatus.OPEN.value, "Open"),
            ("all", "Every status"),
            *((c, label) for c, label in FindingStatus.choices if c != "open"),
        ],
    )

    def __init__(self, data, *, sites: list[Site]):
        super().__init__(data)
        self.sites = {site.code: site for site in sites}
        self.fields["site"].choices = [
            ("", "All my sites"),
            *((site.code, site.name) for site in sites),
        ]

    def filters(self) -> Filters:
        if not self.is_valid():
            return Filters()
        data = self.cleaned_data
        return Filters(
            site=self.sites.get(data["site"]),
            rule=data["rule"],
            severity=data["severity"],
            statuses=_STATUSES[data["status"] or TO_DO],
            category=data["category"],
        )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Why the value is right, or who corrects it and how.",
    )
