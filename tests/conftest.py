import pytest
from django.test import override_settings

from registry.models import Role
from tests.factories import MembershipFactory, SiteFactory, member

_FAST_HASHER = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """PBKDF2 is deliberately slow; tests only need passwords to round-trip."""
    _FAST_HASHER.enable()
    yield
    _FAST_HASHER.disable()


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
