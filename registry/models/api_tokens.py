from django.db import models
from knox.models import AbstractAuthToken


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(AbstractAuthToken):
    """A REST API token (django-rest-knox: only the SHA-512 digest is stored).

    It acts with its user's sites and roles; `scope` may only narrow them (a read-only
    token never writes) and `deidentified` removes every identifying field from its
    responses (registry/identifiers.py).
    """

    name = models.CharField(max_length=100, help_text="What the token is for, e.g. a dashboard.")
    scope = models.CharField(max_length=5, choices=TokenScope.choices, default=TokenScope.READ)
    deidentified = models.BooleanField(
        "de-identified",
        default=True,
        help_text="Responses never carry identifying fields (names, record numbers, birth date).",
    )

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…, {self.user})"

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE
