"""Forms: a cohort definition, and the parameters of an analysis."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from outcomes import cohorts
from outcomes.analyses import Analysis
from outcomes.analyses.parameters import Choice, Date, Integer, MultiChoice
from outcomes.models import Cohort
from registry.models import Sex, Technique
from registry.selectors import sites_visible_to

_BLANK = [("", "Any")]


class CohortForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    techniques = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: all."
    )
    sites = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every site you may see.",
    )
    date_from = forms.DateField(
        label="Procedure from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="Procedure to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    age_min = forms.IntegerField(label="Age from", required=False, min_value=0, max_value=120)
    age_max = forms.IntegerField(label="Age to", required=False, min_value=0, max_value=120)
    sexes = forms.MultipleChoiceField(
        label="Sex", choices=Sex.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    genant_grades = forms.TypedMultipleChoiceField(
        label="Genant grades",
        choices=[(g, str(g)) for g in cohorts.GENANT_GRADES],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Every treated vertebra has one of these grades.",
    )
    region = forms.ChoiceField(
        choices=[
            *_BLANK,
            ("thoracic", "Thoracic (T1-T12)"),
            ("lumbar", "Lumbar (L1-L5)"),
            ("thoracolumbar", "Thoracolumbar junction (T11-L2)"),
        ],
        required=False,
        help_text="Every treated vertebra lies in it.",
    )
    levels = forms.ChoiceField(
        label="Treated levels",
        choices=[*_BLANK, ("single", "Single level"), ("multi", "Multi-level")],
        required=False,
    )
    auto_refresh = forms.BooleanField(
        label="Refresh the standard report nightly and after data changes",
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["techniques"].choices = list(
            Technique.objects.filter(active=True).values_list("code", "name")
        )
        self.fields["sites"].choices = list(sites_visible_to(user=user).values_list("code", "name"))
        for rule in cohorts.RULES:
            self.fields[rule.field] = forms.BooleanField(
                label=rule.label, required=False, initial=True
            )
        bootstrap(self)

    @property
    def rule_fields(self) -> list[forms.BoundField]:
        return [self[rule.field] for rule in cohorts.RULES]

    @classmethod
    def initial_for(cls, cohort: Cohort) -> dict[str, Any]:
        return {
            "name": cohort.name,
            "description": cohort.description,
            "auto_refresh": cohort.auto_refresh,
            **cohort.filters,
            **cohort.rules,
        }

    def definition(self) -> dict[str, Any]:
        """The cleaned data as the service's keyword arguments."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "auto_refresh": data["auto_refresh"],
            "filters": {key: data.get(key) for key in cohorts.FILTER_KEYS},
            "rules": {field: data[field] for field in cohorts.RULE_FIELDS},
        }


def bootstrap(form: forms.Form) -> None:
    """Bootstrap classes on every widget, so templates can print fields as they are."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple)):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = css


def _named(parameter: Choice | MultiChoice) -> list[tuple[str, str]]:
    names = parameter.names or {}
    return [(choice, names.get(choice, choice)) for choice in parameter.choices]


def parameters_form_class(analysis: Analysis) -> type[forms.Form]:
    """A form with one field per declared parameter of `analysis`."""
    fields: dict[str, forms.Field] = {}
    for name, parameter in analysis.parameters.items():
        if isinstance(parameter, Choice):
            fields[name] = forms.ChoiceField(
                label=parameter.label,
                choices=_named(parameter),
                initial=parameter.default,
                required=False,  # absent means the default (Choice.clean)
            )
        elif isinstance(parameter, MultiChoice):
            fields[name] = forms.MultipleChoiceField(
                label=parameter.label,
                choices=_named(parameter),
                initial=list(parameter.default),
                required=parameter.minimum > 0,
                widget=forms.CheckboxSelectMultiple,
            )
        elif isinstance(parameter, Date):
            fields[name] = forms.DateField(
                label=parameter.label,
                required=False,
                help_text="Empty: today.",
                widget=forms.DateInput(attrs={"type": "date"}),
            )
        elif isinstance(parameter, Integer):
            fields[name] = forms.IntegerField(
                label=parameter.label,
                initial=parameter.default,
                min_value=parameter.minimum,
                max_value=parameter.maximum,
            )

    def init(self: forms.Form, *args: Any, **kwargs: Any) -> None:
        forms.Form.__init__(self, *args, **kwargs)
        bootstrap(self)

    namespace = {**fields, "__init__": init}
    return type(f"{analysis.name.title()}ParametersForm", (forms.Form,), namespace)
