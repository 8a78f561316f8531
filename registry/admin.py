"""The admin: reference tables and memberships are edited here; clinical records are
searched, read and corrected here through the same edit service as the pages.

Clinical records (patients, fractures, procedures, treated levels, adverse events, visits,
radiographs):
- no add (cases are entered through the pages or the API, by their create services);
- a change goes through `clinical_update`: the edit's version is a hidden field, so an edit
  begun before someone else's save is refused (and a page form begun before an admin's save
  is refused in turn); the change is attributed in history and announced; the parent of a
  record (a patient's site, a visit's procedure, ...) is read-only here;
- related rows shown inline are read-only;
- delete only by a superuser; simple-history keeps the deleted row with who deleted it, and
  the admin log records it.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from registry import admin_two_factor  # noqa: F401 - TOTP devices: 404, not 500, for a missing one
from registry.models import (
    AdverseEvent,
    ApiToken,
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    RadiographicMeasurement,
    Site,
    SiteMembership,
    Technique,
    TreatedLevel,
)
from registry.selectors import patients_visible_to
from registry.services import ConflictError, clinical_update
from registry.services.base import announce_change
from registry.services.edits import patient_of

VERSION_FIELD = "expected_version"


class ClinicalAdminForm(forms.ModelForm):
    """Carries the version the edit began from."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields[VERSION_FIELD].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        seen = data.get(VERSION_FIELD)
        if self.instance.pk and seen is not None:
            current = (
                type(self.instance)
                .objects.filter(pk=self.instance.pk)
                .values_list("version", flat=True)
            )
            if current and current[0] != seen:
                raise ValidationError(
                    "Someone saved this record after you opened it: nothing was saved. "
                    "Reload the page to see their change, then edit again."
                )
        return data


class ClinicalAdmin(SimpleHistoryAdmin):
    """Base of every clinical model's admin (see the module docstring)."""

    form = ClinicalAdminForm
    show_full_result_count = False
    # The fields that tie a record to its patient: never changed here.
    parent_fields: tuple[str, ...] = ()
    # The lookup from this model to Patient, for a staff member's visible rows.
    patient_lookup = "patient"

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return (*super().get_readonly_fields(request, obj), *self.parent_fields, "version")

    def get_fields(self, request: HttpRequest, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != VERSION_FIELD]
        return [*fields, VERSION_FIELD]

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        visible = patients_visible_to(user=request.user).values("pk")
        return queryset.filter(**{f"{self.patient_lookup}__in": visible})

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def save_model(self, request: HttpRequest, obj: models.Model, form, change: bool) -> None:
        data = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name != VERSION_FIELD and name not in self.parent_fields
        }
        if not data:
            return
        fresh = type(obj).objects.get(pk=obj.pk)
        try:
            saved = clinical_update(
                user=request.user,
                instance=fresh,
                expected_version=form.cleaned_data[VERSION_FIELD],
                data=data,
            )
        except ConflictError as error:  # lost a race after the form's own check
            messages.error(request, str(error))
            return
        obj.version = saved.version

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        site_id = patient_of(obj).site_id
        obj._history_user = request.user
        super().delete_model(request, obj)
        announce_change(site_id=site_id, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = SiteMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [MembershipInline]


@admin.register(SiteMembership)
class SiteMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "site", "role"]
    list_filter = ["role", "site"]
    search_fields = ["user__username", "site__code"]
    list_select_related = ["user", "site"]


@admin.register(Technique)
class TechniqueAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "active", "display_order"]
    list_filter = ["active"]
    search_fields = ["code", "name"]


@admin.register(Patient)
class PatientAdmin(ClinicalAdmin):
    list_display = ["registry_id", "site", "sex", "date_of_birth", "consent_given", "withdrawn_at"]
    list_filter = ["site", "sex", "consent_given", ("withdrawn_at", admin.EmptyFieldListFilter)]
    search_fields = ["registry_id", "hospital_record_number", "family_name", "given_name"]
    list_select_related = ["site"]
    readonly_fields = ["registry_id", "withdrawn_at", "withdrawal_reason"]
    parent_fields = ("site",)
    patient_lookup = "pk"


