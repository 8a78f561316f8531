"""Demo sites and accounts, created idempotently; the passwords are fixed and printed.

These accounts exist only for a local demo (`make run`): never seed a production database.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from registry.models import Role, Site, SiteMembership

SYSTEM_USERNAME = "seed_demo"  # history rows of seeded records are attributed to it
MAX_SITES = 50
NAMED_SITES = (
    ("north", "Northgate University Hospital"),
    ("river", "Riverside General Hospital"),
    ("lake", "Lakeview Spine Centre"),
    ("hill", "Hillcrest Regional Hospital"),
    ("harbour", "Harbour City Hospital"),
    ("valley", "Valley Orthopaedic Institute"),
    ("park", "Parkside Medical Centre"),
    ("bridge", "Bridgewater Teaching Hospital"),
)
PASSWORDS = {
    "admin": "ovcf-admin",
    Role.SURGEON: "ovcf-surgeon",
    Role.COORDINATOR: "ovcf-coordinator",
    Role.SITE_ADMIN: "ovcf-siteadmin",
}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str  # a Role value, or "superuser"
    site_codes: tuple[str, ...]

    @property
    def role_label(self) -> str:
        return "Superuser" if self.role == "superuser" else Role(self.role).label


def demo_sites(count: int) -> list[tuple[str, str]]:
    """(code, name) of the first `count` demo sites."""
    extra = [(f"site{k}", f"Demo Hospital {k}") for k in range(len(NAMED_SITES) + 1, count + 1)]
    return [*NAMED_SITES, *extra][:count]


def demo_accounts(site_codes: list[str]) -> list[DemoAccount]:
    codes = tuple(site_codes)
    accounts = [
        DemoAccount("admin", PASSWORDS["admin"], "superuser", ()),
        DemoAccount("coordinator", PASSWORDS[Role.COORDINATOR], Role.COORDINATOR, codes),
    ]
    for code in codes:
        accounts.append(
            DemoAccount(f"surgeon-{code}", PASSWORDS[Role.SURGEON], Role.SURGEON, (code,))
        )
    for code in codes:
        accounts.append(
            DemoAccount(f"siteadmin-{code}", PASSWORDS[Role.SITE_ADMIN], Role.SITE_ADMIN, (code,))
        )
    return accounts


@transaction.atomic
def ensure_demo_users(site_count: int) -> tuple[list[Site], dict[str, int], AbstractBaseUser]:
    """Create what is missing; return the sites, surgeon ids by site code, the system user.

    An existing account keeps its password (someone may have changed it on purpose).
    """
    user_model = get_user_model()
    sites = []
    for code, name in demo_sites(site_count):
        site, _ = Site.objects.get_or_create(code=code, defaults={"name": name})
        sites.append(site)
    by_code = {site.code: site for site in sites}

    hashes: dict[str, str] = {}  # one hash per demo password: hashing is slow by design
    users: dict[str, int] = {}
    for account in demo_accounts(list(by_code)):
        user = user_model.objects.filter(username=account.username).first()
        if user is None:
            if account.password not in hashes:
                hashes[account.password] = make_password(account.password)
            superuser = account.role == "superuser"
            user = user_model.objects.create(
                username=account.username,
                email=f"{account.username}@demo.invalid",
                password=hashes[account.password],
                is_staff=superuser,
                is_superuser=superuser,
            )
        users[account.username] = user.pk
        for code in account.site_codes:
            SiteMembership.objects.get_or_create(
                user=user, site=by_code[code], defaults={"role": account.role}
            )

    system, created = user_model.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"first_name": "Demo data", "last_name": "generator", "is_active": False},
    )
    if created:
        system.set_unusable_password()
        system.save(update_fields=["password"])
    surgeons = {code: users[f"surgeon-{code}"] for code in by_code}
    return sites, surgeons, system
