import pytest

from registry.models import Role
from tests.factories import SiteFactory, member


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
    from tests.factories import MembershipFactory

    MembershipFactory(user=user, site=site_b, role=Role.COORDINATOR)
    return user


@pytest.fixture
def site_admin_a(site_a):
    return member(site_a, Role.SITE_ADMIN, username="admin-a")