@admin.register(Fracture)
class FractureAdmin(ClinicalAdmin):
    list_display = ["patient", "level", "episode", "genant_grade", "morphology", "aetiology"]
    list_filter = ["level", "genant_grade", "morphology", "aetiology"]
    search_fields = ["patient__registry_id"]
    list_select_related = ["patient"]
    parent_fields = ("patient",)


class TreatedLevelInline(ReadOnlyInline):
    model = TreatedLevel
    fields = ["fracture", "cement_volume_ml", "leakage", "devices_used", "devices_ruptured"]


@admin.register(Procedure)
class ProcedureAdmin(ClinicalAdmin):
    list_display = ["patient", "date", "technique", "approach", "anaesthesia", "surgeon"]
    list_filter = ["technique", "approach", "anaesthesia", "patient__site"]
    search_fields = ["patient__registry_id"]
    date_hierarchy = "date"
    list_select_related = ["patient", "technique", "surgeon"]
    raw_id_fields = ["surgeon"]
    inlines = [TreatedLevelInline]
    parent_fields = ("patient",)


@admin.register(TreatedLevel)
class TreatedLevelAdmin(ClinicalAdmin):
    list_display = [
        "procedure",
        "fracture",
        "cement_volume_ml",
        "leakage",
        "devices_used",
        "devices_ruptured",
    ]
    list_filter = ["leakage", "leakage_symptomatic"]
    search_fields = ["procedure__patient__registry_id"]
    list_select_related = ["procedure__technique", "fracture"]
    parent_fields = ("procedure", "fracture")
    patient_lookup = "procedure__patient"


@admin.register(AdverseEvent)
class AdverseEventAdmin(ClinicalAdmin):
    list_display = ["procedure", "event_type", "onset_date", "clavien_dindo", "resolved"]
    list_filter = ["event_type", "clavien_dindo", "resolved"]
    search_fields = ["procedure__patient__registry_id"]
    list_select_related = ["procedure__technique"]
    raw_id_fields = ["treated_level"]
    parent_fields = ("procedure",)
    patient_lookup = "procedure__patient"


class RadiographInline(ReadOnlyInline):
    model = RadiographicMeasurement
    fields = ["treated_level", "anterior_height_mm", "rfvh_percent", "lka_degrees"]
    readonly_fields = ["rfvh_percent"]


@admin.register(FollowUpVisit)
class FollowUpVisitAdmin(ClinicalAdmin):
    list_display = ["procedure", "timepoint", "visit_date", "vas", "odi_percent"]
    list_filter = ["timepoint"]
    search_fields = ["procedure__patient__registry_id"]
    list_select_related = ["procedure__technique"]
    readonly_fields = ["odi_percent"]
    inlines = [RadiographInline]
    parent_fields = ("procedure",)
    patient_lookup = "procedure__patient"


@admin.register(RadiographicMeasurement)
class RadiographicMeasurementAdmin(ClinicalAdmin):
    list_display = ["visit", "treated_level", "anterior_height_mm", "rfvh_percent", "lka_degrees"]
    list_filter = ["film_position", "visit__timepoint"]
    search_fields = ["visit__procedure__patient__registry_id"]
    list_select_related = ["visit__procedure__technique", "treated_level"]
    readonly_fields = ["rfvh_percent"]
    parent_fields = ("visit", "treated_level")
    patient_lookup = "visit__procedure__patient"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Administrators see and revoke (delete) any token; keys are made only by their owner
    (the tokens page) or `manage.py create_api_token`, since the key is shown once."""

    list_display = ["name", "user", "token_key", "scope", "deidentified", "created", "expiry"]
    list_filter = ["scope", "deidentified"]
    search_fields = ["name", "user__username", "token_key"]
    list_select_related = ["user"]
    readonly_fields = ["digest", "token_key", "user", "created"]
    fields = ["name", "user", "token_key", "scope", "deidentified", "created", "expiry"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        count = queryset.count()
        queryset.delete()
        self.message_user(request, f"{count} token(s) revoked.")
