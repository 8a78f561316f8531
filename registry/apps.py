from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Clinical registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from registry import audit_receivers, two_factor

        audit_receivers.connect()
        user_logged_in.connect(two_factor.remember_requirement, dispatch_uid="second-factor")
