from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes and statistics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from outcomes.receivers import on_clinical_data_changed
        from registry.signals import clinical_data_changed

        clinical_data_changed.connect(
            on_clinical_data_changed, dispatch_uid="outcomes.note_data_changed"
        )
