from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

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
class PatientAdmin(SimpleHistoryAdmin):
    list_display = ["registry_id", "site", "sex", "date_of_birth", "consent_given", "withdrawn_at"]
    list_filter = ["site", "sex", "consent_given", ("withdrawn_at", admin.EmptyFieldListFilter)]
    search_fields = ["registry_id", "hospital_record_number", "family_name", "given_name"]
    list_select_related = ["site"]
    readonly_fields = ["registry_id", "withdrawn_at", "withdrawal_reason", "version"]
    show_full_result_count = False


@admin.register(Fracture)
class FractureAdmin(SimpleHistoryAdmin):
    list_display = ["patient", "level", "episode", "genant_grade", "morphology", "aetiology"]
    list_filter = ["level", "genant_grade", "morphology", "aetiology"]
    search_fields = ["patient__registry_id"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient"]
    show_full_result_count = False


class TreatedLevelInline(admin.TabularInline):
    model = TreatedLevel
    extra = 0
    raw_id_fields = ["fracture"]


@admin.register(Procedure)
class ProcedureAdmin(SimpleHistoryAdmin):
    list_display = ["patient", "date", "technique", "approach", "anaesthesia", "surgeon"]
    list_filter = ["technique", "approach", "anaesthesia", "patient__site"]
    search_fields = ["patient__registry_id"]
    date_hierarchy = "date"
    list_select_related = ["patient", "technique", "surgeon"]
    raw_id_fields = ["patient", "surgeon"]
    inlines = [TreatedLevelInline]
    show_full_result_count = False


@admin.register(TreatedLevel)
class TreatedLevelAdmin(SimpleHistoryAdmin):
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
    raw_id_fields = ["procedure", "fracture"]
    show_full_result_count = False


@admin.register(AdverseEvent)
class AdverseEventAdmin(SimpleHistoryAdmin):
    list_display = ["procedure", "event_type", "onset_date", "clavien_dindo", "resolved"]
    list_filter = ["event_type", "clavien_dindo", "resolved"]
    search_fields = ["procedure__patient__registry_id"]
    list_select_related = ["procedure__technique"]
    raw_id_fields = ["procedure", "treated_level"]
    show_full_result_count = False


class RadiographInline(admin.TabularInline):
    model = RadiographicMeasurement
    extra = 0
    raw_id_fields = ["treated_level"]
    readonly_fields = ["rfvh_percent"]


@admin.register(FollowUpVisit)
class FollowUpVisitAdmin(SimpleHistoryAdmin):
    list_display = ["procedure", "timepoint", "visit_date", "vas", "odi_percent"]
    list_filter = ["timepoint"]
    search_fields = ["procedure__patient__registry_id"]
    list_select_related = ["procedure__technique"]
    raw_id_fields = ["procedure"]
    readonly_fields = ["odi_percent"]
    inlines = [RadiographInline]
    show_full_result_count = False


@admin.register(RadiographicMeasurement)
class RadiographicMeasurementAdmin(SimpleHistoryAdmin):
    list_display = ["visit", "treated_level", "anterior_height_mm", "rfvh_percent", "lka_degrees"]
    list_filter = ["film_position", "visit__timepoint"]
    search_fields = ["visit__procedure__patient__registry_id"]
    list_select_related = ["visit__procedure__technique", "treated_level"]
    raw_id_fields = ["visit", "treated_level"]
    readonly_fields = ["rfvh_percent"]
    show_full_result_count = False


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
