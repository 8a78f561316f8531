from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "outcomes.quality"
    label = "quality"
    verbose_name = "Data quality and completeness"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the Celery tasks in every process (web included): the services dispatch
        # them by name, so without this import the web process knows no `quality.*` task.
        from outcomes.quality import tasks  # noqa: F401
