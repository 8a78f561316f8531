from django.contrib import admin

from outcomes.models import Cohort, Export, PendingRefresh, StatisticsRun


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "auto_refresh", "definition_hash", "updated_at"]
    list_filter = ["auto_refresh"]
    search_fields = ["name", "owner__username", "definition_hash"]
    list_select_related = ["owner"]
    readonly_fields = ["definition_hash", "created_at", "updated_at"]
    autocomplete_fields = ["owner"]


@admin.register(StatisticsRun)
class StatisticsRunAdmin(admin.ModelAdmin):
    """Read-only: runs are written by the service and the task, never by hand."""

    list_display = [
        "id",
        "cohort",
        "analysis",
        "status",
        "progress",
        "trigger",
        "requested_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "analysis", "trigger"]
    search_fields = ["cohort__name", "data_version", "task_id"]
    list_select_related = ["cohort", "requested_by"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("result")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PendingRefresh)
class PendingRefreshAdmin(admin.ModelAdmin):
    list_display = ["site", "first_change_at", "last_change_at"]
    list_select_related = ["site"]


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    """The record of every export (who, when, cohort, rows, format, level): read-only."""

    list_display = ["id", "owner", "cohort_name", "format", "level", "status", "created_at"]
    list_filter = ["format", "level", "status"]
    search_fields = ["owner__username", "cohort_name", "cohort_hash"]
    list_select_related = ["owner"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
