import importlib

import pytest
from django.test import override_settings

from registry.models import Role, Technique
from tests.factories import MembershipFactory, SiteFactory, member

_FAST_HASHER = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """PBKDF2 is deliberately slow; tests only need passwords to round-trip."""
    _FAST_HASHER.enable()
    yield
    _FAST_HASHER.disable()


def add_reference_techniques() -> None:
    """The rows the techniques data migration writes (idempotent)."""
    from django.apps import apps

    importlib.import_module("registry.migrations.0002_techniques").add_techniques(apps, None)


@pytest.fixture(autouse=True, scope="session")
def _flushes_may_truncate_the_access_log():
    """On PostgreSQL the access log refuses TRUNCATE (registry migration 0008) unless the
    transaction set registry.audit.TRUNCATE_SETTING. Between transactional tests the test
    database is flushed (a TRUNCATE of every table): only that flush sets it."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    from registry.audit import TRUNCATE_SETTING

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if statements:
            statements = [f"SELECT set_config('{TRUNCATE_SETTING}', 'on', true)", *statements]
        return statements

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(autouse=True)
def _reference_rows_survive_flushes(request, django_db_blocker):
    """A transactional or live-server test empties every table when it ends, including the
    techniques the data migration wrote: every database test starts by putting them back
    when they are gone, so that tests pass in any order and with any -m selection."""
    if "_django_db_helper" in request.fixturenames:
        with django_db_blocker.unblock():
            if not Technique.objects.exists():
                add_reference_techniques()
    yield


@pytest.fixture
def site_a(db):
    return SiteFactory(code="site-a", name="Hospital A")


@pytest.fixture
def site_b(db):
    return SiteFactory(code="site-b", name="Hospital B")


@pytest.fixture
def surgeon_a(site_a):
    return member(site_a, Role.SURGEON, username="surgeon-a")


@pytest.fixture
def surgeon_b(site_b):
    return member(site_b, Role.SURGEON, username="surgeon-b")


@pytest.fixture
def coordinator(site_a, site_b):
    user = member(site_a, Role.COORDINATOR, username="coordinator")
    MembershipFactory(user=user, site=site_b, role=Role.COORDINATOR)
    return user


@pytest.fixture
def site_admin_a(site_a):
    return member(site_a, Role.SITE_ADMIN, username="admin-a")
