from django.conf import settings
from django.db import models

from registry.models.choices import Role


class Site(models.Model):
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SiteMembership(models.Model):
    """A user's role at a site; which patients a user may see follows from these rows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="membership_one_per_user_site")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.site.code}"


class Technique(models.Model):
    """Reference table of augmentation techniques; administrators may add to it."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "code"]

    def __str__(self) -> str:
        return self.code
