from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "outcomes.quality"
    label = "quality"
    verbose_name = "Data quality and completeness"
    default_auto_field = "django.db.models.BigAutoField"
