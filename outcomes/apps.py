from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes and statistics"
    default_auto_field = "django.db.models.BigAutoField"
