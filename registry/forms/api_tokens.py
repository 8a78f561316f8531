from django import forms

from registry.models import TokenScope
from registry.services.api_tokens import MAX_EXPIRY_DAYS, deidentified_by_default


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="What is it for?")
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.READ)
    deidentified = forms.BooleanField(
        required=False, label="De-identified: never send names, record numbers or birth dates"
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        label="Expires after (days; empty: until revoked)",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deidentified"].initial = deidentified_by_default(user)
