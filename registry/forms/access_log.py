"""Filters of the access-log page (and of its CSV export)."""

from django import forms

from registry.models import AccessAction


class AccessLogFilterForm(forms.Form):
    action = forms.ChoiceField(choices=[("", "Any action"), *AccessAction.choices], required=False)
    username = forms.CharField(max_length=150, required=False, label="User")
    object_id = forms.CharField(
        max_length=100, required=False, label="Object", help_text="A registry ID, a token..."
    )
    ip_address = forms.GenericIPAddressField(required=False, label="Address")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end date is before the start date.")
        return data


class UnlockForm(forms.Form):
    username = forms.CharField(max_length=255, required=False)
    ip_address = forms.GenericIPAddressField(required=False)

    def clean(self):
        data = super().clean()
        if not data.get("username") and not data.get("ip_address"):
            raise forms.ValidationError("Name a username or an address to unlock.")
        return data
