from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes and statistics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the Celery tasks in every process (web included): services dispatch them
        # by name, so that they never import the task module.
        from outcomes import tasks  # noqa: F401
        from outcomes.receivers import on_clinical_data_changed
        from registry.signals import clinical_data_changed

        clinical_data_changed.connect(
            on_clinical_data_changed, dispatch_uid="outcomes.note_data_changed"
        )
