from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from outcomes.quality.models import QualityRun, Review


@admin.register(QualityRun)
class QualityRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "status", "trigger", "scope_key", "as_of", "n_findings", "created_at")
    list_filter = ("status", "trigger")
    readonly_fields = [f.name for f in QualityRun._meta.fields]


@admin.register(Review)
class ReviewAdmin(SimpleHistoryAdmin):
    list_display = ("rule", "record_type", "record_id", "item", "decision", "reviewed_by")
    list_filter = ("decision", "rule", "site")
    readonly_fields = ("reviewed_at",)
